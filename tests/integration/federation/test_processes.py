"""A centre (`campus serve`) and three hospital nodes (`campus node run`), each a separate
process with its own var folder, database and warehouse, talking HTTP on loopback."""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select, update

from campus.analysis import definition, runner
from campus.analysis.results import Controls
from campus.db.engine import Database
from campus.evaluation import demo as evaluation_demo
from campus.evaluation import demo_models, features, metrics, modelcheck, sandbox
from campus.evaluation import pooling as evaluation_pooling
from campus.evaluation.definition import BenchmarkDefinition
from campus.federation import pooling, signing
from campus.federation.models import Node, NodeCredential, Task
from campus.warehouse import synthetic
from tests.conftest import TEST_SECRET
from tests.helpers import audit_events, free_port, make_account, run_cli
from tests.integration.analysis.setup import World, approve
from tests.integration.federation.logistic import fit

CAMPUS = str(Path(sys.executable).parent / "campus")
FEDERATED = "fed-hopitaux"
ANALYSIS = {
    "title": "Patients par sexe",
    "dataset": FEDERATED,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients"},
    "outputs": [
        {"type": "counts", "name": "by_sex", "group_by": ["gender"]},
        {
            "type": "crosstab",
            "name": "sex_by_status",
            "rows": "gender",
            "columns": "marital_status",
        },
    ],
}
NODES = {"chu-a": ("hopital-a", 1), "chu-b": ("hopital-b", 2), "chu-c": ("hopital-c", 3)}
# Bins closed at both ends (people born after the index date are aged below 0).
EDGES = [-20, 20, 50, 80, 110]
SPREAD = EDGES[-1] - EDGES[0]
# Means, quantiles and Kaplan-Meier from the nodes' sufficient statistics.
STATISTICS = {
    "title": "Âge et survie",
    "dataset": FEDERATED,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients", "index_date": "2015-01-01", "birth_date": "birth_date"},
    "outputs": [
        {
            "type": "distribution",
            "name": "age",
            "column": "age_at_index",
            "quantiles": [0.25, 0.5, 0.75],
            "histogram": {"edges": EDGES},
        },
        {
            "type": "time_to_event",
            "name": "km",
            "event": {"view": "patients", "column": "deceased_date_time"},
            "censor": "2025-01-01",
            "interval_days": 365,
        },
    ],
}


# Ever married by age and sex: at each node at least 10 of each outcome and of each sex.
REGRESSION = {
    "title": "Mariage selon l'âge et le sexe",
    "dataset": FEDERATED,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": STATISTICS["cohort"],
    "outputs": [
        {
            "type": "logistic_regression",
            "name": "marie",
            "event": [{"column": "marital_status", "op": "in", "value": ["M", "D"]}],
            "covariates": ["age_at_index", {"column": "gender", "levels": ["female"]}],
        }
    ],
}


# A federated evaluation: the demo's benchmark (hypertension within ten years, from age, sex,
# diabetes and prediabetes), defined on a dataset the centre holds for its dummy twin.
CENTRE_DATASET = "hopital-centre"
BENCHMARK = evaluation_demo.BENCHMARK | {"dataset": CENTRE_DATASET, "bins": 10}
# Standardised by age 50 +- 20, a missing value (the dummy twin keeps no birth date) as the
# mean: the demo models' form (campus.evaluation.demo_models).
MODEL = demo_models.to_onnx(
    np.array([50.0, 0.0, 0.0, 0.0]),
    np.array([20.0, 1.0, 1.0, 1.0]),
    np.array([1.2, 0.2, 1.0, 0.5]),
    -1.5,
)
CARD = {
    "name": "HTA",
    "version": "1",
    "intended_use": "research",
    "training_data": "elsewhere",
    "regulatory_status": "none",
}


