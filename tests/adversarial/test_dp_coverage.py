"""Under differential privacy, every number released is noised and paid for (finding 4).

The attack: with epsilon set, the cohort's size was still published (rounded, not noised),
and empty cells got no noise, so a zero stood out exactly. Here the noise is replaced by a
marker (+1000 on every count it touches): any count under 1000 in the outputs did not go
through the mechanism. The budget tests check that the job's epsilon covers each release
(the cohort's size included) and is charged even when the run fails on the data.
"""

from __future__ import annotations

import duckdb
import pytest
from sqlalchemy import update

from campus.analysis import definition, jobs, privacy, results, runner
from campus.analysis.compiler import compile_analysis
from campus.errors import BadRequest
from campus.governance.models import DataProject
from tests.integration.analysis import setup, warehouse
from tests.integration.analysis.setup import approve

world = setup.world  # the analysis tests' fixture: people, library, a dataset version
MARK = 1000


def _analysis() -> definition.Analysis:
    return definition.parse(
        {
            "title": "dp",
            "dataset": "ds",
            "views": {"people": {"library": "people", "patient": "patient"}},
            "cohort": {"view": "people"},
            "outputs": [
                {"type": "counts", "name": "by_sex", "group_by": ["sex"]},
                {
                    "type": "counts",
                    "name": "deaths",
                    "group_by": ["sex"],
                    "event": [{"column": "dead", "op": "eq", "value": "yes"}],
                },
                {
                    "type": "crosstab",
                    "name": "sex_by_age",
                    "rows": "sex",
                    "columns": {"column": "age", "width": 20},
                },
                {
                    "type": "distribution",
                    "name": "ages",
                    "column": "age",
                    "quantiles": [],
                    "histogram": {"edges": [0, 20, 40, 60, 200]},
                },
            ],
            "privacy": {"epsilon": 1.0},
        }
    )


def _people(con) -> None:
    con.execute("CREATE TABLE people (patient VARCHAR, sex VARCHAR, age DOUBLE, dead VARCHAR)")
    rows = [(f"p{i}", "female" if i % 2 else "male", 20 + i % 30, "no") for i in range(40)]
    rows.append(("p-old", "male", 95, "yes"))  # alone in his band: empty cells around him
    con.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", rows)


def _counts(table: dict) -> list[int | None]:
    """Every count of a table (not the rate, a ratio of two of them)."""
    columns = table["columns"]
    picks = [i for i, c in enumerate(columns) if c in ("count", "events")]
    return [row[i] for row in table["rows"] for i in picks]


def test_every_released_count_went_through_the_noise_mechanism():
    con = duckdb.connect()
    _people(con)
    analysis = _analysis()
    compiled = compile_analysis(
        analysis, {"people": "SELECT * FROM people"}, {"people": ["patient", "sex", "age", "dead"]}
    )
    controls = results.Controls(threshold=10, base=5, noise=lambda v: v + MARK)
    out = results.run(con, compiled, controls)
    assert out["cohort"] is not None and out["cohort"] >= MARK, "the cohort size is not noised"
    unnoised = []
    for table in out["tables"]:
        for value in _counts(table):
            if value is not None and value < MARK:
                unnoised.append((table["name"], value))
    assert unnoised == [], f"counts released without noise: {unnoised}"
    assert {t["name"] for t in out["tables"]} == {"by_sex", "deaths", "sex_by_age", "ages"}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_job_epsilon_is_split_over_every_release_the_cohort_included(settings, monkeypatch):
    asked: list[float] = []

    def mechanism(name: str, epsilon: float):
        asked.append(epsilon)
        return lambda v: v

    monkeypatch.setattr(privacy, "mechanism", mechanism)
    analysis = _analysis()
    _, epsilon = jobs.controls_for(settings, analysis)
    releases = runner.noisy_outputs(analysis) + 1  # four tables and the cohort's size
    assert epsilon == 1.0 and releases == 5
    assert asked == [pytest.approx(epsilon / releases)]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_run_that_fails_on_the_data_still_spends_its_epsilon(
    client, db, settings, world, monkeypatch
):
    approve(db, settings, world)
    with db.session() as session:
        session.execute(
            update(DataProject).where(DataProject.id == world.project_id).values(privacy_budget=1.0)
        )
    noisy = warehouse.DP_ANALYSIS
    client.login("chercheuse@example.org")
    response = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": noisy},
    )
    assert response.status_code == 201, response.text

    def failing(*args, **kwargs):
        raise BadRequest("the data broke the run")

    monkeypatch.setattr(runner, "execute", failing)
    jobs.work_once(db, settings)
    project = client.get(f"/api/v1/projects/{world.project_id}").json()
    assert project["privacy_budget"]["spent"] == pytest.approx(0.6)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_under_dp_no_group_label_comes_from_the_data(client, db, settings, world):
    """A rare code would show by its name in the labels, whatever the noise on its count:
    under DP the groups are declared, and everything else is counted as 'other'."""
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    undeclared = dict(warehouse.MARKER_ANALYSIS, privacy={"epsilon": 0.6})
    refused = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": undeclared},
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["where"] == "outputs[0].group_by[0]"
    job_id = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": warehouse.DP_ANALYSIS},
    ).json()["id"]
    jobs.work_once(db, settings)
    client.delete("/api/v1/session")
    client.login("checker1@example.org")
    outputs = client.get(f"/api/v1/jobs/{job_id}").json()["outputs"]
    labels = {row[0] for row in outputs["tables"][0]["rows"]}
    assert labels == {"230690007", "44054006", "other", "*"}
    assert warehouse.MARKER not in str(outputs)
