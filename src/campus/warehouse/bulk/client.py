"""A Bulk Data Access (v2) client: kick-off, status polling, manifest, downloads, delete.

Every request is retried on 429, 5xx and dropped connections with capped exponential backoff
that honours the server's `Retry-After`, and with a new token once when the server answers 401.
Downloads are streamed to disk (never held in memory), resumed with `Range` where the server
accepts it (restarted when it sends gzip, whose bytes cannot be resumed into), and checked:
each file's lines against the manifest's `count`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from campus.errors import CampusError
from campus.warehouse.bulk.smart import BackendAuth

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
RETRIED = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK = 1 << 20


class PullFailed(CampusError):
    """The hospital's server could not give the export (502: the other side failed)."""

    status = 502


class ExportGone(PullFailed):
    """The export's status URL is no longer known to the server (deleted or expired)."""


@dataclass
class Backoff:
    """Capped exponential backoff with jitter; a server's Retry-After is honoured up to the
    cap (a server asking for an hour is not waited on for an hour between two polls)."""

    retries: int = 6
    first: float = 1.0
    cap: float = 60.0

    @classmethod
    def from_env(cls) -> Backoff:
        """`CAMPUS_PULL_RETRIES`, `CAMPUS_PULL_RETRY_SECONDS` (first wait) and
        `CAMPUS_PULL_RETRY_CAP` (longest wait), see `config.PullSettings`."""
        from campus.warehouse.bulk.config import pull_settings

        found = pull_settings()
        return cls(retries=found.retries, first=found.retry_seconds, cap=found.retry_cap)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        jitter = 0.5 + random.random() / 2  # noqa: S311 - spreads retries, no secret
        wait = min(self.cap, self.first * 2**attempt) * jitter
        asked = _retry_after(retry_after)
        if asked is not None:
            wait = max(wait, min(asked, self.cap))
        return min(wait, self.cap)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def outcome_text(response: httpx.Response) -> str:
    """The OperationOutcome's diagnostics (or the status line), shortened."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        texts = [
            str(issue.get("diagnostics") or (issue.get("details") or {}).get("text") or "")
            for issue in body.get("issue") or []
            if isinstance(issue, dict)
        ]
        found = "; ".join(t for t in texts if t)
        if found:
            return f"HTTP {response.status_code}: {found}"[:500]
    return f"HTTP {response.status_code}"


@dataclass
class Request:
    """What to export: the level (system, patient or a Group), types, since, type filters."""

    base_url: str
    group: str | None = None
    patient: bool = False
    types: list[str] = field(default_factory=list)
    since: str | None = None
    type_filters: list[str] = field(default_factory=list)

    def url(self) -> str:
        base = self.base_url.rstrip("/")
        if self.group:
            path = f"{base}/Group/{self.group}/$export"
        elif self.patient:
            path = f"{base}/Patient/$export"
        else:
            path = f"{base}/$export"
        query: list[tuple[str, str]] = [("_outputFormat", NDJSON)]
        if self.types:
            query.append(("_type", ",".join(self.types)))
        if self.since:
            query.append(("_since", self.since))
        query += [("_typeFilter", each) for each in self.type_filters]
        return f"{path}?{urlencode(query)}"


Events = Callable[..., None]


def _quiet(*args: Any, **kwargs: Any) -> None:
    return None


class BulkClient:
    def __init__(
        self,
        http: httpx.Client,
        auth: BackendAuth | None = None,
        backoff: Backoff | None = None,
        events: Events | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll_timeout: float = 24 * 3600,
    ) -> None:
        self.http = http
        self.auth = auth
        self.backoff = backoff or Backoff.from_env()
        self.events = events or _quiet
        self.sleep = sleep
        self.poll_timeout = poll_timeout

    # -- one request, retried --
    def send(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, stream=False
    ) -> httpx.Response:
        """The server's answer, after retries of what may pass (429, 5xx, a dropped
        connection, an expired token); raises PullFailed when the retries are used up."""
        attempt = 0
        renewed = False
        while True:
            sent = dict(headers or {})
            if self.auth is not None:
                sent.update(self.auth.header())
            try:
                request = self.http.build_request(method, url, headers=sent)
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as error:
                if attempt >= self.backoff.retries:
                    raise PullFailed(
                        f"{method} {_short(url)}: the server cannot be reached "
                        f"({type(error).__name__}) after {attempt + 1} tries",
                        code="unreachable",
                        where="from",
                    ) from None
                self._wait(attempt, None, f"{type(error).__name__}")
                attempt += 1
                continue
            if response.status_code == 401 and self.auth is not None and not renewed:
                response.close()
                self.auth.invalidate()  # expired or revoked: one new token, then as it is
                renewed = True
                continue
            if response.status_code in RETRIED and attempt < self.backoff.retries:
                retry_after = response.headers.get("Retry-After")
                response.close()
                self._wait(attempt, retry_after, f"HTTP {response.status_code}")
                attempt += 1
                continue
            return response

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay = self.backoff.delay(attempt, retry_after)
        self.events("retry", why=why, seconds=delay)
        self.sleep(delay)

    # -- the protocol --
    def kickoff(self, request: Request) -> str:
        url = request.url()
        response = self.send("GET", url, headers={"Accept": FHIR_JSON, "Prefer": "respond-async"})
        if response.status_code == 202 and response.headers.get("Content-Location"):
            location = str(response.url.join(response.headers["Content-Location"]))
            self.events("kickoff", status_url=location)
            return location
        raise PullFailed(
            f"the server refused the export: {outcome_text(response)}",
            code="kickoff_refused",
            where="from",
        )

    def poll(self, status_url: str) -> dict[str, Any]:
        """Wait for the export; the completion manifest."""
        started = time.monotonic()
        attempt = 0
        while True:
            response = self.send("GET", status_url, headers={"Accept": "application/json"})
            if response.status_code == 200:
                try:
                    manifest = response.json()
                except ValueError:
                    manifest = None
                if not isinstance(manifest, dict) or not isinstance(manifest.get("output"), list):
                    raise PullFailed(
                        "the server's completion manifest is not a JSON object with output",
                        code="bad_manifest",
                        where="from",
                    )
                return manifest
            if response.status_code in (404, 410):
                raise ExportGone(
                    f"the export is gone: {outcome_text(response)}",
                    code="export_gone",
                    where="from",
                )
            if response.status_code != 202:
                raise PullFailed(
                    f"the export failed: {outcome_text(response)}",
                    code="export_failed",
                    where="from",
                )
            progress = response.headers.get("X-Progress", "")[:100]
            self.events("progress", text=progress)
            retry_after = response.headers.get("Retry-After")
            if time.monotonic() - started > self.poll_timeout:
                raise PullFailed(
                    "the export did not complete in time", code="export_timeout", where="from"
                )
            # Polling: the server's Retry-After, else a backoff that grows to the cap.
            delay = self.backoff.delay(min(attempt, 16), retry_after)
            self.sleep(delay)
            attempt += 1

    def download(self, url: str, target: Path, count: int | None, requires_token: bool) -> int:
        """Stream one file to `target` (resumed from `target.part`); its line count, checked
        against the manifest's `count`."""
        partial = target.with_name(target.name + ".part")
        tries = 0
        # Lines are counted as the bytes arrive (a part left by a killed pull is read once).
        newlines, tail = _scan(partial) if partial.exists() else (0, b"\n")
        while True:
            done = partial.stat().st_size if partial.exists() else 0
            headers = {"Accept": NDJSON, "Accept-Encoding": "gzip"}
            if done:
                headers["Range"] = f"bytes={done}-"
            response = self._get_file(url, headers, requires_token)
            zipped = response.headers.get("Content-Encoding", "") == "gzip"
            try:
                if response.status_code == 416 and done:  # nothing left to send
                    break
                if response.status_code not in (200, 206):
                    response.read()
                    raise PullFailed(
                        f"a file of the export cannot be downloaded ({_short(url)}): "
                        f"{outcome_text(response)}",
                        code="download_failed",
                        where="from",
                    )
                resumed = response.status_code == 206 and "Content-Range" in response.headers
                mode = "ab" if resumed and not zipped else "wb"
                if mode == "wb":
                    newlines, tail = 0, b"\n"
                with partial.open(mode) as handle:
                    for chunk in response.iter_bytes(CHUNK):
                        handle.write(chunk)
                        newlines += chunk.count(b"\n")
                        tail = chunk[-1:] or tail
                        self.events("bytes", count=len(chunk))
                break
            except (httpx.TransportError, httpx.DecodingError) as error:
                # Cut off: resume from what landed (or start again when gzip was sent).
                if zipped:
                    partial.unlink(missing_ok=True)
                tries += 1
                if tries > self.backoff.retries:
                    raise PullFailed(
                        f"a file of the export kept failing ({_short(url)}): "
                        f"{type(error).__name__}",
                        code="download_failed",
                        where="from",
                    ) from None
                self._wait(tries - 1, None, type(error).__name__)
            finally:
                response.close()
        # A last line without its newline counts too (if it was cut, the ingest reports it).
        lines = newlines + (tail != b"\n")
        if count is not None and lines != count:
            raise PullFailed(
                f"the manifest announced {count} resources in {_short(url)}, {lines} arrived",
                code="count_mismatch",
                where="from",
            )
        partial.rename(target)
        return lines

    def _get_file(self, url: str, headers: dict[str, str], requires_token: bool):
        if requires_token or self.auth is None:
            return self.send("GET", url, headers=headers, stream=True)
        # A file that needs no token must not receive one (it may sit on another host).
        auth, self.auth = self.auth, None
        try:
            return self.send("GET", url, headers=headers, stream=True)
        finally:
            self.auth = auth

    def delete(self, status_url: str) -> bool:
        """Tell the server it may drop the export (its files hold patient data)."""
        try:
            response = self.send("DELETE", status_url)
        except (PullFailed, CampusError):
            return False
        return response.status_code in (200, 202, 204, 404)


def _scan(path: Path) -> tuple[int, bytes]:
    """The newlines of a file and its last byte."""
    count = 0
    tail = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            count += chunk.count(b"\n")
            tail = chunk[-1:]
    return count, tail


def _short(url: str) -> str:
    return url.split("?")[0][-120:]


def parse_manifest_time(manifest: dict[str, Any]) -> str | None:
    value = manifest.get("transactionTime")
    return value if isinstance(value, str) else None


def dump(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, sort_keys=True)
