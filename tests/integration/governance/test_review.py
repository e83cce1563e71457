"""Projects, access requests and their ethics review, approvals, register and opt-out."""

import xml.etree.ElementTree as ET

from sqlalchemy import select

from campus.auth.models import OutboxMail
from campus.optout import service as optout
from tests.helpers import audit_events
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve

PROJECT = {
    "title": "Parcours post-AVC",
    "lead_org_id": "org-chu",
    "lead_org_name": "CHU Exemple",
    "partners": [{"id": "org-lab", "name": "Labo Exemple"}],
    "purpose": "Study care pathways after stroke",
    "summary_fr": "Étude des parcours après un AVC",
    "summary_en": "Care pathways after stroke",
    "legal_basis": "mr-004",
    "expected_benefits": "Better follow-up",
}


def _new_request(client):
    project = client.post("/api/v1/projects", json=PROJECT).json()
    request = client.post(
        f"/api/v1/projects/{project['id']}/requests",
        json={
            "datasets": [warehouse.DATASET],
            "views": ["conditions"],
            "duration_days": 90,
            "justification": "Describe the cohort",
        },
    ).json()
    return project, request


def _as(client, email):
    client.delete("/api/v1/session")
    client.login(email)


def test_a_request_is_reviewed_by_reviewers_outside_the_requesting_organisations(client, db, world):
    client.login("chercheuse@example.org")
    _project, request = _new_request(client)
    assert request["status"] == "draft"
    submitted = client.post(f"/api/v1/requests/{request['id']}/submit").json()
    assert submitted["status"] == "in_review"
    waiting = client.get(f"/projects/{_project['id']}/requests/{request['id']}").text
    assert "Votre demande est examinée par des relecteurs éthiques indépendants" in waiting
    reviewers = {r["reviewer"] for r in submitted["reviews"]}
    assert reviewers == {world.reviewer1, world.reviewer2}  # not the org-chu member
    with db.session() as session:
        mailed = {m.to for m in session.scalars(select(OutboxMail))}
    assert {"ethique1@example.org", "ethique2@example.org", "chercheuse@example.org"} <= mailed

    _as(client, "ethique1@example.org")
    todo = client.get("/reviews").text  # the reviewer finds the request on her reviews page
    assert f"/requests/{request['id']}" in todo and "Parcours post-AVC" in todo
    assert "en attente" in todo and "Aucune demande à relire" not in todo
    asked = client.post(f"/api/v1/requests/{request['id']}/messages", json={"body": "Why 90 days?"})
    assert asked.json()["kind"] == "question"
    client.post(
        f"/api/v1/requests/{request['id']}/decision",
        json={"decision": "approve", "comment": "ok", "conditions": "no export"},
    )
    _as(client, "ethique3@example.org")
    refused = client.post(
        f"/api/v1/requests/{request['id']}/decision", json={"decision": "approve", "comment": "x"}
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_assigned"
    _as(client, "ethique2@example.org")
    same = {"decision": "approve", "comment": "ok", "conditions": "no export"}
    done = client.post(f"/api/v1/requests/{request['id']}/decision", json=same).json()
    assert done["status"] == "approved"
    mine = client.get("/reviews").text.split('data-testid="reviews"', 1)[1]
    assert "avis favorable" in mine and "approuver" not in mine
    assert done["approval"]["state"] == "active" and done["approval"]["views"] == ["conditions"]
    assert done["approval"]["conditions"] == "no export"  # asked twice, stated once


def test_one_refusal_refuses_and_changes_send_the_request_back(client, db, world):
    client.login("chercheuse@example.org")
    _project, request = _new_request(client)
    client.post(f"/api/v1/requests/{request['id']}/submit")
    _as(client, "ethique1@example.org")
    client.post(
        f"/api/v1/requests/{request['id']}/decision",
        json={"decision": "changes", "comment": "name fewer views"},
    )
    _as(client, "ethique2@example.org")
    back = client.post(
        f"/api/v1/requests/{request['id']}/decision", json={"decision": "approve", "comment": "ok"}
    ).json()
    assert back["status"] == "changes_requested" and back["approval"] is None
    _as(client, "chercheuse@example.org")
    edited = client.patch(f"/api/v1/requests/{request['id']}", json={"duration_days": 30}).json()
    assert edited["duration_days"] == 30
    again = client.post(f"/api/v1/requests/{request['id']}/submit").json()
    assert again["status"] == "in_review" and all(r["decision"] is None for r in again["reviews"])
    _as(client, "ethique1@example.org")
    client.post(
        f"/api/v1/requests/{request['id']}/decision",
        json={"decision": "refuse", "comment": "no benefit shown"},
    )
    mine = client.get("/reviews").text.split('data-testid="reviews"', 1)[1]
    assert "avis défavorable" in mine and "contre" not in mine  # not the consultations' vote
    _as(client, "ethique2@example.org")
    final = client.post(
        f"/api/v1/requests/{request['id']}/decision", json={"decision": "approve", "comment": "ok"}
    ).json()
    assert final["status"] == "refused" and final["approval"] is None


def test_submission_is_refused_when_too_few_reviewers_are_eligible(client, db, world):
    client.login("chercheuse@example.org")
    project = client.post(
        "/api/v1/projects",
        json=PROJECT | {"partners": [{"id": "org-x", "name": "X"}], "lead_org_id": "org-y"},
    ).json()
    with db.session() as session:
        from campus.auth import service as auth

        for email in ("ethique1@example.org", "ethique2@example.org"):
            account = auth.find_account(session, email)
            auth.grant_role(session, account, "member", scope_type="organisation", scope_id="org-x")
    request = client.post(
        f"/api/v1/projects/{project['id']}/requests",
        json={"datasets": ["d"], "views": ["v"], "duration_days": 10, "justification": "j"},
    ).json()
    response = client.post(f"/api/v1/requests/{request['id']}/submit")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_enough_reviewers"
    assert client.get(f"/api/v1/requests/{request['id']}").json()["status"] == "draft"


def test_a_request_without_views_is_refused_for_data_minimisation(client, world):
    client.login("chercheuse@example.org")
    project = client.post("/api/v1/projects", json=PROJECT).json()
    response = client.post(
        f"/api/v1/projects/{project['id']}/requests",
        json={"datasets": ["d"], "views": [], "duration_days": 10, "justification": "j"},
    )
    assert response.status_code == 400 and response.json()["error"]["where"] == "views"


def test_the_public_register_lists_decisions_and_its_feed_is_atom(client, db, settings, world):
    approve(db, settings, world)
    listing = client.get("/api/v1/register", params={"q": "post-avc"}).json()["projects"]
    assert [p["id"] for p in listing] == [world.project_id]
    assert listing[0]["decisions"][0]["status"] == "approved"
    assert "justification" not in listing[0]["decisions"][0]
    assert client.get("/api/v1/register", params={"q": "nothing-like-it"}).json()["projects"] == []
    page = client.get(f"/register/{world.project_id}")
    assert page.status_code == 200 and "CHU Exemple" in page.text
    # A patient reading the project finds how to object, where she reads it.
    box = page.text.split('data-testid="object"', 1)[1].split("</section>", 1)[0]
    assert 'href="/opposition"' in box and "votre opposition vaut pour tous les projets" in box
    feed = client.get("/register/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.text)
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in root]
    assert any(t and t.startswith("Decision (approved)") for t in titles)


def test_approvals_can_be_suspended_and_revoked_and_each_change_is_audited(
    client, db, settings, world
):
    approve(db, settings, world)
    client.login("ethique1@example.org")
    url = f"/api/v1/approvals/{world.approval_id}/status"
    assert client.post(url, json={"status": "suspended", "reason": "audit"}).json()["state"] == (
        "suspended"
    )
    assert client.post(url, json={"status": "revoked", "reason": "breach"}).json()["state"] == (
        "revoked"
    )
    again = client.post(url, json={"status": "active", "reason": "oops"})
    assert again.status_code == 409
    actions = {e.action for e in audit_events(db)}
    assert {
        "project.created",
        "request.submitted",
        "review.decided",
        "request.approved",
        "approval.granted",
        "approval.suspended",
        "approval.revoked",
    } <= actions


def test_the_opt_out_page_stores_only_a_keyed_hash_and_shows_a_receipt(client, db, settings):
    nir = "2 84 05 75 123 456 72"
    bad = client.post("/opposition", data={"kind": "nir", "value": "2 84 05 75 123 456 99"})
    assert bad.status_code == 400 and "la clé du NIR/INS ne correspond pas" in bad.text
    page = client.post("/opposition", data={"kind": "nir", "value": nir})
    assert page.status_code == 200 and "OPT-" in page.text
    with db.session() as session:
        entries = optout.entries(session)
    assert len(entries) == 1 and "123456" not in entries[0].key
    api = client.post("/api/v1/optout", json={"kind": "system", "value": "urn:x|42"})
    assert api.status_code == 201 and api.json()["receipt"].startswith("OPT-")


def test_filing_a_known_identifier_again_reveals_nothing(client, db):
    """Whoever knows someone's NIR must not learn from the answer whether they objected."""
    nir = "2 84 05 75 123 456 72"
    first = client.post("/api/v1/optout", json={"kind": "nir", "value": nir})
    again = client.post("/api/v1/optout", json={"kind": "nir", "value": nir})
    assert first.status_code == again.status_code == 201
    assert set(first.json()) == set(again.json())
    assert first.json()["receipt"] != again.json()["receipt"]
    with db.session() as session:
        assert optout.count(session) == 1


def test_the_last_two_reviewers_deciding_at_once_settle_the_request(app, client, world):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import CampusClient

    client.login("chercheuse@example.org")
    reviewers = []
    for email in ("ethique1@example.org", "ethique2@example.org"):
        reviewer = CampusClient(app)
        reviewer.login(email)
        reviewers.append(reviewer)
    for _round in range(4):
        _project, request = _new_request(client)
        assert client.post(f"/api/v1/requests/{request['id']}/submit").is_success
        barrier = threading.Barrier(2)

        def decide(reviewer, request_id=request["id"], barrier=barrier):
            barrier.wait()
            return reviewer.post(
                f"/api/v1/requests/{request_id}/decision",
                json={"decision": "approve", "comment": "ok"},
            ).status_code

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(decide, reviewers)) == [200, 200]
        settled = client.get(f"/api/v1/requests/{request['id']}").json()
        assert settled["status"] == "approved"  # not left in review by both
