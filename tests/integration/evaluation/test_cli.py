"""`campus eval ...` end to end: define, download the dummy features, submit, run, print."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from campus import cli
from campus.evaluation import cli as eval_cli
from tests.integration.analysis.setup import approve
from tests.integration.evaluation import hospital, onnx_models
from tests.integration.evaluation.test_evaluation import CARD, DUMMY, REAL


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_campus_eval_defines_a_benchmark_and_runs_a_submitted_model(
    db, settings, world, monkeypatch, tmp_path
):
    hospital.build(settings.warehouse_path, REAL[:100], DUMMY[:100])
    approve(db, settings, world, datasets=[hospital.DATASET])
    monkeypatch.setattr(eval_cli, "database", lambda: db)
    monkeypatch.setattr(eval_cli, "get_settings", lambda: settings)
    run = CliRunner().invoke
    definition = tmp_path / "benchmark.json"
    definition.write_text(json.dumps(hospital.benchmark()))
    made = run(
        cli.app,
        [
            "eval",
            "benchmark",
            world.project_id,
            world.approval_id,
            str(definition),
            "--as",
            "chercheuse@example.org",
        ],
    )
    assert made.exit_code == 0, made.output
    benchmark_id = made.output.split()[-1]
    out = tmp_path / "dummy.csv"
    assert run(cli.app, ["eval", "features", benchmark_id, str(out)]).exit_code == 0
    assert out.read_text().startswith("age,female,hypertension,label")
    model, card = tmp_path / "m.onnx", tmp_path / "card.json"
    model.write_bytes(onnx_models.custom_domain())
    card.write_text(json.dumps(CARD))
    args = [
        "eval",
        "submit",
        benchmark_id,
        str(model),
        "--card",
        str(card),
        "--family",
        "lr",
        "--threshold",
        "0.3",
        "--as",
        "outsider@example.org",
    ]
    refused = run(cli.app, args)
    assert refused.exit_code == 1 and "custom operators are refused" in refused.output
    model.write_bytes(onnx_models.logistic([0.04, 0.1, 1.2], -3.5))
    federated = run(cli.app, [*args, "--federated", "fed-nulle-part"])
    assert federated.exit_code == 1, federated.output
    assert "fed-nulle-part is not a federated dataset" in federated.output
    model.write_bytes(onnx_models.logistic([0.04, 0.1, 1.2], -3.5))
    queued = run(cli.app, args)
    assert queued.exit_code == 0 and "queued submission" in queued.output, queued.output
    ran = run(cli.app, ["eval", "work", "--once"])
    assert ran.exit_code == 0 and "ran submission" in ran.output
    board = run(cli.app, ["eval", "leaderboard", benchmark_id])
    assert json.loads(board.output)["entries"] == []  # nothing released yet
