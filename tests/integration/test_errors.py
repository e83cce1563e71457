from fastapi import APIRouter

from campus.web.deps import allow
from tests.helpers import make_account


def test_unexpected_errors_render_a_500_page_without_details(app, caplog):
    router = APIRouter()

    @router.get("/boom", include_in_schema=False)
    def boom(actor=allow("public.read")):
        raise RuntimeError("patient 1234567890123 secret detail")

    app.include_router(router)
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret detail" not in response.text
    assert "1234567890123" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_an_error_page_says_where_the_error_is(client):
    response = client.get("/organisations/no-such-org", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert "Emplacement :" in response.text and ">no-such-org</code>" in response.text
    escaped = client.get("/organisations/%3Cb%3Ex%3C%2Fb%3E")
    assert "<b>x</b>" not in escaped.text and "&lt;b&gt;x&lt;/b&gt;" in escaped.text


def test_validation_errors_name_the_field_in_campus_words_english_api_french_page(db, client):
    make_account(db, "val@example.org", "member")
    client.login("val@example.org")
    page = client.get("/dashboard?year=deux", headers={"Accept-Language": "fr"})
    assert page.status_code == 422 and "query.year: doit être un nombre entier" in page.text
    api = client.get("/api/v1/dashboard?year=deux")
    assert api.status_code == 422
    assert api.json()["error"]["where"] == [
        {"where": "query.year", "message": "must be a whole number"}
    ]


def test_an_unlisted_validation_error_keeps_its_own_message():
    from campus.web.validation import problems

    errors = [
        {"type": "string_too_long", "loc": ("body", "title"), "msg": "x", "ctx": {"max_length": 5}},
        {"type": "some_new_kind", "loc": ("body", "body"), "msg": "as pydantic says"},
    ]
    assert problems(errors, str) == [
        {"where": "title", "message": "at most 5 characters"},
        {"where": "body", "message": "as pydantic says"},
    ]
