"""Rows for page tests that need a job or a saved view without running a worker: a released
job whose outputs have a suppressed cell and disclosure notes, and a saved view."""

from __future__ import annotations

import datetime as dt

from campus.analysis.models import Job
from campus.auth import service as auth
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.governance.models import AccessRequest, Approval, DataProject, ProjectMember
from campus.views import service as views
from tests.helpers import PASSWORD

RESULT = {
    "cohort": 40,
    "tables": [
        {
            "name": "by_sex",
            "kind": "counts",
            "columns": ["gender", "count"],
            "rows": [["female", 25], ["male", None], ["other", None], ["*", 40]],
            "disclosure": {
                "threshold": 10,
                "notes": [
                    "1 cell(s) under 10 suppressed",
                    "1 more cell(s) suppressed so that none can be recomputed from totals",
                    "counts rounded to the nearest multiple of 5",
                ],
            },
        }
    ],
}
DEFINITION = {
    "title": "Patients by sex",
    "dataset": "hopital-synthea",
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients"},
    "outputs": [{"type": "counts", "name": "by_sex", "group_by": ["gender"]}],
}


def released_job(db: Database, author_email: str = "author@campus.example", **job: object) -> str:
    """A project with an approval and one released job (or as `job` says); its id."""
    with db.session() as session:
        account = auth.create_account(session, email=author_email, name="Alice", password=PASSWORD)
        project = DataProject(
            title="Parcours",
            lead_org_id="org-chu",
            lead_org_name="CHU Exemple",
            purpose="Study care pathways",
            summary_fr="Étude des parcours",
            legal_basis="mr-004",
            expected_benefits="Better follow-up",
            created_by=account.id,
        )
        session.add(project)
        session.flush()
        session.add(ProjectMember(project_id=project.id, account_id=account.id, role="lead"))
        request = AccessRequest(
            project_id=project.id,
            created_by=account.id,
            datasets=["hopital-synthea"],
            views=["patient_demographics"],
            duration_days=30,
            justification="why",
            status="approved",
        )
        session.add(request)
        session.flush()
        approval = Approval(
            request_id=request.id,
            project_id=project.id,
            datasets=["hopital-synthea"],
            views=["patient_demographics"],
            expires_at=utcnow() + dt.timedelta(days=30),
        )
        session.add(approval)
        session.flush()
        job_row = Job(
            project_id=project.id,
            approval_id=approval.id,
            author_id=account.id,
            title="Patients by sex",
            definition=DEFINITION,
            dataset="hopital-synthea",
            version="v0001",
            status="succeeded",
            release_status="released",
            result=RESULT,
            finished_at=utcnow(),
            released_at=utcnow(),
        )
        for field, value in job.items():
            setattr(job_row, field, value)
        session.add(job_row)
        session.flush()
        return job_row.id


VIEW = {
    "resourceType": "ViewDefinition",
    "resource": "Patient",
    "status": "active",
    "select": [{"column": [{"name": "patient_id", "path": "getResourceKey()"}]}],
}


def saved_view(db: Database, owner_email: str) -> str:
    """A view saved by an existing account; its key."""
    with db.session() as session:
        account = auth.find_account(session, owner_email)
        actor = auth.actor_for(account, "session")
        return views.save_view(session, actor, "Mes patients", VIEW).key
