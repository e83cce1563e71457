"""Demo data of analysis, inside the governance demo's approved project (`demo-project`, on
the warehouse's `hopital-synthea`): one job, "Patients par sexe et tranche d'âge", run through
the same worker function as `campus worker` and released by the demo's two output checkers,
so that the register and the job's page show its charts. Loaded after governance's demo."""

from __future__ import annotations

import logging

from sqlalchemy import select

from campus.analysis import jobs
from campus.analysis import service as analysis
from campus.analysis.models import Job
from campus.db.engine import Database
from campus.governance import service as governance
from campus.governance.demo import CHECKERS, DATASET, PROJECT_ID, RESEARCHER, demo_actor
from campus.settings import Settings
from campus.warehouse import layout

log = logging.getLogger("campus.demo")

DEMO_ANALYSIS = {
    "title": "Patients par sexe et tranche d'âge",
    "dataset": DATASET,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {
        "view": "patients",
        "index_date": "2020-01-01",
        "birth_date": "birth_date",
        "exclude": [{"column": "gender", "op": "is_null"}],
    },
    "outputs": [
        {"type": "counts", "name": "par_sexe", "group_by": ["gender"]},
        {
            "type": "crosstab",
            "name": "sexe_par_age",
            "rows": "gender",
            "columns": {"column": "age_at_index", "width": 25},
        },
        {
            "type": "distribution",
            "name": "age",
            "column": "age_at_index",
            "histogram": {"edges": [0, 20, 40, 60, 80]},
        },
    ],
}


def load(settings: Settings, db: Database) -> None:
    """Run and release the demo job, once, when the dataset has a version."""
    with db.session() as session:
        if session.scalar(select(Job.id).where(Job.project_id == PROJECT_ID).limit(1)):
            return  # already loaded
        if not governance.project_approvals(session, PROJECT_ID):
            log.warning("project %s has no approval: the demo job is not run", PROJECT_ID)
            return
    if not layout.versions(settings.warehouse_path, DATASET):
        log.warning("dataset %s has no version: the demo job is not run", DATASET)
        return
    with db.session() as session:
        approval = governance.project_approvals(session, PROJECT_ID)[0]
        job = analysis.submit_job(
            session,
            settings,
            demo_actor(session, RESEARCHER),
            project_id=PROJECT_ID,
            approval_id=approval.id,
            text=DEMO_ANALYSIS,
        )
        job_id = job.id
    jobs.work_once(db, settings, "demo")
    for email in CHECKERS:
        with db.session() as session:
            job = analysis.get_job(session, job_id)
            if job.status != "succeeded":
                log.warning("demo job %s: %s", job_id, job.status)
                return
            analysis.check_output(
                session,
                settings,
                demo_actor(session, email),
                job,
                decision="approve",
                comment="Cellules contrôlées, aucune sortie individuelle.",
            )