def _env(var: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    env.update(
        CAMPUS_ENV="test",
        CAMPUS_VAR_DIR=str(var),
        CAMPUS_SECRET_KEY=TEST_SECRET,
        CAMPUS_PSEUDONYM_KEY=TEST_SECRET + "p",
        CAMPUS_OPTOUT_KEY=TEST_SECRET + "o",
    )
    if database_url:
        env["CAMPUS_DATABASE_URL"] = database_url
    return env


def _campus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CAMPUS, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _ingest(var: Path, dataset: str, *folders: Path) -> None:
    done = _campus(_env(var), "ingest", *map(str, folders), "--dataset", dataset, "--json")
    assert done.returncode == 0, done.stderr


def _wait_healthy(base: str, server: subprocess.Popen) -> None:
    for _ in range(600):
        assert server.poll() is None, "campus serve exited"
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        subprocess.run(["sleep", "0.2"], check=True)
    raise AssertionError("campus serve did not start")


@pytest.fixture
def sites(tmp_path):
    """Two hospitals' FHIR exports (two seeds of the generated hospital), each ingested at
    its node, and both at a single site (the union) for comparison."""
    parts = {}
    for name, (dataset, seed) in NODES.items():
        parts[name] = synthetic.write(tmp_path / f"fhir-{name}", 40, seed=seed)[0].parent
        _ingest(tmp_path / name, dataset, parts[name])
    _ingest(tmp_path / "union", "union", *parts.values())
    return parts


def _node_run(tmp_path: Path, central: str, name: str) -> subprocess.CompletedProcess:
    return _campus(
        _env(tmp_path / name),
        "node", "run", "--once",
        "--central", central,
        "--token-file", str(tmp_path / f"{name}.token"),
        "--dataset", NODES[name][0],
        "--centre-key", str(tmp_path / "centre.pem"),
        "--name", name,
    )  # fmt: skip


def _node_loop(tmp_path: Path, central: str, name: str) -> subprocess.Popen:
    """`campus node run` polling every half second, its log in NAME.loop."""
    return subprocess.Popen(
        [
            CAMPUS, "node", "run", "--interval", "0.5",
            "--central", central,
            "--token-file", str(tmp_path / f"{name}.token"),
            "--dataset", NODES[name][0],
            "--centre-key", str(tmp_path / "centre.pem"),
            "--name", name,
        ],
        env=_env(tmp_path / name),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"{name}.loop").open("w"),
    )  # fmt: skip


def _union(tmp_path: Path, question: dict = ANALYSIS, controls: Controls = Controls()) -> dict:
    analysis = definition.parse(question | {"dataset": "union"})
    return runner.execute(
        analysis,
        warehouse=tmp_path / "union" / "warehouse",
        kind="real",
        controls=controls,
        scope=runner.Scope(("union",), ("patient_demographics",)),
        optout_keys=set(),
    )


def _cells(table: dict) -> dict[tuple, int | None]:
    return {tuple(row[:-1]): row[-1] for row in table["rows"]}


def _compare_statistics(tmp_path: Path, released: httpx.Response) -> None:
    """The pooled mean, standard deviation, quantiles and survival against one site on the
    union of the three parts."""
    result = released.json()["result"]
    tables = {t["kind"]: t for t in result["tables"]}
    ages_question = STATISTICS | {
        "outputs": [{"type": "counts", "name": "ages", "group_by": ["age_at_index"]}]
    }
    exact = _union(tmp_path, ages_question, Controls(threshold=1, base=1))["tables"][0]["rows"]
    ages = [float(a) for a, n in exact if a != "*" for _ in range(n)]
    clamped = [min(max(a, EDGES[0]), EDGES[-1]) for a in ages]
    (n, mean, sd), *_ = tables["summary"]["rows"]
    assert abs(n - len(ages)) <= 2.5
    assert abs(mean - statistics.mean(clamped)) <= pooling.step(SPREAD / len(ages)) / 2 + 1e-9
    assert abs(sd - statistics.stdev(clamped)) <= pooling.step(SPREAD / len(ages) ** 0.5) / 2 + 1e-9
    exact_quartiles = statistics.quantiles(ages, n=4)
    (_count, quartiles), *_ = tables["quantiles"]["rows"]
    read = [(q, e) for q, e in zip(quartiles, exact_quartiles, strict=True) if q is not None]
    assert tables["quantiles"]["approximate"] is True
    inner = [r[-1] for r in tables["histogram"]["rows"] if r[0] not in ("*", f"<{EDGES[0]}")]
    # None where a node suppressed a bin on each side of the quantile (40 patients a node).
    assert read or None in inner, tables["histogram"]["rows"]
    assert all(abs(q - e) <= 60 for q, e in read)  # within one bin width
    union_km = next(
        t for t in _union(tmp_path, STATISTICS)["tables"] if t["kind"] == "time_to_event"
    )
    single = {r[0]: r for r in union_km["rows"]}
    compared = 0
    for day, at_risk, _events, survival in tables["time_to_event"]["rows"]:
        if day in single:
            assert abs(at_risk - single[day][1]) <= 10 and abs(survival - single[day][3]) <= 0.1
            compared += 1
    assert compared >= 3


