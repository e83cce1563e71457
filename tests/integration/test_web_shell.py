import pytest

from campus.auth import policy
from campus.site import routes
from campus.web.pages_registry import NO_TWIN, TWINS
from tests.helpers import make_account


def _permissions_of(dependant) -> list[str]:
    found = []
    for sub in dependant.dependencies:
        if hasattr(sub.call, "campus_permission"):
            found.append(sub.call.campus_permission)
        found.extend(_permissions_of(sub))
    return found


def test_the_route_walk_sees_every_mounted_route(client):
    """Guards the two tests below against walking nothing: the walk and the app agree."""
    walked = {path for path, _route in routes.walk()}
    assert len(walked) > 100
    schema_paths = set(client.get("/api/v1/openapi.json").json()["paths"])
    assert schema_paths <= walked
    for path in ["/", "/login", "/admin/audit", "/api/v1/me", "/api/v1/audit/verify"]:
        assert path in walked


def test_every_route_declares_exactly_one_permission():
    """Walks every registered route: none may be reachable without a declared permission."""
    missing, several = [], []
    for path, route in routes.walk():
        declared = _permissions_of(route.dependant)
        if not declared:
            missing.append(f"{sorted(route.methods)} {path}")
        elif len(set(declared)) > 1:
            several.append(f"{path}: {declared}")
        for name in declared:
            assert name in policy.PERMISSIONS
    assert missing == [], "routes without a permission"
    assert several == []


def test_every_page_names_a_json_twin_that_exists():
    walked = list(routes.walk())
    api_paths = {
        path for path, route in walked if "GET" in route.methods and route.include_in_schema
    }
    pages = {
        path
        for path, route in walked
        if not route.include_in_schema
        and "GET" in route.methods
        and path != "/healthz"
        and not path.startswith("/api/")
    }
    undocumented = pages - set(TWINS) - set(NO_TWIN)
    assert undocumented == set(), "pages with no twin declared"
    broken = {p: t for p, t in TWINS.items() if p in pages and t not in api_paths}
    assert broken == {}


def test_openapi_documents_every_api_route_with_a_summary(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"


def test_security_headers_are_set(client):
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_pages_are_french_by_default_and_english_by_header_or_switch(client):
    assert "Se connecter" in client.get("/login").text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    client.post("/language", data={"language": "en", "next": "/login"})
    assert '<html lang="en">' in client.get("/login").text


@pytest.mark.parametrize("language, text", [("fr", "Page introuvable"), ("en", "Page not found")])
def test_not_found_page_in_both_languages(client, language, text):
    response = client.get("/no/such/page", headers={"Accept-Language": language})
    assert response.status_code == 404 and text in response.text


def test_forbidden_page_for_a_member_on_an_admin_page(client, db):
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    response = client.get("/admin/audit")
    assert response.status_code == 403 and "Accès refusé" in response.text


def test_anonymous_visitor_is_sent_to_login_from_a_private_page(client):
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


def test_api_errors_are_json_with_a_code(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_malformed_json_gets_a_clear_error(client):
    response = client.post(
        "/api/v1/session", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["where"]


def test_huge_bodies_are_refused_before_reading_as_json_or_a_page_in_french(client):
    huge = b"x" * (11 * 1024 * 1024)
    api = client.post("/api/v1/session", content=huge, headers={"content-type": "application/json"})
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"
    form = "application/x-www-form-urlencoded"
    page = client.post("/login", content=huge, headers={"content-type": form})
    assert page.status_code == 413 and "text/html" in page.headers["content-type"]
    assert "La requête dépasse 10\u202f485\u202f760 octets." in page.text


def test_login_redirect_never_leaves_the_site(client, db):
    make_account(db, "ana@example.org")
    response = client.post(
        "/login",
        data={
            "email": "ana@example.org",
            "password": "correct horse battery",
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_health_check(client):
    assert client.get("/healthz").json() == {"status": "ok"}
