"""Every governance and analysis route declares one permission; every page has its twin.

The shell's own check walks `app.routes`, which FastAPI >= 0.165 nests inside included
routers; this walks them with their prefixes, for the routes of these two packages.
"""

from fastapi.routing import APIRoute

from campus.web.pages_registry import NO_TWIN, TWINS
from tests.integration.test_web_shell import _permissions_of

MINE = ("campus.governance", "campus.analysis")


def _flat(app, only_mine=True):
    try:
        from fastapi.routing import _iter_routes_with_context

        pairs = [
            (route, context.path if context is not None and context.path else route.path)
            for route, context in _iter_routes_with_context(app.routes)
        ]
    except ImportError:
        pairs = [(route, getattr(route, "path", "")) for route in app.routes]
    return [
        (route, path)
        for route, path in pairs
        if isinstance(route, APIRoute)
        and (not only_mine or route.endpoint.__module__.startswith(MINE))
    ]


def test_each_route_has_one_permission_and_each_page_a_twin(app):
    routes = _flat(app)
    assert len(routes) > 30
    api_gets = {
        path
        for route, path in _flat(app, only_mine=False)
        if "GET" in route.methods and path.startswith("/api/v1/")
    }
    for route, path in routes:
        assert len(set(_permissions_of(route.dependant))) == 1, path
        if "GET" in route.methods and not route.include_in_schema:
            assert path in TWINS or path in NO_TWIN, f"page {path} has no twin"
            if path in TWINS:
                assert TWINS[path] in api_gets, f"twin of {path} missing: {TWINS[path]}"
        if route.include_in_schema:
            assert route.summary, f"{path} has no summary"
