"""Route lookup by the path's first segment, in front of FastAPI's linear route scan.

FastAPI tries every route in order until one matches, and an included router is scanned
twice (once to find it, once to pick its route). With some 300 routes that is 0.25 to 0.3 ms
of CPU a request, a tenth of a small page's cost. `SegmentIndex` keeps, for each first path
segment (`directory`, `events`, `api`...), the top-level routes that can match a path
starting with it, in their original order, and lets FastAPI scan only those: same routes,
same order, same matching code, fewer candidates. A route whose first segment is a path
parameter can match anything and sits in every list.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import routing as fastapi_routing
from starlette.routing import BaseRoute, Mount
from starlette.types import Receive, Scope, Send

ANY = "*"


def first_segment(path: str) -> str:
    """`/events/12` → `events`; `/` → ``; a segment holding a parameter → ANY."""
    segment = path.lstrip("/").split("/", 1)[0]
    return ANY if "{" in segment else segment


def segments_of(route: BaseRoute) -> set[str]:
    """The first segments a top-level route can match."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is not None:  # an included router: every route it holds, prefix included
        found = set()
        for context in contexts():
            path = getattr(context, "path_format", "") or getattr(
                context.original_route, "path", ""
            )
            found.add(first_segment(path) if path else ANY)
        return found or {ANY}
    if isinstance(route, Mount):
        return {first_segment(route.path)}
    path = getattr(route, "path", None)
    return {first_segment(path)} if isinstance(path, str) else {ANY}


class SegmentIndex:
    """An ASGI app that hands each request to a copy of the router holding only the routes
    that can match its first segment. Rebuilt when routes are added at the top level."""

    def __init__(self, router: fastapi_routing.APIRouter):
        self.router = router
        self._built_for: int | None = None
        self._by_segment: dict[str, Any] = {}
        self._fallback: Any = router

    def _build(self) -> None:
        kept: list[tuple[BaseRoute, set[str]]] = [
            (route, segments_of(route)) for route in self.router.routes
        ]
        names = {s for _, found in kept for s in found if s != ANY}
        by_segment = {}
        for name in names:
            view = copy.copy(self.router)
            view.routes = [r for r, found in kept if name in found or ANY in found]
            by_segment[name] = view
        fallback = copy.copy(self.router)
        fallback.routes = [r for r, found in kept if ANY in found]
        self._by_segment, self._fallback = by_segment, fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.router.app(scope, receive, send)
            return
        if len(self.router.routes) != self._built_for:  # routers are included at start-up
            self._build()
            self._built_for = len(self.router.routes)
        # url_for and friends must see every route, not the narrowed copy.
        scope.setdefault("router", self.router)
        segment = scope["path"].lstrip("/").split("/", 1)[0]
        view = self._by_segment.get(segment, self._fallback)
        await view.app(scope, receive, send)


def install(router: fastapi_routing.APIRouter) -> None:
    """Put the index in front of `router`'s own scan (its middleware stack's innermost app)."""
    router.middleware_stack = SegmentIndex(router)
