"""The home page: a public page for visitors; "Mon campus" for a signed-in person, composed
of what each capability has waiting for them (campus.web.home), with its JSON twin."""

from __future__ import annotations

from tests.helpers import make_account
from tests.integration.ecosystem.events_helpers import published_event, staff


def test_a_visitor_sees_the_public_home_and_no_section(client):
    assert client.get("/api/v1/home").json() == {"signed_in": False, "sections": []}
    page = client.get("/").text
    assert "Construire ensemble les systèmes de santé de demain" in page
    assert "Mon campus" not in page


def test_my_campus_lists_my_events_with_my_rank_on_the_waiting_list(client, db):
    organiser = staff(db)
    full = published_event(db, organiser, title="Atelier complet", capacity=1)
    published_event(db, organiser, title="Atelier sans moi", capacity=5)
    make_account(db, "first@campus.example", "member")
    make_account(db, "second@campus.example", "member")
    client.login("first@campus.example")
    assert client.post(f"/api/v1/events/{full}/registration").status_code == 201
    client.cookies.clear()
    client.login("second@campus.example")
    assert client.post(f"/api/v1/events/{full}/registration").status_code == 201

    home = client.get("/api/v1/home").json()
    events = next(s for s in home["sections"] if s["key"] == "events")
    assert [(i["title"], i["detail"]) for i in events["items"]] == [
        ("Atelier complet", "Liste d’attente, rang 1")
    ]
    page = client.get("/").text
    assert "Mon campus" in page and "Liste d’attente, rang 1" in page
    assert "Atelier sans moi" not in page
    english = client.get("/api/v1/home", headers={"Accept-Language": "en"}).json()
    assert "Waiting list, rank 1" in str(english)


def test_sections_follow_the_roles_a_person_holds(client, db):
    make_account(db, "checker@campus.example", "output_checker")
    make_account(db, "member@campus.example", "member")
    client.login("checker@campus.example")
    keys = [s["key"] for s in client.get("/api/v1/home").json()["sections"]]
    assert "checks" in keys and "introductions" not in keys
    client.cookies.clear()
    client.login("member@campus.example")
    keys = [s["key"] for s in client.get("/api/v1/home").json()["sections"]]
    assert "introductions" in keys and "checks" not in keys and "reviews" not in keys
