from tests.helpers import audit_events, make_account
from tests.integration.participation.helpers import dates


def _payload(**changes):
    payload = {
        "title": "Data of the stroke pathway",
        "summary": "What should the campus do with stroke care data?",
        "subject_type": "data_project",
        "subject_id": "demo-project",
        "subject_title": "Parcours de soins post-AVC",
        **{k: v.isoformat() for k, v in dates("contributions").items()},
        "supports_per_person": 2,
    }
    payload.update(changes)
    return payload


def test_staff_create_a_consultation_attached_to_a_data_project_and_it_is_public(client, db):
    make_account(db, "staff@example.org", "staff")
    client.login("staff@example.org")
    created = client.post("/api/v1/consultations", json=_payload())
    assert created.status_code == 201, created.text
    consultation = created.json()
    assert consultation["phase"] == "contributions"
    assert consultation["subject"] == {
        "type": "data_project",
        "id": "demo-project",
        "title": "Parcours de soins post-AVC",
    }
    client.delete("/api/v1/session")
    listed = client.get("/api/v1/consultations").json()
    assert [c["id"] for c in listed] == [consultation["id"]]
    page = client.get(f"/consultations/{consultation['id']}")
    assert page.status_code == 200 and "Contributions" in page.text
    assert "consultation.created" in {e.action for e in audit_events(db)}


def test_bad_consultations_are_refused_with_the_field_at_fault(client, db):
    make_account(db, "staff@example.org", "staff")
    client.login("staff@example.org")
    base = _payload()
    order = {**base, "results_at": base["voting_at"]}
    response = client.post("/api/v1/consultations", json=order)
    assert response.status_code == 400
    assert response.json()["error"]["where"] == "results_at"
    subject = client.post("/api/v1/consultations", json=_payload(subject_type="hospital"))
    assert subject.json()["error"]["where"] == "subject_type"
    limit = client.post("/api/v1/consultations", json=_payload(supports_per_person=0))
    assert limit.json()["error"]["where"] == "supports_per_person"
    assert client.get("/api/v1/consultations").json() == []


def test_only_staff_create_or_close_consultations(client, db):
    make_account(db, "citizen@example.org")
    client.login("citizen@example.org")
    assert client.post("/api/v1/consultations", json=_payload()).status_code == 403
    assert client.get("/consultations/new").status_code == 403


def test_the_staff_form_reads_paris_time_and_shows_errors(client, db):
    make_account(db, "staff@example.org", "staff")
    client.login("staff@example.org")
    form = {
        "title": "Consultation from the form",
        "summary": "A summary long enough for the rules.",
        "subject_type": "programme",
        "subject_id": "prog-1",
        "subject_title": "Accelerator",
        "opens_at": "2026-01-10T09:00",
        "contributions_at": "2026-01-11T09:00",
        "voting_at": "2026-01-12T09:00",
        "results_at": "2026-01-13T09:00",
        "supports_per_person": "3",
        "report_threshold": "3",
    }
    response = client.post("/consultations/new", data=form, follow_redirects=False)
    assert response.status_code == 303
    consultation = client.get("/api/v1" + response.headers["location"]).json()["consultation"]
    assert consultation["opens_at"].startswith("2026-01-10T08:00:00")  # 09:00 Paris = 08:00 UTC
    bad = client.post("/consultations/new", data={**form, "voting_at": "not a date"})
    assert bad.status_code == 400 and "voting_at" in bad.text
