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
    assert "Emplacement\u00a0:" in response.text and ">no-such-org</code>" in response.text
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


def test_the_loser_of_a_unique_race_gets_a_409_not_a_500(app, db, caplog):
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from campus.auth.models import Account
    from campus.db.engine import write
    from campus.web.deps import db_session

    make_account(db, "twice@example.org")
    router = APIRouter()

    @router.get("/api/v1/twice", include_in_schema=False)
    def twice(actor=allow("public.read"), session=db_session):
        # What the second of two identical requests meets: the row its check did not see.
        write(session, insert(Account).values(id="dup-1", email="twice@example.org", name="x"))

    @router.get("/api/v1/broken", include_in_schema=False)
    def broken(actor=allow("public.read"), session=db_session):
        write(session, insert(Account).values(id="dup-2", email=None, name="x"))

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        lost = client.get("/api/v1/twice")
        assert lost.status_code == 409
        assert lost.json()["error"]["code"] == "concurrent_change"
        assert client.get("/api/v1/broken").status_code == 500  # not a race: a bug
    assert "twice@example.org" not in caplog.text


def test_a_nul_character_in_an_address_is_a_400_not_a_500(client, db):
    response = client.get("/api/v1/events/a%00b")
    if db.is_postgresql:  # PostgreSQL refuses to compare a text holding NUL
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_value"
    else:  # SQLite compares it and finds nothing
        assert response.status_code == 404
