"""Federated logistic regression in-process (the nodes talk to the centre's app through the
test client, on the real engine): Newton-Raphson rounds until convergence, the result equal
to one site's fit on the union, bad definitions refused with where, and the minimum-cell
rule against a researcher who narrows a node to one person."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from campus.analysis.results import Controls
from campus.federation.models import Task
from tests.integration.federation.logistic import fit
from tests.integration.federation.test_deadlines_and_catalogues import (
    _federation,
    _local,
    _node,
    _release,
    _submit,
)
from tests.integration.federation.test_processes import FEDERATED

# Death by age at 2020 (60 made-up patients born 1940 to 1979, one in four deceased).
MODEL = {
    "title": "Décès selon l'âge",
    "dataset": FEDERATED,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients", "index_date": "2020-01-01", "birth_date": "birth_date"},
    "outputs": [
        {
            "type": "logistic_regression",
            "name": "deces",
            "event": [{"column": "deceased", "op": "not_null"}],
            "covariates": ["age_at_index"],
        }
    ],
}


def _rounds(nodes) -> int:
    """Poll every node until none has a task waiting; the number of polls."""
    polls = 0
    while sum(node.once() for node in nodes):
        polls += 1
        assert polls <= 30
    return polls


# PostgreSQL: the three node processes of test_processes.py.
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_federated_fit_equals_one_site_on_the_union_to_a_millionth(
    client, db, settings, world, monkeypatch
):
    tokens = _federation(client, db, settings, world, ("chu-a", "chu-b"))
    submitted = _submit(client, world, MODEL)
    assert submitted.status_code == 201, submitted.text
    job = submitted.json()["id"]
    nodes = [_node(client, db, settings, monkeypatch, n, t) for n, t in tokens.items()]
    assert _rounds(nodes) >= 3
    client.login("chercheuse@example.org")
    seen = client.get(f"/api/v1/federated-jobs/{job}").json()
    assert seen["status"] == "finished" and seen["result"] is None
    client.delete("/api/v1/session")
    released = _release(client, job)
    assert released["release_status"] == "released", released
    result = released["result"]
    (table,) = result["tables"]
    assert table["columns"] == [
        "term",
        "coefficient",
        "standard_error",
        "ci_low",
        "ci_high",
        "odds_ratio",
    ]

    # The union: both nodes hold the same 60 patients, so each patient twice. Their ages
    # and outcomes from the engine itself (threshold 1, no rounding).
    exact = _local(
        settings,
        MODEL
        | {
            "outputs": [
                {
                    "type": "counts",
                    "name": "rows",
                    "group_by": ["age_at_index"],
                    "event": MODEL["outputs"][0]["event"],
                }
            ]
        },
        Controls(threshold=1, base=1),
    )["tables"][0]["rows"]
    people = [
        (float(a), e) for a, n, e, _r in exact if a != "*" for e in [1.0] * e + [0.0] * (n - e)
    ]
    x = np.array([[1.0, a] for a, _y in people] * 2)
    y = np.array([y for _a, y in people] * 2)
    beta, se = fit(x, y)
    terms = [row[0] for row in table["rows"]]
    assert terms == ["(intercept)", "age_at_index"]
    for row, b, s in zip(table["rows"], beta, se, strict=True):
        assert abs(row[1] - b) <= 1e-6 and abs(row[2] - s) <= 1e-6
        assert abs(row[3] - (b - 1.959963984540054 * s)) <= 1e-6
        assert abs(row[5] - np.exp(b)) <= 1e-6 * max(1, np.exp(b))
    assert result["cohort"] == 5 * round(len(y) / 5) and result["iterations"] >= 3
    page = client.get(f"/federated-jobs/{job}")
    assert page.status_code == 200 and "régression logistique" in page.text

    # The public register lists the federated job and its release, linked to its page.
    entry = client.get(f"/api/v1/register/{world.project_id}").json()
    listed = next(j for j in entry["jobs"] if j["id"] == job)
    assert listed["status"] == "finished" and listed["url"] == f"/federated-jobs/{job}"
    assert {"job": job, "url": f"/federated-jobs/{job}"}.items() <= entry["releases"][-1].items()
    assert f'href="/federated-jobs/{job}"' in client.get(f"/register/{world.project_id}").text
    # And its Atom feed announces the release, as it does a local job's.
    assert f"/federated-jobs/{job}" in client.get("/register/feed.atom").text
    # `campus project show` (no app in its process: the CLI wires the register) lists it too.
    from typer.testing import CliRunner

    from campus import cli
    from campus.analysis import cli as analysis_cli
    from campus.governance import register

    register.OTHER_JOBS.clear()
    monkeypatch.setattr(analysis_cli, "database", lambda: db)
    shown = CliRunner().invoke(cli.app, ["project", "show", world.project_id])
    assert shown.exit_code == 0, shown.output
    assert f"/federated-jobs/{job}" in shown.output


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_bad_regression_is_refused_with_where(client, db, settings, world, monkeypatch):
    _federation(client, db, settings, world, ("chu-a", "chu-b"))
    output = MODEL["outputs"][0]
    cases = {
        "outputs[0].covariates[0].column": output | {"covariates": ["poids"]},
        "outputs[0].event": output | {"event": []},
        "outputs[0].tolerance": output | {"tolerance": 0},
        "outputs[1]": [output, {"type": "counts", "name": "n"}],
    }
    for where, bad in cases.items():
        made = _submit(client, world, MODEL | {"outputs": bad if isinstance(bad, list) else [bad]})
        assert made.status_code == 400, (where, made.text)
        assert made.json()["error"]["where"] == where, made.json()
    made = _submit(client, world, MODEL, deadline_minutes=60, min_nodes=1)
    assert made.status_code == 400 and made.json()["error"]["where"] == "min_nodes"


def recover(answers: list[dict]) -> float | None:
    """The attack: from a node's score and information at the first coefficients (zero), a
    cell of one person gives her outcome. At zero every p is 1/2, so the information of the
    covariate is a quarter of its count and its score is Σ(y - 1/2) over that count."""
    for answer in answers:
        if "gradient" not in answer:
            continue
        n = round(4 * answer["hessian"][0][0])
        ones = round(4 * answer["hessian"][-1][-1])
        if n == 1:
            return answer["gradient"][0] + 0.5
        if ones == 1:
            return answer["gradient"][-1] + 0.5
    return None


def test_a_node_narrowed_to_one_person_sends_nothing_the_attack_could_use(
    client, db, settings, world, monkeypatch
):
    """A researcher's cohort of one patient at a node, or a covariate level of one patient
    (the only one born in February 1941): her score and information would tell whether she
    died. The node withholds its contribution, the job ends as any other, and what the centre
    holds and releases says nothing of her."""
    tokens = _federation(client, db, settings, world, ("chu-a", "chu-b"))
    output = MODEL["outputs"][0]
    alone = MODEL | {
        "cohort": MODEL["cohort"]
        | {"include": [{"column": "birth_date", "op": "eq", "value": "1941-02"}]}
    }
    level = MODEL | {
        "outputs": [output | {"covariates": [{"column": "birth_date", "levels": ["1941-02"]}]}]
    }
    jobs = [_submit(client, world, question).json()["id"] for question in (alone, level)]
    nodes = [_node(client, db, settings, monkeypatch, n, t) for n, t in tokens.items()]
    _rounds(nodes)
    for job in jobs:
        with db.session() as session:
            answers = session.scalars(select(Task.answer).where(Task.job_id == job)).all()
        assert recover(answers) is None, answers
        assert all(a == {"withheld": True} for a in answers)
        client.login("chercheuse@example.org")
        seen = client.get(f"/api/v1/federated-jobs/{job}").json()
        assert seen["status"] == "finished" and seen["result"] is None
        assert {n["status"] for n in seen["nodes"]} == {"answered"}
        client.delete("/api/v1/session")
        register = client.get(f"/api/v1/register/{world.project_id}").json()["jobs"]
        assert next(j for j in register if j["id"] == job)["status"] == "finished"
        released = _release(client, job)
        (table,) = released["result"]["tables"]
        assert table["rows"] == [] and table["disclosure"]["withheld"] is True
        assert released["result"]["cohort"] is None
