"""The demo models are made by the repository alone (numpy and onnx.helper): they pass the
model check like any submission, run in the runner, handle missing values, and rank as
intended (all features > one feature > the base rate, a constant predictor)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from campus.evaluation import demo_models, metrics, modelcheck, sandbox


def _csv(rows: int = 600) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    age = rng.integers(20, 90, rows).astype(float)
    female = rng.integers(0, 2, rows).astype(float)
    hypertension = (rng.random(rows) < 0.3).astype(float)
    logit = -6 + 0.06 * age + 1.5 * hypertension + 0.3 * female
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    features = np.column_stack([age, female, hypertension])
    features[::25, 0] = np.nan  # some ages missing
    lines = ["age,female,hypertension,label"]
    for row, y in zip(features, label, strict=True):
        lines.append(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + f",{y}")
    return "\n".join(lines) + "\n", features.astype(np.float32), label


def _auroc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    bins = metrics.binned(scores, labels, bins=20, threshold=0.5, k=1)
    return metrics.auroc(bins.n, bins.pos)


def test_three_demo_models_pass_the_check_run_and_rank_by_quality():
    text, features, labels = _csv()
    made = {m.name: m for m in demo_models.demo_models(text)}
    assert list(made) == ["full", "one-feature", "base-rate"]
    aurocs = {}
    for name, model in made.items():
        checked = modelcheck.check(model.onnx, features=3, max_bytes=10**6, max_nodes=100)
        scored = sandbox.run(
            model.onnx, features, output_name=checked.output_name, memory_mb=1024, seconds=10
        )
        assert np.all(np.isfinite(scored.scores))  # missing ages included
        aurocs[name] = _auroc(scored.scores, labels)
        assert set(model.card) == {
            "name",
            "version",
            "intended_use",
            "training_data",
            "regulatory_status",
        }
    assert aurocs["full"] > aurocs["one-feature"] > 0.6
    assert aurocs["base-rate"] == pytest.approx(0.5)


def test_the_cli_writes_each_model_with_its_card(tmp_path):
    from campus.evaluation.cli import app

    text, _features, _labels = _csv()
    (tmp_path / "features.csv").write_text(text)
    result = CliRunner().invoke(
        app, ["demo-models", str(tmp_path / "features.csv"), str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [
        "base-rate.card.json",
        "base-rate.onnx",
        "full.card.json",
        "full.onnx",
        "one-feature.card.json",
        "one-feature.onnx",
    ]
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    refused = CliRunner().invoke(app, ["demo-models", str(tmp_path / "bad.csv"), str(tmp_path)])
    assert refused.exit_code == 1 and "label" in refused.output
