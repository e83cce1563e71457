"""Programmes through HTTP: the scoped apply permission, pages, reviews and the cohort."""

import datetime as dt

from campus.db.base import utcnow
from tests.helpers import CampusClient, make_account
from tests.integration.ecosystem.programmes_helpers import CRITERIA, FIELDS, organisation


def _staff(app, db) -> CampusClient:
    make_account(db, "staff@campus.example", "staff")
    client = CampusClient(app)
    client.login("staff@campus.example")
    return client


def _programme_and_call(staff) -> tuple[str, str]:
    programme = staff.post(
        "/api/v1/programmes",
        json={"slug": "accel", "kind": "acceleration", "title_fr": "Accélérateur <b>santé</b>"},
    ).json()
    call = staff.post(
        f"/api/v1/programmes/{programme['id']}/calls",
        json={
            "title": "Promotion 2027",
            "opens_at": (utcnow() - dt.timedelta(days=1)).isoformat(),
            "closes_at": (utcnow() + dt.timedelta(days=10)).isoformat(),
            "form_fields": FIELDS,
            "criteria": CRITERIA,
        },
    )
    assert call.status_code == 201, call.text
    assert call.json()["state"] == "open"
    return programme["id"], call.json()["id"]


def test_apply_review_decide_and_show_the_cohort(app, db, client):
    staff = _staff(app, db)
    programme_id, call_id = _programme_and_call(staff)
    org_id, _admin = organisation(db, "medtech", "admin@medtech.example")
    other_org, _ = organisation(db, "labo", "admin@labo.example")
    client.login("admin@medtech.example")
    answers = {"answers": {"pitch": "Télésuivi", "team": 4, "stage": "seed"}}
    url = f"/api/v1/programmes/calls/{call_id}/organisations/{{}}/application"
    assert client.post(url.format(other_org), json=answers).status_code == 403  # scoped grant
    applied = client.post(url.format(org_id), json=answers)
    assert applied.status_code == 201, applied.text
    application_id = applied.json()["id"]

    make_account(db, "rev@example.org", "member", name="Rita Reviewer")
    conflict = staff.post(
        f"/api/v1/programmes/applications/{application_id}/reviewers",
        json={"reviewer_id": _admin.account_id},
    )
    assert conflict.status_code == 403
    assert conflict.json()["error"]["code"] == "conflict_of_interest"
    page = staff.post(
        f"/programmes/applications/{application_id}/reviewers", data={"email": "rev@example.org"}
    )
    assert page.status_code == 200 and "Rita Reviewer" in page.text

    reviewer = CampusClient(app)
    reviewer.login("rev@example.org")
    assert reviewer.get("/api/v1/me/reviews").json()[0]["application_id"] == application_id
    form = reviewer.get(f"/programmes/applications/{application_id}")
    assert "Télésuivi" in form.text and 'id="score_impact" name="scores"' in form.text
    bad = reviewer.post(
        f"/programmes/applications/{application_id}/review",
        data={"scores": ["9", "1"]},
    )
    assert bad.status_code == 400 and "une note est un nombre entier de 0 à 5" in bad.text
    done = reviewer.put(
        f"/api/v1/programmes/applications/{application_id}/review",
        json={"scores": {"impact": 4, "team": 1}, "comment": "<script>x</script>"},
    )
    assert done.status_code == 200 and done.json()["average"] == 3.0

    listing = staff.get(f"/api/v1/programmes/calls/{call_id}/applications").json()
    assert listing[0]["reviews_submitted"] == 1 and listing[0]["average"] == 3.0
    staff_page = staff.get(f"/programmes/applications/{application_id}")
    assert "&lt;script&gt;x&lt;/script&gt;" in staff_page.text
    decided = staff.post(
        f"/programmes/applications/{application_id}/decision",
        data={"decision": "selected", "note": "Bravo"},
    )
    assert decided.status_code == 200 and 'data-testid="application-status">Retenue' in decided.text
    detail = client.get(f"/api/v1/programmes/{programme_id}").json()
    assert [m["name"] for m in detail["cohort"]] == ["Medtech"]
    public = CampusClient(app).get(f"/programmes/{programme_id}")
    assert "Medtech" in public.text and "Accélérateur &lt;b&gt;santé&lt;/b&gt;" in public.text
    mine = client.get(f"/programmes/applications/{application_id}")
    assert mine.status_code == 200 and "Rita Reviewer" not in mine.text  # no scores for applicants


def test_application_form_errors_name_the_question_and_keep_answers(app, db, client):
    staff = _staff(app, db)
    _programme_id, call_id = _programme_and_call(staff)
    org_id, _admin = organisation(db, "medtech", "admin@medtech.example")
    client.login("admin@medtech.example")
    page = client.get(f"/programmes/calls/{call_id}")
    assert 'id="answer_pitch" name="answers"' in page.text
    response = client.post(
        f"/programmes/calls/{call_id}/apply",
        data={"organisation_id": org_id, "answers": ["Mon projet", "-2", ""]},
    )
    assert response.status_code == 400
    assert "ce nombre est trop petit" in response.text and "Mon projet" in response.text
    assert client.get("/api/v1/me/applications").json() == []


def test_call_definitions_in_bad_json_are_refused_on_the_page(app, db):
    staff = _staff(app, db)
    programme_id, _call_id = _programme_and_call(staff)
    response = staff.post(
        f"/programmes/{programme_id}/calls",
        data={
            "title": "Deuxième appel",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-02-01T09:00",
            "form_fields": "[{oops",
            "criteria": "[]",
        },
    )
    assert response.status_code == 400 and "JSON" in response.text
    assert len(staff.get(f"/api/v1/programmes/{programme_id}").json()["calls"]) == 1


def test_members_cannot_create_programmes(app, db, client):
    make_account(db, "ana@example.org", "member")
    client.login("ana@example.org")
    response = client.post(
        "/api/v1/programmes", json={"slug": "x", "kind": "research", "title_fr": "X"}
    )
    assert response.status_code == 403


def test_a_huge_number_answer_is_a_400_naming_the_question_not_a_500(app, db, client):
    staff = _staff(app, db)
    _programme_id, call_id = _programme_and_call(staff)
    org_id, _admin = organisation(db, "medtech", "admin@medtech.example")
    client.login("admin@medtech.example")
    url = f"/api/v1/programmes/calls/{call_id}/organisations/{org_id}/application"
    answers = {"pitch": "Télésuivi", "team": 10**400, "stage": "seed"}
    response = client.post(url, json={"answers": answers})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["where"], error["code"]) == ("answers.team", "out_of_range")
    assert client.get("/api/v1/me/applications").json() == []
