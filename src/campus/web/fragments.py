"""Rendered HTML fragments shared by every visitor, keyed by what they show and by the
version of the data they were drawn from (`campus.db.versions`; None for a fragment drawn
from templates alone, such as the main menu).

A fragment is cached only when nothing in it depends on who asks: the directory's result
table shows public fields to everyone allowed to search. The page around it (menu, name,
CSRF token) is rendered for each request as usual. A write to the fragment's tables moves
the data version, so a stale fragment is never served; old entries age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from markupsafe import Markup

SIZE = 1024  # fragments kept per process (a directory result table is about 10 KB)


class FragmentCache:
    """A bounded LRU of rendered fragments; safe to share between threads."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._entries: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0  # how many times a fragment had to be rendered

    def get(self, key: Hashable, version: Hashable, render: Callable[[], Markup]) -> Markup:
        """The fragment for `key` drawn from data at `version` (`campus.db.versions.stamp`),
        rendered on a miss."""
        full = (key, version)
        with self._lock:
            found = self._entries.get(full)
            if found is not None:
                self._entries.move_to_end(full)
                return found
        html = render()  # outside the lock: a render runs queries
        with self._lock:
            self.renders += 1
            self._entries[full] = html
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
