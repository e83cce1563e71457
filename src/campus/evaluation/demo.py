"""Demo data of evaluation, on the warehouse's `hopital-synthea` inside the governance demo's
approved project: one benchmark (a hypertension diagnosis within ten years of the index
date; the synthetic hospital has too few type 2 diabetes diagnoses for a label), the three
`demo_models` trained on its dummy-twin feature table, submitted and run on the real data
through the worker's function, and released by the data steward and two output checkers,
so that the public leaderboard shows them."""

from __future__ import annotations

import logging
import time

import numpy as np
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.engine import Database
from campus.evaluation import demo_models, service
from campus.evaluation.models import Benchmark
from campus.governance import service as governance
from campus.governance.demo import CHECKERS, DATASET, PROJECT_ID, RESEARCHER
from campus.governance.models import DataProject
from campus.settings import Settings
from campus.warehouse import layout

log = logging.getLogger("campus.demo")

STEWARD = "steward@hopital.example"
TITLE = "Hypertension dans les dix ans (démo)"
THRESHOLD = 0.2

BENCHMARK = {
    "title": TITLE,
    "description": (
        "Prédire un diagnostic d'hypertension dans les dix ans suivant le 1er janvier "
        "2016, à partir de l'âge, du sexe et des diagnostics antérieurs."
    ),
    "dataset": DATASET,
    "views": {
        "patients": {"library": "patient_demographics"},
        "conditions": {"library": "conditions"},
    },
    "cohort": {"view": "patients", "index_date": "2016-01-01", "birth_date": "birth_date"},
    "label": [
        {
            "view": "conditions",
            "column": "code",
            "op": "eq",
            "value": "38341003",
            "date_column": "onset",
            "within_days": [1, 3653],
        }
    ],
    "label_description": "hypertension diagnostiquée dans les dix ans après la date index",
    "features": [
        {"name": "age", "column": "age_at_index"},
        {"name": "female", "column": "gender", "op": "eq", "value": "female"},
        {
            "name": "diabetes",
            "criterion": {
                "view": "conditions",
                "column": "code",
                "op": "eq",
                "value": "44054006",
                "date_column": "onset",
                "within_days": [-3650, 0],
            },
        },
        {
            "name": "prediabetes",
            "criterion": {
                "view": "conditions",
                "column": "code",
                "op": "eq",
                "value": "15777000",
                "date_column": "onset",
                "within_days": [-3650, 0],
            },
        },
    ],
    # Age bands, not sex: the page shows a subgroup's values as the data holds them, and
    # "male"/"female" would be English words on the French page.
    "subgroups": [{"name": "age_band", "column": "age_at_index", "width": 30}],
    "min_subgroup": 20,
}


def training_table(header: str, size: int = 3000, seed: int = 2016) -> str:
    """A startup's own training set, as it would bring one from elsewhere: `size` made-up
    people with the benchmark's feature columns (`header`, the dummy twin's first line) and a
    label drawn as the synthetic hospital makes hypertension (none before 30, then about 1.2 %
    a year, more with diabetes). The dummy twin cannot serve: it keeps no dates, so its
    labels are all 0 and its ages blank. Deterministic."""
    names = header.strip().split(",")
    rng = np.random.default_rng(seed)
    age = rng.uniform(0, 90, size)
    diabetes = (age > 35) & (rng.random(size) < 0.08)
    prediabetes = (age > 25) & ~diabetes & (rng.random(size) < 0.15)
    yearly = np.where(age >= 30, 0.012, 0.0) * np.where(diabetes, 2.0, 1.0)
    label = rng.random(size) < 1 - (1 - yearly) ** 10
    columns = {
        "age": np.floor(age),
        "female": rng.random(size) < 0.5,
        "diabetes": diabetes,
        "prediabetes": prediabetes,
        "label": label,
    }
    # whole numbers only: no cell needs quoting, and none can start a formula
    lines = [",".join(names)]
    lines += [",".join(str(int(columns[name][i])) for name in names) for i in range(size)]
    return "\n".join(lines) + "\n"


def _actor(session: Session, email: str) -> Actor:
    account = auth.find_account(session, email)
    if account is None:
        raise RuntimeError(f"demo account {email} is missing: load the accounts first")
    return auth.actor_for(account, "session")


def load(settings: Settings, db: Database) -> None:
    """Define the demo benchmark, submit, run and release the three demo models (once)."""
    if not layout.versions(settings.warehouse_path, DATASET):
        log.warning("dataset %s has no version: no demo benchmark", DATASET)
        return
    started = time.perf_counter()
    with db.session() as session:
        if session.get(DataProject, PROJECT_ID) is None:
            log.warning("no demo project %s: no demo benchmark", PROJECT_ID)
            return
        if session.scalar(select(Benchmark.id).where(Benchmark.title == TITLE)) is not None:
            return  # already loaded
        researcher = _actor(session, RESEARCHER)
        approval = governance.project_approvals(session, PROJECT_ID)[0]
        row = service.create_benchmark(
            session,
            settings,
            researcher,
            project_id=PROJECT_ID,
            approval_id=approval.id,
            text=BENCHMARK,
        )
        table = service.dummy_feature_table(settings, row)
        ids = [
            service.submit(
                session,
                settings,
                researcher,
                row,
                model=model.onnx,
                card=model.card,
                family=model.name,
                threshold=THRESHOLD,
            ).id
            for model in demo_models.demo_models(
                training_table(table.splitlines()[0]),
                "a developer's own synthetic records (3,000 people), not the hospital's",
            )
        ]
    while service.work_once(db, settings) is not None:
        pass
    for submission_id in ids:
        for email, steward in ((STEWARD, True), (CHECKERS[0], False), (CHECKERS[1], False)):
            with db.session() as session:
                row = service.get_submission(session, submission_id)
                if row.status != "succeeded":
                    log.warning("demo submission %s: %s", submission_id, row.status)
                    break
                service.check_output(
                    session,
                    _actor(session, email),
                    row,
                    decision="approve",
                    comment="Métriques agrégées contrôlées, aucune sortie individuelle.",
                    as_steward=steward,
                )
    typer.echo(
        f'evaluation demo: benchmark "{TITLE}", {len(ids)} models submitted, run and checked '
        f"in {time.perf_counter() - started:.1f} s"
    )