def _compare_regression(tmp_path: Path, released: dict) -> None:
    """The pooled fit against a plain Newton-Raphson on the union's rows (from the engine
    itself, threshold 1, no rounding): coefficients and standard errors to 1e-6."""
    model = REGRESSION["outputs"][0]
    rows_question = REGRESSION | {
        "dataset": "union",
        "outputs": [
            {
                "type": "counts",
                "name": "rows",
                "group_by": ["age_at_index", "gender"],
                "event": model["event"],
            }
        ],
    }
    exact = _union(tmp_path, rows_question, Controls(threshold=1, base=1))["tables"][0]["rows"]
    x, y = [], []
    for age, sex, n, events, _rate in exact:
        if "*" in (age, sex) or age is None or sex is None:
            continue
        for outcome in [1.0] * events + [0.0] * (n - events):
            x.append([1.0, float(age), 1.0 if sex == "female" else 0.0])
            y.append(outcome)
    beta, se = fit(np.array(x), np.array(y))
    (table,) = released["result"]["tables"]
    assert [r[0] for r in table["rows"]] == ["(intercept)", "age_at_index", "gender=female"]
    for row, b, s in zip(table["rows"], beta, se, strict=True):
        assert abs(row[1] - b) <= 1e-6 and abs(row[2] - s) <= 1e-6, (row, b, s)


