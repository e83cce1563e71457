"""Evaluation end to end through the API: a benchmark in an approval, an ONNX logistic
regression built with onnx.helper, scored on the dummy twin then on the real data in a
limited child process, metrics checked by two output checkers, then on the leaderboard."""

from __future__ import annotations

import base64
import html

import pytest

from campus.evaluation import personal_data, service
from tests.helpers import make_account
from tests.integration.analysis.setup import approve
from tests.integration.evaluation import hospital, onnx_models, reference

WEIGHTS, BIAS = [0.04, 0.1, 1.2], -3.5
CARD = {
    "name": "Risque DT2",
    "version": "1.0",
    "intended_use": "screening research only",
    "training_data": "the dummy twin",
    "regulatory_status": "not a medical device",
}
REAL = hospital.people("rp", 400, seed=1)
DUMMY = hospital.people("dp", 200, seed=2)


@pytest.fixture
def bench(client, db, settings, world):
    hospital.build(settings.warehouse_path, REAL, DUMMY)
    approve(db, settings, world, datasets=[hospital.DATASET])
    client.login("chercheuse@example.org")
    made = client.post(
        f"/api/v1/projects/{world.project_id}/benchmarks",
        json={"approval_id": world.approval_id, "definition": hospital.benchmark()},
    )
    assert made.status_code == 201, made.text
    client.delete("/api/v1/session")
    return made.json()


def _submit(client, bench_id, model: bytes, family="lr", threshold=0.3):
    return client.post(
        f"/api/v1/benchmarks/{bench_id}/submissions",
        json={
            "model_base64": base64.b64encode(model).decode(),
            "family": family,
            "threshold": threshold,
            "card": CARD,
        },
    )


def seen_by(db, email: str) -> str:
    from campus.auth import service as auth

    with db.session() as session:
        return auth.find_account(session, email).id


def _as(client, email):
    client.delete("/api/v1/session")
    client.login(email)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_logistic_model_is_evaluated_on_real_data_and_released_with_reference_metrics(
    client, db, settings, world, bench
):
    assert [c["name"] for c in bench["schema"]["columns"]] == ["age", "female", "hypertension"]
    client.login("outsider@example.org")
    csv_text = client.get(f"/api/v1/benchmarks/{bench['id']}/dummy-features.csv").text
    assert csv_text.splitlines()[0] == "age,female,hypertension,label"
    assert len(csv_text.splitlines()) == 1 + len(DUMMY)
    submitted = _submit(client, bench["id"], onnx_models.logistic(WEIGHTS, BIAS))
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["id"]
    assert submitted.json()["status"] == "queued"
    assert submitted.json()["dummy_metrics"]["metrics"]["auroc"]["value"] is not None

    assert service.work_once(db, settings) == sid
    mine = client.get(f"/api/v1/submissions/{sid}").json()
    assert mine["status"] == "finished" and mine["release_status"] == "pending"
    assert mine["metrics"] is None  # the submitter waits for the output checkers
    page = client.get(f"/submissions/{sid}", headers={"accept-language": "fr"})
    assert page.status_code == 200 and "terminé" in page.text
    # The dummy twin's charts only: nothing drawn from the real data before release.
    assert _chart_points(page.text, "roc") == [_roc_xy(mine["dummy_metrics"]["roc"])]

    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/submissions/{sid}").json()
    assert seen["status"] == "succeeded"
    released = seen["metrics"]
    scores = [onnx_models.reference_score(p.features, WEIGHTS, BIAS) for p in REAL]
    expected = reference.metrics(scores, [int(p.diabetes) for p in REAL], 0.3, 20, 10)
    for name, value in expected.items():
        assert released["metrics"][name]["value"] == pytest.approx(value, abs=5e-4), name
        low, high = released["metrics"][name]["ci95"]
        assert low <= released["metrics"][name]["value"] <= high
    assert released["metrics"]["auroc"]["value"] > 0.6
    assert released["dataset"] == hospital.DATASET and released["version"] == "v0001"
    assert released["benchmark_digest"] == bench["digest"]
    assert all(b["people"] >= 10 for b in released["reliability"])
    client.post(f"/api/v1/submissions/{sid}/checks", json={"decision": "approve", "comment": "ok"})
    _as(client, "checker2@example.org")
    two = client.post(
        f"/api/v1/submissions/{sid}/checks", json={"decision": "approve", "comment": "ok"}
    )
    assert two.json()["release_status"] == "pending"  # the data steward signs off too
    not_steward = client.post(
        f"/api/v1/submissions/{sid}/steward", json={"decision": "approve", "comment": "ok"}
    )
    assert not_steward.status_code == 403
    make_account(db, "steward@example.org", "data_steward")
    _as(client, "steward@example.org")
    done = client.post(
        f"/api/v1/submissions/{sid}/steward", json={"decision": "approve", "comment": "ok"}
    )
    assert done.json()["release_status"] == "released"

    client.delete("/api/v1/session")
    board = client.get(f"/api/v1/benchmarks/{bench['id']}").json()
    assert [e["id"] for e in board["entries"]] == [sid]
    assert board["entries"][0]["metrics"] == released
    assert board["entries"][0]["card"]["regulatory_status"] == "not a medical device"
    page = client.get(f"/benchmarks/{bench['id']}", headers={"accept-language": "fr"})
    assert page.status_code == 200 and "Classement" in page.text and "Risque DT2" in page.text
    assert "Par sous-groupe" in page.text and "Fiabilité" in page.text
    auroc = released["metrics"]["auroc"]["value"]
    assert f"{auroc:.2f}".replace(".", ",") in page.text  # a decimal comma in French
    assert "Bancs d" in client.get("/benchmarks", headers={"accept-language": "fr"}).text
    # The charts draw the released points and nothing else.
    assert _chart_points(page.text, "roc") == [_roc_xy(released["roc"])]
    shown = [b for b in released["reliability"] if b["observed"] is not None]
    expected_dots = [(_x(b["predicted"]), _y(b["observed"])) for b in shown]
    assert _chart_points(page.text, "reliability") == [expected_dots]
    assert "Courbe ROC" in page.text and "Taux observé" in page.text


