"""Set-up shared by the governance and analysis integration tests: people, a project with
an approved request, and a dataset version on disk."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campus.analysis import sources
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.engine import Database
from campus.governance import service as governance
from campus.settings import Settings
from tests.helpers import make_account
from tests.integration.analysis import warehouse


@dataclass
class World:
    researcher: str
    reviewer1: str
    reviewer2: str
    reviewer_conflicted: str
    checker1: str
    checker2: str
    outsider: str
    project_id: str = ""
    request_id: str = ""
    approval_id: str = ""


def actor_of(db: Database, account_id: str) -> Actor:
    with db.session() as session:
        return auth.actor_for(auth.get_account(session, account_id), "session")


@pytest.fixture
def world(db: Database, settings: Settings, tmp_path, monkeypatch) -> World:
    library = warehouse.write_library(tmp_path / "library")
    monkeypatch.setattr(sources, "library_dir", lambda: library)
    warehouse.build_version(settings.warehouse_path, settings)
    people = World(
        researcher=make_account(db, "chercheuse@example.org", "member", name="Claire"),
        reviewer1=make_account(db, "ethique1@example.org", "ethics_reviewer"),
        reviewer2=make_account(db, "ethique2@example.org", "ethics_reviewer"),
        reviewer_conflicted=make_account(db, "ethique3@example.org", "ethics_reviewer"),
        checker1=make_account(db, "checker1@example.org", "output_checker"),
        checker2=make_account(db, "checker2@example.org", "output_checker"),
        outsider=make_account(db, "outsider@example.org", "member"),
    )
    with db.session() as session:
        # The third reviewer belongs to the lead organisation: never assigned.
        account = auth.get_account(session, people.reviewer_conflicted)
        auth.grant_role(session, account, "member", scope_type="organisation", scope_id="org-chu")
    return people


def approve(db: Database, settings: Settings, people: World, **request) -> World:
    """A project led by org-chu with a request approved by the two eligible reviewers."""
    researcher = actor_of(db, people.researcher)
    with db.session() as session:
        project = governance.create_project(
            session,
            researcher,
            governance.ProjectIn(
                title="Parcours post-AVC",
                lead_org_id="org-chu",
                lead_org_name="CHU Exemple",
                purpose="Study care pathways after stroke",
                summary_fr="Étude des parcours après un AVC",
                summary_en="Care pathways after stroke",
                legal_basis="mr-004",
                expected_benefits="Better follow-up after stroke",
                partners=(("org-lab", "Labo Exemple"),),
            ),
        )
        access = governance.create_request(
            session,
            researcher,
            project,
            datasets=request.get("datasets", [warehouse.DATASET]),
            views=request.get("views", ["patient_demographics", "conditions"]),
            elements=request.get("elements", ()),
            duration_days=request.get("duration_days", 365),
            justification="Needed to describe the cohort",
        )
        governance.submit_request(session, settings, researcher, access)
        people.project_id, people.request_id = project.id, access.id
    for reviewer in (people.reviewer1, people.reviewer2):
        with db.session() as session:
            access = governance.get_request(session, people.request_id)
            governance.decide(
                session,
                settings,
                actor_of(db, reviewer),
                access,
                decision="approve",
                comment="fine",
                conditions="no linkage",
            )
    with db.session() as session:
        people.approval_id = governance.project_approvals(session, people.project_id)[0].id
    return people
