"""Trainings: the catalogue, sessions as events, and the record built from check-ins."""

import time

import pytest

from campus.ecosystem.events import service as events
from campus.ecosystem.trainings import service
from campus.errors import BadRequest
from tests.helpers import CampusClient
from tests.integration.ecosystem.events_helpers import member, published_event, staff


def test_attended_sessions_make_the_training_record(app, db, settings, client):
    boss = staff(db)
    with db.session() as session:
        training = service.create_training(
            session,
            boss,
            service.TrainingInput(
                slug="fhir-101",
                title_fr="FHIR pour débutants",
                title_en="FHIR for beginners",
                duration_hours=3,
                competences="FHIR, interopérabilité\nFHIR",
            ),
        )
        training_id = training.id
        assert training.competences == ["FHIR", "interopérabilité"]
    attended = published_event(db, boss, title="Session 1", training_id=training_id)
    skipped = published_event(db, boss, title="Session 2", training_id=training_id)
    ana = member(db, "ana@example.org")
    with db.session() as session:
        for event_id in (attended, skipped):
            registration = events.register(session, settings, ana, event_id)
        first = events.registration_of(session, attended, ana.account_id)
        events.check_in(session, settings, boss, attended, events.ticket_for(settings, first))
        assert registration.checked_in_at is None
    client.login("ana@example.org")
    record = client.get("/api/v1/me/training-record").json()
    assert [s["session_title"] for s in record["sessions"]] == ["Session 1"]
    assert record["hours"] == 3 and record["competences"] == ["FHIR", "interopérabilité"]
    page = client.get("/me/trainings")
    assert "FHIR pour débutants" in page.text and "Session 2" not in page.text
    catalogue = CampusClient(app).get("/trainings?competence=fhir")
    assert "FHIR pour débutants" in catalogue.text
    staff_client = CampusClient(app)
    staff_client.login("staff@campus.example")
    planned = staff_client.get(f"/events/new?training_id={training_id}")
    assert f'<option value="{training_id}" selected>' in planned.text
    detail = CampusClient(app).get(f"/api/v1/trainings/{training_id}").json()
    assert [s["title"] for s in detail["sessions"]] == ["Session 1", "Session 2"]


def test_training_input_is_checked_and_only_staff_create(app, db, client):
    boss = staff(db)
    staff_client = CampusClient(app)
    staff_client.login("staff@campus.example")
    bad = staff_client.post(
        "/api/v1/trainings",
        json={"slug": "Pas Bon", "title_fr": "X", "duration_hours": 2},
    )
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "slug"
    bad = staff_client.post(
        "/trainings", data={"slug": "ok", "title_fr": "X", "duration_hours": "-1"}
    )
    assert bad.status_code == 400 and "la durée doit être comprise" in bad.text
    member(db, "ana@example.org")
    client.login("ana@example.org")
    assert client.post("/api/v1/trainings", json={"slug": "x", "title_fr": "X"}).status_code == 403
    assert boss.is_staff


def test_a_members_only_session_shows_its_online_link_to_members_only(app, db, client):
    boss = staff(db)
    with db.session() as session:
        training_id = service.create_training(
            session, boss, service.TrainingInput(slug="ia", title_fr="IA", duration_hours=1)
        ).id
    link = "https://visio.example/session-ia"
    published_event(db, boss, training_id=training_id, audience="members", online_url=link)
    url = f"/api/v1/trainings/{training_id}"
    assert [s["online_url"] for s in client.get(url).json()["sessions"]] == [""]
    member(db, "ana@example.org")
    client.login("ana@example.org")
    assert [s["online_url"] for s in client.get(url).json()["sessions"]] == [link]


def test_a_huge_list_of_competences_is_refused_at_once_naming_the_field(db, settings):
    boss = staff(db)
    competences = [f"c{i}" for i in range(200_000)]
    data = service.TrainingInput(
        slug="ia", title_fr="IA\r\nX", duration_hours=1, competences=competences
    )
    started = time.monotonic()
    with db.session() as session, pytest.raises(BadRequest) as refused:
        service.create_training(session, boss, data)
    assert refused.value.where == "competences" and time.monotonic() - started < 2
    with db.session() as session:
        created = service.create_training(
            session, boss, service.TrainingInput(slug="ia", title_fr="IA\r\nX", duration_hours=1)
        )
        assert created.title_fr == "IA X"


def test_script_in_every_text_of_a_training_is_shown_escaped(app, db, client):
    staff(db)
    staff_client = CampusClient(app)
    staff_client.login("staff@campus.example")
    script = "<script>alert(1)</script>"
    created = staff_client.post(
        "/api/v1/trainings",
        json={
            "slug": "xss",
            "title_fr": "Titre " + script,
            "summary_fr": "Résumé " + script,
            "duration_hours": 2,
            "competences": ["Compétence " + script],
        },
    )
    assert created.status_code == 201, created.text
    training_id = created.json()["id"]
    for url in ["/trainings", f"/trainings/{training_id}"]:
        page = staff_client.get(url)
        assert page.status_code == 200 and script not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
