"""A benchmark with one released submission, written as rows (no warehouse, no runner), for
tests that read evaluation pages (tests/integration/test_twins.py)."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np

from campus.evaluation import service
from campus.evaluation.definition import BenchmarkDefinition
from campus.evaluation.features import FeatureTable
from campus.evaluation.models import Benchmark, Submission
from tests.integration.evaluation import hospital, onnx_models


def released_submission(db, *, project_id: str, approval_id: str) -> tuple[str, str]:
    """(benchmark id, submission id) of a benchmark whose one model's metrics are released."""
    definition = hospital.benchmark()
    bench = BenchmarkDefinition.model_validate(definition)
    rng = np.random.default_rng(3)
    ages = rng.integers(20, 90, 200).astype(np.float32)
    labels = (rng.random(200) < ages / 150).astype(np.int8)
    table = FeatureTable(
        dataset=hospital.DATASET,
        version="v0001",
        features=np.column_stack([ages, np.zeros(200), np.zeros(200)]).astype(np.float32),
        labels=labels,
        subgroups={
            "sex": ["female" if i % 2 else "male" for i in range(200)],
            "age_band": ["40-60"] * 200,
        },
    )
    scores = 1 / (1 + np.exp(-(ages / 20 - 3)))
    released = service.release_metrics(bench, table, scores, threshold=0.5, k=10, base=5)
    model = onnx_models.logistic([0.05, 0.0, 0.0], -3.0)
    now = dt.datetime.now(dt.UTC)
    with db.session() as session:
        row = Benchmark(
            project_id=project_id,
            approval_id=approval_id,
            author_id="seed",
            title=definition["title"],
            definition=definition,
            digest=hashlib.sha256(repr(definition).encode()).hexdigest(),
            dataset=hospital.DATASET,
            version="v0001",
        )
        session.add(row)
        session.flush()
        submission = Submission(
            benchmark_id=row.id,
            submitter_id="seed",
            family="lr",
            card={
                "name": "Risque DT2",
                "version": "1.0",
                "intended_use": "screening research only",
                "training_data": "the dummy twin",
                "regulatory_status": "not a medical device",
            },
            model=model,
            model_digest=hashlib.sha256(model).hexdigest(),
            threshold=0.5,
            status="succeeded",
            dummy_metrics=released,
            metrics=released,
            release_status="released",
            finished_at=now,
            released_at=now,
        )
        session.add(submission)
        session.flush()
        return row.id, submission.id
