"""Where every capability's routers are mounted: JSON under /api/v1, pages at the root."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.routing import APIRoute

from campus.site.capabilities import CAPABILITIES
from campus.site.registry import load, targets
from campus.web.app import API_PREFIX

__all__ = ["API_PREFIX", "api_routers", "page_routers", "walk"]


def api_routers() -> list[APIRouter]:
    """Every capability's JSON router, in the registry's order. The page modules are
    imported first: a twin declared there adds its JSON route to its capability's router."""
    page_routers()
    return [load(target) for target in targets(CAPABILITIES, "api")]


def page_routers() -> list[APIRouter]:
    """Every capability's page router, in the registry's order."""
    return [load(target) for target in targets(CAPABILITIES, "pages")]


def walk() -> Iterator[tuple[str, APIRoute]]:
    """Every route the app mounts, as (full path, route): what the route tests inspect."""
    for router in api_routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield API_PREFIX + route.path, route
    for router in page_routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route.path, route