def _submit_evaluation(client, db, settings, people, sites) -> str:
    """The team defines the benchmark on the centre's own dataset (its dummy twin checks a
    model at once); a member outside the project submits a model evaluated at the nodes."""
    done = _campus(
        _env(settings.var_dir, settings.db_url),
        "ingest", str(sites["chu-a"]), "--dataset", CENTRE_DATASET, "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    client.login("chercheuse@example.org")
    bench = client.post(
        f"/api/v1/projects/{people.project_id}/benchmarks",
        json={"approval_id": people.approval_id, "definition": BENCHMARK},
    )
    assert bench.status_code == 201, bench.text
    client.delete("/api/v1/session")
    make_account(db, "startup@example.org", "member")
    client.login("startup@example.org")
    submitted = client.post(
        f"/api/v1/benchmarks/{bench.json()['id']}/submissions",
        json={
            "model_base64": base64.b64encode(MODEL).decode(),
            "family": "hta",
            "threshold": 0.3,
            "card": CARD,
            "federated": FEDERATED,
        },
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["status"] == "at_nodes"
    client.delete("/api/v1/session")
    client.login("chercheuse@example.org")
    return submitted.json()["id"]


def _release_evaluation(client, db, tmp_path: Path, central: str, submission: str) -> None:
    """The submitter saw no node's outcome; the data steward and two output checkers release
    the pooled metrics, equal to one site's on the union of the parts at the pooled edges."""
    client.delete("/api/v1/session")
    client.login("startup@example.org")
    mine = client.get(f"/api/v1/submissions/{submission}").json()
    assert mine["status"] == "finished" and mine["metrics"] is None
    assert {n["status"] for n in mine["federated"]["nodes"]} == {"answered"}
    make_account(db, "steward@example.org", "data_steward")
    for person, path in (
        ("checker1@example.org", "checks"),
        ("checker2@example.org", "checks"),
        ("steward@example.org", "steward"),
    ):
        client.delete("/api/v1/session")
        client.login(person)
        checked = client.post(
            f"/api/v1/submissions/{submission}/{path}",
            json={"decision": "approve", "comment": "bins of the nodes only"},
        )
        assert checked.status_code == 200, checked.text
    client.delete("/api/v1/session")
    released = httpx.get(f"{central}/api/v1/submissions/{submission}").json()
    assert released["release_status"] == "released", released
    pooled = released["metrics"]
    assert pooled["pooled"]["nodes"] == 3 and pooled["dataset"] == FEDERATED
    answers = _evaluation_answers(db, submission)
    assert all(set(a) == set(evaluation_pooling.FIELDS) for a in answers)  # bins, nothing else
    bench = BenchmarkDefinition.model_validate(BENCHMARK | {"dataset": "union"})
    table = features.build(
        bench,
        warehouse=tmp_path / "union" / "warehouse",
        kind="real",
        scope=runner.Scope(("union",), ("patient_demographics", "conditions")),
        optout_keys=set(),
    )
    output = modelcheck.check(MODEL, features=4, max_bytes=10**6, max_nodes=100).output_name
    scores = sandbox.run(
        MODEL, table.features, output_name=output, memory_mb=1024, seconds=30
    ).scores
    common = evaluation_pooling.common_edges(answers)
    one_site = metrics.evaluate(
        metrics.binned(scores, table.labels, bins=10, threshold=0.3, k=10, within=common), base=5
    )
    assert pooled["people"] == one_site["people"]
    for name, value in one_site["metrics"].items():
        got = pooled["metrics"][name]
        assert (got["value"] is None) == (value["value"] is None), name
        if value["value"] is not None:
            assert got["value"] == pytest.approx(value["value"], abs=1e-6), name
            assert got["ci95"] == pytest.approx(value["ci95"], abs=1e-6), name
    page = httpx.get(f"{central}/benchmarks/{released['benchmark_id']}")
    assert "3 nœuds" in page.text


def _evaluation_answers(db, submission: str) -> list[dict]:
    from campus.evaluation.models import Submission

    with db.session() as session:
        job = session.get(Submission, submission).federated_job_id
        return [t.answer for t in session.scalars(select(Task).where(Task.job_id == job))]


@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_federated_job_pools_three_node_processes_and_refuses_tampered_expired_and_revoked(
    tmp_path, db, settings, client, monkeypatch, sites
):
    # The centre's staff register the nodes, issue credentials and name the federated dataset.
    for name in NODES:
        assert (
            run_cli(
                monkeypatch, settings, "federation", "add-node", name, "--title", name
            ).exit_code
            == 0
        )
        issued = run_cli(
            monkeypatch, settings, "federation", "credential", name,
            "--out", str(tmp_path / f"{name}.token"),
        )  # fmt: skip
        assert issued.exit_code == 0, issued.output
    members = [f"--member={n}:{d}" for n, (d, _seed) in NODES.items()]
    assert (
        run_cli(monkeypatch, settings, "federation", "dataset", FEDERATED, *members).exit_code == 0
    )
    key = run_cli(monkeypatch, settings, "federation", "key").output
    (tmp_path / "centre.pem").write_text(
        key[: key.index("-----END PUBLIC KEY-----")] + "-----END PUBLIC KEY-----\n"
    )

    people = World(
        researcher=make_account(db, "chercheuse@example.org", "researcher"),
        reviewer1=make_account(db, "ethique1@example.org", "ethics_reviewer"),
        reviewer2=make_account(db, "ethique2@example.org", "ethics_reviewer"),
        reviewer_conflicted="",
        checker1=make_account(db, "checker1@example.org", "output_checker"),
        checker2=make_account(db, "checker2@example.org", "output_checker"),
        outsider="",
    )
    approve(
        db,
        settings,
        people,
        datasets=[FEDERATED, CENTRE_DATASET],
        views=["patient_demographics", "conditions"],
    )

    port = free_port()
    central = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [CAMPUS, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(settings.var_dir, settings.db_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(central, server)
        client.login("chercheuse@example.org")
        submitted = client.post(
            f"/api/v1/projects/{people.project_id}/federated-jobs",
            json={"approval_id": people.approval_id, "definition": ANALYSIS},
        )
        assert submitted.status_code == 201, submitted.text
        job_id = submitted.json()["id"]
        stats_job, regression_job = (
            client.post(
                f"/api/v1/projects/{people.project_id}/federated-jobs",
                json={"approval_id": people.approval_id, "definition": question},
            ).json()["id"]
            for question in (STATISTICS, REGRESSION)
        )
        submission = _submit_evaluation(client, db, settings, people, sites)
        logs = {}
        for name in NODES:
            ran = _node_run(tmp_path, central, name)
            assert ran.returncode == 0, ran.stderr
            # The regression's first round too, and the federated evaluation.
            assert "4 task(s) handled" in ran.stdout
            logs[name] = ran.stderr  # a run that fails on the data says why only here

        # The regression's next rounds: the nodes run as at a hospital (`campus node run`,
        # polling) until the centre's Newton-Raphson step converges.
        running = [_node_loop(tmp_path, central, name) for name in NODES]
        try:
            for _ in range(1200):
                seen = client.get(f"/api/v1/federated-jobs/{regression_job}").json()
                if seen["status"] != "waiting":
                    break
                subprocess.run(["sleep", "0.5"], check=True)
        finally:
            for process in running:
                process.terminate()
                process.wait(timeout=60)
        assert seen["status"] == "finished", [p.read_text() for p in tmp_path.glob("*.loop")]

        # The team sees a status that does not depend on the data, and no outputs.
        seen = client.get(f"/api/v1/federated-jobs/{job_id}").json()
        assert seen["status"] == "finished" and seen["result"] is None
        assert {n["status"] for n in seen["nodes"]} == {"answered"}

        # Nothing but statistics was posted: exactly the declared tables, labels and counts.
        with db.session() as session:
            answers = [t.answer for t in session.scalars(select(Task).where(Task.job_id == job_id))]
        stored = json.dumps(answers)
        patients = [
            found.group(0)
            for folder in sites.values()
            for bundle in folder.glob("*.json")
            if (found := re.search(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", bundle.name))
        ]
        assert len(patients) >= 80 and not any(p in stored for p in patients)
        # The node posts its public catalogue and a few rows of its dummy twin: no real id.
        published = _campus(
            _env(tmp_path / "chu-a"),
            "node", "publish",
            "--central", central,
            "--token-file", str(tmp_path / "chu-a.token"),
            "--dataset", "hopital-a",
            "--centre-key", str(tmp_path / "centre.pem"),
            "--name", "chu-a",
        )  # fmt: skip
        assert published.returncode == 0, published.stderr
        shown = httpx.get(f"{central}/api/v1/federation/datasets/{FEDERATED}").json()
        member = next(m for m in shown["members"] if m["node"] == "chu-a")
        assert member["catalogue"]["patients"] and member["twin"]["Patient"]
        assert not any(p in json.dumps(shown) for p in patients)
        for answer in answers:
            assert set(answer) == {"cohort", "tables"}, logs
            for table in answer["tables"]:
                assert set(table) == {"name", "kind", "columns", "rows", "withheld"}
                assert all(isinstance(r[-1], int | None) for r in table["rows"])

        # Two output checkers release the pooled result; it matches one site on the union.
        for checker in ("checker1@example.org", "checker2@example.org"):
            client.delete("/api/v1/session")
            client.login(checker)
            for job in (job_id, stats_job, regression_job):
                checked = client.post(
                    f"/api/v1/federated-jobs/{job}/checks",
                    json={"decision": "approve", "comment": "aggregates only"},
                )
                assert checked.status_code == 200, checked.text
        client.delete("/api/v1/session")
        released = httpx.get(f"{central}/api/v1/federated-jobs/{job_id}").json()
        assert released["release_status"] == "released"
        pooled, union = released["result"], _union(tmp_path)
        assert abs(pooled["cohort"] - union["cohort"]) <= 5
        compared = 0
        for ours, theirs in zip(pooled["tables"], union["tables"], strict=True):
            single = _cells(theirs)
            for key, value in _cells(ours).items():
                if value is not None and single.get(key) is not None:
                    # Each node rounds to 5, then the sum: at most 3 x 2.5 apart, plus 2.5.
                    assert abs(value - single[key]) <= 10, (ours["name"], key)
                    compared += 1
        assert compared >= 6
        assert _cells(pooled["tables"][0])[("*",)] == pooled["cohort"]
        page = httpx.get(f"{central}/federated-jobs/{job_id}")
        assert page.status_code == 200 and ">by_sex <span" in page.text
        _compare_statistics(tmp_path, httpx.get(f"{central}/api/v1/federated-jobs/{stats_job}"))
        _compare_regression(
            tmp_path, httpx.get(f"{central}/api/v1/federated-jobs/{regression_job}").json()
        )
        _release_evaluation(client, db, tmp_path, central, submission)

        # A tampered task and an expired one (two jobs: one refusal withdraws a job) are
        # refused at the node, with the reason.
        client.login("chercheuse@example.org")
        second, third = (
            client.post(
                f"/api/v1/projects/{people.project_id}/federated-jobs",
                json={"approval_id": people.approval_id, "definition": ANALYSIS},
            ).json()["id"]
            for _ in range(2)
        )
        with db.session() as session:
            a = session.scalars(select(Task).where(Task.job_id == second)).all()
            b = session.scalars(select(Task).where(Task.job_id == third)).all()
            task_a = next(t for t in a if t.payload["node"] == "chu-a")
            task_b = next(t for t in b if t.payload["node"] == "chu-b")
            scope = task_a.payload["scope"] | {"views": ["patient_demographics", "encounters"]}
            tampered = task_a.payload | {"scope": scope}
            expired = task_b.payload | {"expires_at": "2020-01-01T00:00:00+00:00"}
            session.execute(update(Task).where(Task.id == task_a.id).values(payload=tampered))
            session.execute(
                update(Task)
                .where(Task.id == task_b.id)
                .values(payload=expired, signature=signing.sign(settings.var_dir, expired))
            )
        for name in NODES:
            assert _node_run(tmp_path, central, name).returncode == 0
        reasons = {}
        for job in (second, third):
            refused = client.get(f"/api/v1/federated-jobs/{job}").json()
            assert refused["status"] == "refused"
            reasons |= {n["node"]: n["reason"] for n in refused["nodes"] if "reason" in n}
        assert "bad signature" in reasons["chu-a"] and "expired" in reasons["chu-b"]
        node_a = Database(f"sqlite:///{tmp_path / 'chu-a' / 'campus.db'}")
        assert any(e.action == "federated_task.refused" for e in audit_events(node_a))
        node_a.dispose()

        # A revoked credential is refused at once: the node stops with a clear error.
        client.delete("/api/v1/session")
        with db.session() as session:
            credential_id = session.scalar(
                select(NodeCredential.id)
                .join(Node, Node.id == NodeCredential.node_id)
                .where(Node.name == "chu-a")
            )
        assert run_cli(monkeypatch, settings, "federation", "revoke", credential_id).exit_code == 0
        stopped = _node_run(tmp_path, central, "chu-a")
        assert stopped.returncode == 1
        assert "unknown or revoked" in stopped.stderr and "Traceback" not in stopped.stderr
    finally:
        server.terminate()
        server.wait(timeout=60)