def _x(rate: float) -> float:
    return round(50 + 180 * rate, 1)


def _y(rate: float) -> float:
    return round(200 - 190 * rate, 1)


def _roc_xy(points: list) -> list[tuple[float, float]]:
    return [(_x(f), _y(t)) for f, t in points]


def _chart_points(html: str, kind: str) -> list[list[tuple[float, float]]]:
    """The polyline of each chart of this kind on a page, as (x, y) pairs."""
    import re

    found = []
    for svg in re.findall(rf'<svg[^>]*data-chart="{kind}".*?</svg>', html, re.DOTALL):
        (line,) = re.findall(r'<polyline class="eval-line" points="([^"]*)"', svg)
        found.append([tuple(float(v) for v in pair.split(",")) for pair in line.split()])
    return found


@pytest.mark.slow  # seven models, three of them run in a child process
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_bad_models_are_refused_with_a_clear_error_and_the_web_process_survives(
    client, db, settings, world, bench
):
    client.login("outsider@example.org")
    cases = [
        (onnx_models.custom_domain(), "custom_operator"),
        (onnx_models.wrong_width(), "input_mismatch"),
        (b"not a model", "model_invalid"),
        (onnx_models.logistic(WEIGHTS, BIAS, pad=50_000), "model_too_large"),
        (onnx_models.memory_bomb(), "model_memory"),
        (onnx_models.endless_loop(), "model_time"),
        (onnx_models.nan_above(0, -1.0), "model_output"),
    ]
    for model, code in cases:
        response = _submit(client, bench["id"], model)
        assert response.status_code == 400, (code, response.text)
        error = response.json()["error"]
        assert error["code"] == code and error["where"].startswith("model")
    assert service.work_once(db, settings) is None  # nothing was queued
    assert client.get(f"/api/v1/benchmarks/{bench['id']}").status_code == 200
    bad_card = client.post(
        f"/api/v1/benchmarks/{bench['id']}/submissions",
        json={
            "model_base64": base64.b64encode(onnx_models.logistic(WEIGHTS, BIAS)).decode(),
            "family": "lr",
            "threshold": 0.3,
            "card": {"name": "x"},
        },
    )
    assert bad_card.status_code == 400 and bad_card.json()["error"]["where"] == "card.version"


@pytest.mark.slow  # four runs in a child process
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_model_that_fails_only_on_the_real_data_shows_the_team_a_neutral_status(
    client, db, settings, world, bench
):
    # Real ages reach 87; the dummy twin's do not pass 60: NaN on the real data only.
    hospital.build(settings.warehouse_path, REAL, hospital.people("dp", 200, 2, oldest=1958))
    client.login("outsider@example.org")
    failing = _submit(client, bench["id"], onnx_models.nan_above(0, 70.0), family="nan")
    ok = _submit(client, bench["id"], onnx_models.logistic(WEIGHTS, BIAS))
    assert failing.status_code == ok.status_code == 201, failing.text
    service.work_once(db, settings)
    service.work_once(db, settings)
    seen = [client.get(f"/api/v1/submissions/{r.json()['id']}").json() for r in (failing, ok)]
    with db.session() as session:  # the submitter's data export follows the same rule
        exported = personal_data.export(session, seen_by(db, "outsider@example.org"))
    assert {e["status"] for e in exported["submissions"]} == {"finished"}
    assert all(e["metrics"] is None and e["error"] == "" for e in exported["submissions"])
    neutral = [
        {
            k: v
            for k, v in s.items()
            if k not in ("id", "family", "card", "model_digest", "created_at", "dummy_metrics")
        }
        for s in seen
    ]
    assert neutral[0] == neutral[1]  # same status, no error, no metrics
    assert seen[0]["status"] == "finished" and seen[0]["error"] == ""
    _as(client, "checker1@example.org")
    checked = client.get(f"/api/v1/submissions/{failing.json()['id']}").json()
    assert checked["status"] == "failed" and "NaN" in checked["error"]
    page = client.get(f"/submissions/{failing.json()['id']}", headers={"accept-language": "fr"})
    # the checker's page gives the stored reason in French (the API keeps the English text)
    assert "la sortie du modèle contient des valeurs NaN ou infinies" in html.unescape(page.text)
    approve_failed = client.post(
        f"/api/v1/submissions/{failing.json()['id']}/checks",
        json={"decision": "approve", "comment": "x"},
    )
    assert approve_failed.status_code == 409


