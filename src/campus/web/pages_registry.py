"""Pages and their JSON twins: every HTML page names the API route that returns its data.

`page(router, path, twin=...)` registers a GET page; a test checks that every page names a
twin that exists in the API (or says why it has none), as Datasette does for its pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

TWINS: dict[str, str] = {}
NO_TWIN: dict[str, str] = {}


def page(
    router: APIRouter,
    path: str,
    *,
    twin: str | None = None,
    no_twin: str | None = None,
    **kwargs: Any,
) -> Callable:
    """Register an HTML GET page; `twin` is its /api/v1 path, or `no_twin` says why none."""
    if (twin is None) == (no_twin is None):
        raise ValueError(f"page {path}: give exactly one of twin= or no_twin=")
    full = (router.prefix or "") + path
    if twin is not None:
        TWINS[full] = twin
    else:
        NO_TWIN[full] = no_twin or ""
    return router.get(path, response_class=HTMLResponse, include_in_schema=False, **kwargs)
