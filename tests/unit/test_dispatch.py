"""The leading-segment index hands FastAPI the same routes, in the same order, minus those
that cannot match."""

from starlette.routing import Match

from campus.settings import Settings
from campus.site.app import create_app
from campus.web.dispatch import ANY, SegmentIndex, signature, signatures_of


def _scope(path: str, method: str = "GET") -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_a_route_signature_is_its_literal_leading_segments():
    assert signature("/events/{event_id}")[0] == "events"
    assert signature("/") == ("",)
    assert signature("/{slug}/x")[0] == ANY
    assert signature("/api/v1/events/{event_id}/registration") == ("api", "v1", "events", ANY)


def test_every_route_is_found_through_the_index_as_through_the_full_scan():
    app = create_app(Settings(env="development", database_url="sqlite://", secret_key="k" * 40))
    index = app.router.middleware_stack
    assert isinstance(index, SegmentIndex)
    index._build()
    paths = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else ():
            paths.append(context.path_format.replace("{", "x").replace("}", "x"))
    assert len(paths) > 100
    for path in paths + [p + "/" for p in paths if not p.endswith("/")]:
        segment = path.lstrip("/").split("/", 1)[0]
        view = index.view_for(path)
        full = [r for r in app.router.routes if r.matches(_scope(path))[0] != Match.NONE]
        narrowed = [r for r in view.routes if r.matches(_scope(path))[0] != Match.NONE]
        assert narrowed[:1] == full[:1], path
        if full:
            assert {found[0] for found in signatures_of(full[0])} & {segment, ANY}
        else:  # only a trailing-slash variant may match nothing (FastAPI then redirects)
            assert path.endswith("/") and path != "/", path


def test_an_api_call_scans_only_the_routers_under_its_third_segment():
    app = create_app(Settings(env="development", database_url="sqlite://", secret_key="k" * 40))
    index = app.router.middleware_stack
    index._build()
    view = index.view_for("/api/v1/events/abc/registration")
    api_routers = [
        r for r in app.router.routes if any(found[0] == "api" for found in signatures_of(r))
    ]
    assert 0 < len(view.routes) < len(api_routers) / 3
    assert index.view_for("/api/v1/no-such-area/x").routes == index._fallback.routes