# PostgreSQL: the cap is decided under a row lock there; model bytes and metrics as JSONB.
@pytest.mark.slow  # four runs in a child process
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_the_number_of_evaluations_per_model_family_is_capped(client, db, settings, world):
    hospital.build(settings.warehouse_path, REAL[:60], DUMMY[:60])
    approve(db, settings, world, datasets=[hospital.DATASET])
    client.login("chercheuse@example.org")
    made = client.post(
        f"/api/v1/projects/{world.project_id}/benchmarks",
        json={
            "approval_id": world.approval_id,
            "definition": hospital.benchmark(evaluations_per_family=1),
        },
    ).json()
    _as(client, "outsider@example.org")
    model = onnx_models.logistic(WEIGHTS, BIAS)
    assert _submit(client, made["id"], model).status_code == 201
    again = _submit(client, made["id"], model)
    assert again.status_code == 409 and again.json()["error"]["code"] == "evaluations_exhausted"
    other = _submit(client, made["id"], model, family="other")
    assert other.status_code == 201
    ran = [service.work_once(db, settings) for _ in range(3)]
    assert ran[2] is None and other.json()["id"] in ran
    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/submissions/{other.json()['id']}").json()
    assert seen["status"] == "succeeded" and seen["metrics"]["people"] == 60


def test_a_benchmark_outside_the_approval_or_badly_defined_is_refused_where_it_is_wrong(
    client, db, settings, world
):
    hospital.build(settings.warehouse_path, REAL[:60], DUMMY[:60])
    approve(db, settings, world, datasets=[hospital.DATASET], views=["patient_demographics"])
    client.login("chercheuse@example.org")
    url = f"/api/v1/projects/{world.project_id}/benchmarks"
    scope = client.post(
        url, json={"approval_id": world.approval_id, "definition": hospital.benchmark()}
    )
    assert scope.status_code == 403 and "conditions" in scope.text
    no_index = hospital.benchmark(cohort={"view": "patients"})
    bad = client.post(url, json={"approval_id": world.approval_id, "definition": no_index})
    assert bad.status_code == 400 and "index_date" in bad.json()["error"]["message"]
    typo = hospital.benchmark(features=[{"name": "age", "column": "agee"}])
    wrong = client.post(url, json={"approval_id": world.approval_id, "definition": typo})
    assert wrong.status_code == 400 and "agee" in wrong.json()["error"]["message"]
    _as(client, "outsider@example.org")
    outsider = client.post(
        url, json={"approval_id": world.approval_id, "definition": hospital.benchmark()}
    )
    assert outsider.status_code == 403


def test_a_submission_left_running_by_a_stopped_worker_goes_to_the_checkers_as_failed(
    client, db, settings, world
):
    import datetime as dt

    from campus.evaluation.models import Submission

    hospital.build(settings.warehouse_path, REAL[:60], DUMMY[:60])
    approve(db, settings, world, datasets=[hospital.DATASET])
    client.login("chercheuse@example.org")
    made = client.post(
        f"/api/v1/projects/{world.project_id}/benchmarks",
        json={"approval_id": world.approval_id, "definition": hospital.benchmark()},
    ).json()
    _as(client, "outsider@example.org")
    sid = _submit(client, made["id"], onnx_models.logistic(WEIGHTS, BIAS)).json()["id"]
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    with db.session() as session:  # a worker took it two minutes ago, then stopped
        row = session.get(Submission, sid)
        row.status, row.started_at = "running", started
    assert service.reap_stalled(db) == 0  # within its time limit and grace
    assert client.get(f"/api/v1/submissions/{sid}").json()["status"] == "running"
    assert service.reap_stalled(db, now=started + dt.timedelta(minutes=10)) == 1
    seen = client.get(f"/api/v1/submissions/{sid}").json()
    assert seen["status"] == "finished" and seen["error"] == ""


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_submission_while_the_runner_is_busy_is_refused_with_a_retry_message(
    client, db, settings, world, bench
):
    client.login("outsider@example.org")
    held = [service.DUMMY_RUNS.acquire(blocking=False) for _ in range(2)]
    try:
        assert held == [True, True]  # two models already running on the dummy twin
        busy = _submit(client, bench["id"], onnx_models.logistic(WEIGHTS, BIAS))
    finally:
        for _ in held:
            service.DUMMY_RUNS.release()
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "runner_busy"
    assert _submit(client, bench["id"], onnx_models.logistic(WEIGHTS, BIAS)).status_code == 201
