"""Who holds a bearer token or a session cookie, kept in memory for a short while.

Every authenticated request resolves its actor: one query joining the token (or session),
its account and its role grants. On the load benchmark that query was a third of a small
request's CPU in the web worker (about 300 µs of client work for a round trip) and the
only database work of a registration before its batch. `ActorCache` keeps, per worker
process, what that query gave for a token or a session, for at most
`CAMPUS_AUTH_CACHE_SECONDS`.

What makes it safe: a change reaches every worker when it commits, not when the entry
expires.

- **What counts as a change**, and how it is announced at commit to every process (a
  `NOTIFY campus_auth` naming the accounts, sent inside the transaction): see
  campus.auth.changes. The committing process drops the entries itself after its commit,
  before its response is sent.
- **How a worker hears it.** Each cache holds one connection that `LISTEN`s. Every lookup
  first reads what has arrived on it, without waiting (one non-blocking `recv`), and drops
  the entries of the accounts named.
- **Races.** A lookup that missed reads the database, then stores what it read only if no
  change arrived meanwhile (a generation count), so a read made before a revocation
  committed is never stored after it.
- **When it cannot hear.** If the listening connection is lost, the cache is switched off
  (every lookup reads the database) and cleared when it reconnects, at most every
  `RECONNECT_SECONDS`. On SQLite (one machine, the demo and the tests) there is no
  notification: no cache. A silent loss of the connection, which a lookup cannot tell, is
  bounded by the entry's lifetime.
- **What it keeps.** The actor, the token id, the expiry (checked on every hit) and the
  last use, keyed by the SHA-256 of the token or cookie (never the value itself); at most
  `MAX_ENTRIES` entries, the oldest evicted first. Unknown tokens are not kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from campus.auth import changes
from campus.auth.actor import Actor
from campus.auth.changes import CHANNEL, EVERYONE

log = logging.getLogger("campus.auth.cache")

MAX_ENTRIES = 20_000
RECONNECT_SECONDS = 5.0


@dataclass(frozen=True)
class Entry:
    """What the actor query gave for one token or session."""

    actor: Actor
    account_id: str
    expires_at: dt.datetime
    token_id: str = ""
    last_used_at: dt.datetime | None = None
    stored: float = 0.0  # time.monotonic() when stored


class ActorCache:
    """Actors by the digest of their token or cookie, for one PostgreSQL database, in one
    process. A cache made with `seconds=0`, or for SQLite, keeps nothing."""

    def __init__(self, engine: Any, seconds: float):
        self.engine = engine
        self.seconds = seconds
        self.enabled = seconds > 0 and engine.dialect.name == "postgresql"
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()  # the entries
        self._listen_lock = threading.Lock()  # the listening connection
        self._generation = 0
        self._listener: Any = None
        self._pid = 0
        self._retry_at = 0.0
        if self.enabled:
            changes.on_commit(self)

    # --- lookups ---------------------------------------------------------------------------

    def get(self, digest: str) -> Entry | None:
        """The live entry for a digest, after hearing the changes that have arrived."""
        if not self.enabled or not self._listening():
            return None
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None:
            return None
        if time.monotonic() - entry.stored > self.seconds:
            self._drop(digest)
            return None
        return entry

    def generation(self) -> int:
        """Read before a database lookup; give it back to `put`."""
        return self._generation

    def put(self, digest: str, entry: Entry, generation: int) -> None:
        """Keep an entry read from the database, unless a change arrived since `generation`
        was read (the entry may predate it) or the cache cannot hear changes."""
        if not self.enabled or self._listener is None:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries[digest] = dataclasses.replace(entry, stored=time.monotonic())
            self._entries.move_to_end(digest)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def used(self, digest: str, at: dt.datetime) -> None:
        """A token's use was noted: its entry says so (the next note is due in 5 minutes)."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is not None:
                self._entries[digest] = dataclasses.replace(entry, last_used_at=at)

    def forget(self, accounts: set[str]) -> None:
        """Drop the entries of these accounts (all of them for EVERYONE)."""
        with self._lock:
            self._generation += 1
            if EVERYONE in accounts:
                self._entries.clear()
                return
            for digest in [d for d, e in self._entries.items() if e.account_id in accounts]:
                del self._entries[digest]

    def _drop(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def __len__(self) -> int:
        return len(self._entries)

    # --- hearing changes ---------------------------------------------------------------------

    def _listening(self) -> bool:
        """Read the notifications that have arrived; connect (again) when needed. False when
        changes cannot be heard: the cache is then not used. One thread at a time uses the
        listening connection (each server worker looks up from its event loop alone; an app
        driven from several threads, as tests do, takes turns)."""
        with self._listen_lock:
            return self._hear()

    def _hear(self) -> bool:
        if self._pid != os.getpid():  # a forked child never uses its parent's connection
            self._listener, self._pid = None, os.getpid()
            self.forget({EVERYONE})
        if self._listener is None and not self._connect():
            return False
        from psycopg.pq import ConnStatus

        try:
            pgconn = self._listener.pgconn
            # Twice: libpq reports a connection closed by the server (its last message read
            # by the first call) only on the next read.
            pgconn.consume_input()
            pgconn.consume_input()
            heard: set[str] = set()
            while (notice := pgconn.notifies()) is not None:
                heard.update(notice.extra.decode().split(","))
            if pgconn.status != ConnStatus.OK:
                raise ConnectionError("the listening connection is closed")
        except Exception as error:  # any failure: switch off, retry later
            self._lost(error)
            return False
        if heard:
            self.forget(heard)
        return True

    def _connect(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + RECONNECT_SECONDS
        try:
            import psycopg

            args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
            connection = psycopg.connect(*args, **{**kwargs, "autocommit": True})
            connection.execute(f"LISTEN {CHANNEL}")
        except Exception as error:
            log.warning("actor cache off: cannot listen for changes (%s)", type(error).__name__)
            return False
        self.forget({EVERYONE})  # changes made while not listening were not heard
        self._listener = connection
        return True

    def _lost(self, error: Exception) -> None:
        log.warning("actor cache off: the listening connection failed (%s)", type(error).__name__)
        listener, self._listener = self._listener, None
        self.forget({EVERYONE})
        with contextlib.suppress(Exception):  # already broken
            listener.close()

    def close(self) -> None:
        """Stop listening and keep nothing. A server's caches live as long as their worker
        (their connection closes with it); this is for a cache made and dropped sooner, as a
        test does."""
        self.enabled = False
        self.forget({EVERYONE})
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
