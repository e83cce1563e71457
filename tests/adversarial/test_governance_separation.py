"""Separation of duties and object checks on every governance state change, tried as an
attacker would: through the API and through the pages, with the accounts that must be
refused, and with one that must not (so that a refusal is the rule's, not an accident).

Each refused attempt also leaves the project exactly as it was (as staff reads it)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from campus.analysis.models import Job, OutputCheck
from campus.auth import service as auth
from campus.auth.models import RoleGrant
from campus.db.base import utcnow
from campus.governance import service as governance
from campus.governance.api import project_for
from campus.governance.models import Approval, ProjectMember
from tests.adversarial import governance_world
from tests.integration.analysis.setup import World, actor_of

DATASET = governance_world.DATASET
make_account = governance_world.make_account
people = governance_world.people  # fixtures
approved = governance_world.approved


def _as(client, email: str) -> None:
    client.delete("/api/v1/session")
    client.login(email)


def _approval_status(db, approval_id: str) -> str:
    with db.session() as session:
        return session.get(Approval, approval_id).status


def _snapshot(db, world: World) -> dict:
    """The project, its requests, approvals and members, as staff reads them (JSON twin)."""
    with db.session() as session:
        staff = auth.find_account(session, "staff@example.org")
        actor = auth.actor_for(staff, "session")
        return json.loads(json.dumps(project_for(session, actor, world.project_id)))


def _grant(db, account_id: str, role: str) -> None:
    with db.session() as session:
        auth.grant_role(session, auth.get_account(session, account_id), role)


def _join(db, world: World, account_id: str) -> None:
    """A team member added as the service adds one (`add_member`)."""
    with db.session() as session:
        project = governance.get_project(session, world.project_id)
        governance.add_member(
            session, actor_of(db, world.researcher), project, account_id, "researcher"
        )


# --- approvals: only the assigned reviewers and the DPO ----------------------------------------


REFUSED_ON_APPROVALS = (
    "ethique4@example.org",  # an ethics reviewer, not assigned to this request
    "ethique3@example.org",  # an ethics reviewer of the lead organisation
    "staff@example.org",  # every permission, not the role
    "checker1@example.org",  # another checking role
    "chercheuse@example.org",  # the team's own lead
    "outsider@example.org",
)


def test_only_the_assigned_reviewers_and_the_dpo_change_an_approval(client, db, approved):
    before = _snapshot(db, approved)
    for email in REFUSED_ON_APPROVALS:
        _as(client, email)
        api = client.post(
            f"/api/v1/approvals/{approved.approval_id}/status",
            json={"status": "suspended", "reason": "I want to"},
        )
        assert api.status_code == 403, (email, api.text)
        page = client.post(
            f"/approvals/{approved.approval_id}/status",
            data={"status": "revoked", "reason": "I want to"},
            follow_redirects=False,
        )
        assert page.status_code == 403, email
        assert _approval_status(db, approved.approval_id) == "active", email
    assert _snapshot(db, approved) == before


def test_the_dpo_and_an_assigned_reviewer_change_an_approval_by_api_and_page(client, db, approved):
    _as(client, "dpo@example.org")
    suspended = client.post(
        f"/api/v1/approvals/{approved.approval_id}/status",
        json={"status": "suspended", "reason": "complaint received"},
    )
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    page = client.get(f"/projects/{approved.project_id}/requests/{approved.request_id}")
    assert page.status_code == 200 and f"/approvals/{approved.approval_id}/status" in page.text
    _as(client, "ethique1@example.org")
    again = client.post(
        f"/approvals/{approved.approval_id}/status",
        data={"status": "active", "reason": "complaint closed"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert _approval_status(db, approved.approval_id) == "active"


def test_the_page_offers_the_approval_form_only_to_who_may_use_it(client, approved):
    url = f"/projects/{approved.project_id}/requests/{approved.request_id}"
    form = f"/approvals/{approved.approval_id}/status"
    for email, offered in (
        ("ethique1@example.org", True),
        ("dpo@example.org", True),
        ("staff@example.org", False),
        ("chercheuse@example.org", False),
    ):
        _as(client, email)
        assert (form in client.get(url).text) is offered, email


def test_a_team_member_made_dpo_afterwards_cannot_change_the_teams_approval(client, db, approved):
    member = make_account(db, "analyst@example.org", "member")
    _join(db, approved, member)
    _grant(db, member, "dpo")  # granted by an administrator after joining
    _as(client, "analyst@example.org")
    refused = client.post(
        f"/api/v1/approvals/{approved.approval_id}/status",
        json={"status": "revoked", "reason": "mine"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "conflict_of_interest"
    assert _approval_status(db, approved.approval_id) == "active"


# --- team membership: no checking role joins a team --------------------------------------------


def test_a_team_cannot_add_a_checker_a_reviewer_or_the_dpo(client, db, approved):
    _as(client, "chercheuse@example.org")
    for email in ("checker1@example.org", "ethique4@example.org", "dpo@example.org"):
        api = client.post(
            f"/api/v1/projects/{approved.project_id}/members",
            json={"email": email, "role": "researcher"},
        )
        assert api.status_code == 403, email
        assert api.json()["error"]["code"] == "separation_of_duties"
        page = client.post(
            f"/projects/{approved.project_id}/members",
            data={"email": email, "role": "analyst"},
            follow_redirects=False,
        )
        assert page.status_code == 403, email
        assert "ne peut pas rejoindre l'équipe d'un projet" in page.text.replace("&#39;", "'")
    with db.session() as session:
        team = session.scalars(
            select(ProjectMember.account_id).where(ProjectMember.project_id == approved.project_id)
        ).all()
        assert team == [approved.researcher]
        grants = session.scalars(
            select(RoleGrant).where(
                RoleGrant.scope_type == "project", RoleGrant.role == "researcher"
            )
        ).all()
        assert {g.account_id for g in grants} == {approved.researcher}
    plain = client.post(
        f"/api/v1/projects/{approved.project_id}/members",
        json={"email": "outsider@example.org", "role": "researcher"},
    )
    assert plain.status_code == 201  # the rule refuses the role, not every newcomer


# --- acting for one's own project ---------------------------------------------------------------


def _pending_job(db, world: World) -> str:
    """A job that ran on the real data and waits for its output checks."""
    with db.session() as session:
        job = Job(
            project_id=world.project_id,
            approval_id=world.approval_id,
            author_id=world.researcher,
            title="Cohort description",
            definition={},
            dataset=DATASET,
            version="v0001",
            status="succeeded",
            finished_at=utcnow(),
            result={"tables": [{"name": "t", "columns": ["n"], "rows": [[10]]}]},
            release_status="pending",
        )
        session.add(job)
        session.flush()
        return job.id


def test_a_team_member_made_output_checker_cannot_check_the_teams_outputs(client, db, approved):
    member = make_account(db, "analyst@example.org", "member")
    _join(db, approved, member)
    _grant(db, member, "output_checker")
    job_id = _pending_job(db, approved)
    _as(client, "analyst@example.org")
    queue = client.get("/api/v1/checks").json()["jobs"]
    assert job_id not in {j["id"] for j in queue}  # not offered to check the team's own job
    api = client.post(
        f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "fine"}
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "conflict_of_interest"
    page = client.post(
        f"/jobs/{job_id}/checks",
        data={"decision": "approve", "comment": "fine"},
        follow_redirects=False,
    )
    assert page.status_code == 403
    with db.session() as session:
        assert not session.scalars(select(OutputCheck).where(OutputCheck.job_id == job_id)).all()
    _as(client, "checker1@example.org")
    assert job_id in {j["id"] for j in client.get("/api/v1/checks").json()["jobs"]}
    independent = client.post(
        f"/api/v1/jobs/{job_id}/checks", json={"decision": "approve", "comment": "fine"}
    )
    assert independent.status_code == 200, independent.text


def test_an_assigned_reviewer_who_joined_the_team_can_no_longer_review(
    client, db, settings, people
):
    """A reviewer assigned, then (role dropped, added to the team, role given back) a member:
    neither a question nor a decision goes through."""
    researcher = actor_of(db, people.researcher)
    with db.session() as session:
        project = governance.create_project(
            session,
            researcher,
            governance.ProjectIn(
                title="Parcours",
                lead_org_id="org-chu",
                lead_org_name="CHU",
                purpose="p",
                summary_fr="s",
                legal_basis="mr-004",
                expected_benefits="e",
            ),
        )
        request = governance.create_request(
            session,
            researcher,
            project,
            datasets=[DATASET],
            views=["conditions"],
            duration_days=30,
            justification="j",
        )
        governance.submit_request(session, settings, researcher, request)
        project_id, request_id = project.id, request.id
        reviewer = governance.reviews(session, request_id)[0].reviewer_id
        account = auth.get_account(session, reviewer)
        auth.revoke_role(session, account, "ethics_reviewer")
    with db.session() as session:
        governance.add_member(
            session, researcher, governance.get_project(session, project_id), reviewer, "analyst"
        )
    _grant(db, reviewer, "ethics_reviewer")
    with db.session() as session:
        email = auth.get_account(session, reviewer).email
    _as(client, email)
    decision = client.post(
        f"/api/v1/requests/{request_id}/decision", json={"decision": "approve", "comment": "ok"}
    )
    assert decision.status_code == 403
    assert decision.json()["error"]["code"] == "conflict_of_interest"
    page = client.post(
        f"/requests/{request_id}/decision",
        data={"decision": "approve", "comment": "ok"},
        follow_redirects=False,
    )
    assert page.status_code == 403
    question = client.post(f"/api/v1/requests/{request_id}/messages", json={"body": "Mine?"})
    assert question.status_code == 403
    with db.session() as session:
        assert all(r.decision is None for r in governance.reviews(session, request_id))
        assert not governance.messages(session, request_id)


# --- object checks on every other state change --------------------------------------------------


@pytest.fixture
def requests_in_every_state(db, settings, approved) -> dict[str, str]:
    """Besides the approved request: a draft and one in review."""
    researcher = actor_of(db, approved.researcher)
    ids = {}
    with db.session() as session:
        project = governance.get_project(session, approved.project_id)
        for state in ("draft", "in_review"):
            request = governance.create_request(
                session,
                researcher,
                project,
                datasets=[DATASET],
                views=["conditions"],
                duration_days=30,
                justification="Describe the cohort",
            )
            if state == "in_review":
                governance.submit_request(session, settings, researcher, request)
            ids[state] = request.id
    return ids


REQUEST_FORM = {
    "datasets": DATASET,
    "views": "conditions",
    "duration_days": "30",
    "justification": "taken over",
}
REQUEST_JSON = {
    "datasets": [DATASET],
    "views": ["conditions"],
    "duration_days": 30,
    "justification": "taken over",
}

# (who, state of the request used, API method, API path, JSON, page path, form)
ATTEMPTS = [
    (
        "outsider@example.org",
        "draft",
        "post",
        "/api/v1/projects/{p}/members",
        {"email": "outsider@example.org", "role": "lead"},
        "/projects/{p}/members",
        {"email": "outsider@example.org", "role": "lead"},
    ),
    (
        "outsider@example.org",
        "draft",
        "post",
        "/api/v1/projects/{p}/requests",
        REQUEST_JSON,
        "/projects/{p}/requests",
        REQUEST_FORM,
    ),
    (
        "outsider@example.org",
        "draft",
        "patch",
        "/api/v1/requests/{r}",
        {"justification": "taken over"},
        "/requests/{r}/edit",
        REQUEST_FORM,
    ),
    (
        "outsider@example.org",
        "draft",
        "post",
        "/api/v1/requests/{r}/submit",
        None,
        "/requests/{r}/submit",
        {},
    ),
    (
        "ethique1@example.org",  # a reviewer of another request of the project is no team
        "draft",
        "post",
        "/api/v1/requests/{r}/submit",
        None,
        "/requests/{r}/submit",
        {},
    ),
    (
        "outsider@example.org",
        "in_review",
        "post",
        "/api/v1/requests/{r}/messages",
        {"body": "hello"},
        "/requests/{r}/messages",
        {"body": "hello"},
    ),
    (
        "ethique3@example.org",  # an ethics reviewer not assigned to this request
        "in_review",
        "post",
        "/api/v1/requests/{r}/decision",
        {"decision": "approve", "comment": "ok"},
        "/requests/{r}/decision",
        {"decision": "approve", "comment": "ok"},
    ),
    (
        "staff@example.org",  # staff hold every permission but are no reviewer
        "in_review",
        "post",
        "/api/v1/requests/{r}/decision",
        {"decision": "refuse", "comment": "no"},
        "/requests/{r}/decision",
        {"decision": "refuse", "comment": "no"},
    ),
]


def test_every_state_change_refuses_who_has_no_business_with_the_object(
    client, db, approved, requests_in_every_state
):
    before = _snapshot(db, approved)
    for who, state, method, api_path, body, page_path, form in ATTEMPTS:
        ids = {"p": approved.project_id, "r": requests_in_every_state[state]}
        _as(client, who)
        api = getattr(client, method)(api_path.format(**ids), **({"json": body} if body else {}))
        assert api.status_code == 403, (who, api_path, api.text)
        page = client.post(page_path.format(**ids), data=form, follow_redirects=False)
        assert page.status_code == 403, (who, page_path, page.text[:300])
        assert _snapshot(db, approved) == before, (who, api_path)
