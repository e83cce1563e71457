"""Federated jobs in-process (the nodes talk to the centre's app through the test client):
means, Kaplan-Meier and quantiles from the nodes' sufficient statistics on the real engine,
a deadline that completes with the nodes that answered (or fails under the minimum), and the
catalogue and dummy twin a node posts for the federated dataset's page."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import statistics as stats

from sqlalchemy import select, update

from campus.analysis import definition, runner
from campus.analysis.results import Controls
from campus.federation import pooling, signing
from campus.federation.models import FederatedJob, Task
from campus.federation.node import Node
from campus.governance import budget
from tests.helpers import make_account
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve
from tests.integration.federation.test_api import ANALYSIS as COUNTS
from tests.integration.federation.test_processes import FEDERATED

NODE = "x-campus-node"
EDGES = [0, 20, 40, 60, 80, 100]
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
            "event": {"view": "patients", "column": "deceased"},
            "censor": "2023-12-31",
            "interval_days": 365,
        },
    ],
}


def _federation(client, db, settings, world, names: tuple[str, ...]) -> dict[str, str]:
    """Nodes `names`, each serving the test warehouse's dataset, in one federated dataset."""
    make_account(db, "staff@example.org", "staff")
    client.login("staff@example.org")
    tokens = {}
    for name in names:
        client.post("/api/v1/federation/nodes", json={"name": name, "title": name.upper()})
        tokens[name] = client.post(f"/api/v1/federation/nodes/{name}/credentials").json()["token"]
    members = [{"node": n, "dataset": warehouse.DATASET} for n in names]
    made = client.post("/api/v1/federation/datasets", json={"name": FEDERATED, "members": members})
    assert made.status_code == 201, made.text
    client.delete("/api/v1/session")
    approve(db, settings, world, datasets=[FEDERATED], views=["patient_demographics"])
    return tokens


def _node(client, db, settings, monkeypatch, name: str, token: str) -> Node:
    node = Node(
        settings=settings,
        db=db,
        central="http://centre.invalid",
        token=token,
        dataset=warehouse.DATASET,
        centre_key=signing.public_pem(settings.var_dir),
        name=name,
        hold=False,
    )

    @contextlib.contextmanager
    def as_node():
        saved = dict(client.headers)
        client.headers.update({NODE: token})
        try:
            yield client
        finally:
            client.headers.clear()
            client.headers.update(saved)

    monkeypatch.setattr(node, "_client", as_node)
    return node


def _submit(client, world, analysis: dict, **extra) -> dict:
    client.login("chercheuse@example.org")
    made = client.post(
        f"/api/v1/projects/{world.project_id}/federated-jobs",
        json={"approval_id": world.approval_id, "definition": analysis, **extra},
    )
    client.delete("/api/v1/session")
    return made


def _release(client, job: str) -> dict:
    for checker in ("checker1@example.org", "checker2@example.org"):
        client.login(checker)
        checked = client.post(
            f"/api/v1/federated-jobs/{job}/checks", json={"decision": "approve", "comment": "ok"}
        )
        assert checked.status_code == 200, checked.text
        client.delete("/api/v1/session")
    return client.get(f"/api/v1/federated-jobs/{job}").json()


def _local(settings, analysis: dict, controls: Controls = Controls()) -> dict:
    return runner.execute(
        definition.parse(analysis | {"dataset": warehouse.DATASET}),
        warehouse=settings.warehouse_path,
        kind="real",
        controls=controls,
        scope=runner.Scope((warehouse.DATASET,), ("patient_demographics",)),
        optout_keys=set(),
    )


def test_means_kaplan_meier_and_quantiles_pool_from_two_nodes_as_on_their_union(
    client, db, settings, world, monkeypatch
):
    """Both nodes hold the same 60 patients: their union is each patient twice, so the
    pooled mean, standard deviation and survival are those of the doubled data."""
    tokens = _federation(client, db, settings, world, ("chu-a", "chu-b"))
    submitted = _submit(client, world, STATISTICS)
    assert submitted.status_code == 201, submitted.text
    job = submitted.json()["id"]
    for name, token in tokens.items():
        assert _node(client, db, settings, monkeypatch, name, token).once() == 1
    released = _release(client, job)
    assert released["release_status"] == "released", released
    tables = {(t["name"], t["kind"]): t for t in released["result"]["tables"]}
    assert set(tables) == {
        ("age", "summary"),
        ("age", "quantiles"),
        ("age", "histogram"),
        ("km", "time_to_event"),
    }

    # Each patient's age at index, from the engine itself (threshold 1, no rounding).
    ages_query = STATISTICS | {
        "outputs": [{"type": "counts", "name": "ages", "group_by": ["age_at_index"]}]
    }
    exact = _local(settings, ages_query, Controls(threshold=1, base=1))["tables"][0]["rows"]
    ages = [float(a) for a, n in exact if a != "*" for _ in range(n)] * 2
    (n, mean, sd), *_ = (r for r in tables[("age", "summary")]["rows"])
    assert n == 5 * math.floor(len(ages) / 5 + 0.5)
    assert abs(mean - stats.mean(ages)) <= pooling.step(100 / len(ages)) / 2 + 1e-9
    assert abs(sd - stats.stdev(ages)) <= pooling.step(100 / math.sqrt(len(ages))) / 2 + 1e-9

    # Kaplan-Meier: the summed risk sets of two equal halves give the single site's curve.
    single = _local(settings, STATISTICS)["tables"]
    km_single = next(t for t in single if t["kind"] == "time_to_event")["rows"]
    km_pooled = tables[("km", "time_to_event")]["rows"]
    assert len(km_pooled) >= 3
    for pooled_row, single_row in zip(km_pooled, km_single, strict=False):
        day, at_risk, events, survival = pooled_row
        assert [day, at_risk, events] == [single_row[0], 2 * single_row[1], 2 * single_row[2]]
        assert survival == single_row[3]

    # Quantiles are read from the pooled histogram and said to be approximate.
    quantiles = tables[("age", "quantiles")]
    assert quantiles["approximate"] is True
    (count, values), *_ = quantiles["rows"]
    assert count == n and len(values) == 3
    for value, q in zip(values, (0.25, 0.5, 0.75), strict=True):
        assert value is None or abs(value - stats.quantiles(ages, n=100)[int(q * 100) - 1]) <= 20

    # What each node sent: sums of at least the threshold's values, never per-patient values.
    with db.session() as session:
        answers = session.scalars(select(Task.answer).where(Task.job_id == job)).all()
    for answer in answers:
        assert [t["kind"] for t in answer["tables"]] == ["summary", "histogram", "risk_sets"]
        for n_values, *_sums in (r[-3:] for r in answer["tables"][0]["rows"]):
            assert n_values is None or n_values >= settings.disclosure_threshold
    page = client.get(f"/federated-jobs/{job}")
    assert page.status_code == 200 and '">age <span' in page.text
    # In French: the kinds, columns and pooling notes, and the quantiles said approximate.
    for words in ("moyenne et écart type", "écart type", "Approximatif", "ramenée dans [0, 100]"):
        assert words in page.text, words


def test_a_deadline_pools_the_nodes_that_answered_or_fails_under_the_minimum(
    client, db, settings, world, monkeypatch
):
    tokens = _federation(client, db, settings, world, ("chu-a", "chu-b"))
    bad = _submit(client, world, COUNTS, min_nodes=1)
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "min_nodes"
    bad = _submit(client, world, COUNTS, deadline_minutes=60, min_nodes=3)
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "min_nodes"
    # Completing without every node is the approval's to allow: its assigned reviewers or
    # the DPO, not another ethics reviewer (nor the team).
    bad = _submit(client, world, COUNTS, deadline_minutes=60, min_nodes=1)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "partial_not_allowed"
    for person, status in (("ethique3@example.org", 403), ("ethique1@example.org", 200)):
        client.login(person)
        allowed = client.put(
            f"/api/v1/approvals/{world.approval_id}/federated-partial", json={"allowed": True}
        )
        assert allowed.status_code == status, allowed.text
        client.delete("/api/v1/session")
    partial = _submit(client, world, COUNTS, deadline_minutes=60, min_nodes=1).json()["id"]
    strict = _submit(client, world, COUNTS, deadline_minutes=60).json()["id"]
    node_a = _node(client, db, settings, monkeypatch, "chu-a", tokens["chu-a"])
    assert node_a.once() == 2  # chu-b is down

    # Before the deadline both jobs wait for chu-b.
    client.login("chercheuse@example.org")
    assert client.get(f"/api/v1/federated-jobs/{partial}").json()["status"] == "waiting"
    client.delete("/api/v1/session")
    with db.session() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.execute(
            update(FederatedJob)
            .where(FederatedJob.id.in_([partial, strict]))
            .values(deadline_at=past)
        )

    # At the deadline: the partial job pools chu-a and says chu-b is missing; the strict one
    # (every node by default) fails, a fact about availability, not about the data.
    client.login("chercheuse@example.org")
    seen = client.get(f"/api/v1/federated-jobs/{partial}").json()
    assert seen["status"] == "finished" and seen["result"] is None
    assert {n["node"]: n["status"] for n in seen["nodes"]} == {
        "chu-a": "answered",
        "chu-b": "missed",
    }
    assert client.get(f"/api/v1/federated-jobs/{strict}").json()["status"] == "missed_deadline"
    page = client.get(f"/federated-jobs/{strict}")
    assert page.status_code == 200 and "délai dépassé" in page.text
    client.delete("/api/v1/session")
    released = _release(client, partial)
    assert released["result"]["nodes"] == {"answered": ["chu-a"], "missing": ["chu-b"]}
    assert released["result"]["tables"][0]["disclosure"]["nodes"] == 1
    page = client.get(f"/federated-jobs/{partial}").text
    assert 'data-testid="missing-nodes"' in page and "sommes des effectifs (arrondis)" in page

    # chu-b comes back: nothing is served any more, and a late answer is refused.
    node_b = _node(client, db, settings, monkeypatch, "chu-b", tokens["chu-b"])
    assert node_b.once() == 0
    listed = client.get("/api/v1/federation/node/tasks", headers={NODE: tokens["chu-b"]})
    assert listed.json() == []


def test_a_node_posts_its_catalogue_and_dummy_twin_and_nothing_else(
    client, db, settings, world, monkeypatch
):
    tokens = _federation(client, db, settings, world, ("chu-a", "chu-b"))
    version = settings.warehouse_path / warehouse.DATASET / "versions" / "v0001"
    (version / "catalogue.json").write_text(
        json.dumps(
            {
                "threshold": 10,
                "patients": 60,
                "first": "2018-01-01",
                "last": "2018-12-02",
                "types": {"Patient": {"count": 60}, "Condition": {"count": 100}},
            }
        )
    )
    before = client.get(f"/federation/datasets/{FEDERATED}")
    assert before.status_code == 200 and before.text.count("pas encore publié") == 2
    node = _node(client, db, settings, monkeypatch, "chu-a", tokens["chu-a"])
    node.publish()

    twin = client.get(f"/api/v1/federation/datasets/{FEDERATED}").json()
    posted = {m["node"]: m for m in twin["members"]}
    assert posted["chu-b"]["catalogue"] is None
    assert posted["chu-a"]["catalogue"]["patients"] == 60
    assert posted["chu-a"]["catalogue"]["first"] == "2018-01"  # months only, as in public
    assert {k: len(v) for k, v in posted["chu-a"]["twin"].items()} == {
        "Condition": 5,
        "Patient": 5,
    }
    assert all(r["id"].startswith("dp") for r in posted["chu-a"]["twin"]["Patient"])
    assert warehouse.MARKER not in json.dumps(twin)  # the twin is synthetic
    page = client.get(f"/federation/datasets/{FEDERATED}")
    assert page.status_code == 200 and 'data-testid="member-chu-a"' in page.text
    assert "Jumeau fictif" in page.text and page.text.count("pas encore publié") == 1
    assert 'data-testid="twin-chu-a-Patient"' in page.text and "REAL" not in page.text
    assert f'href="/federation/datasets/{FEDERATED}"' in client.get("/federation").text

    headers = {NODE: tokens["chu-a"]}
    body = node.catalogue()
    for change, where in (
        ({"rows": []}, "body"),
        ({"dataset": "hopital-z"}, "dataset"),
        ({"catalogue": body["catalogue"] | {"patients_list": ["rp001"]}}, "catalogue"),
        ({"twin": {"Patient": "rp001"}}, "twin"),
        ({"twin": {"Patient": [{"x": "y" * 300_000}]}}, "body"),
    ):
        refused = client.post(
            "/api/v1/federation/node/catalogue",
            content=json.dumps(body | change, default=str),
            headers=headers | {"content-type": "application/json"},
        )
        assert refused.status_code == 400, (change, refused.text)
        assert refused.json()["error"]["where"] == where
    # Only a node's credential posts, and only for its own part of a federated dataset.
    anonymous = client.post("/api/v1/federation/node/catalogue", json=body)
    assert anonymous.status_code == 401
    other = client.post(
        "/api/v1/federation/node/catalogue",
        content=json.dumps(body | {"dataset": "hopital-a"}, default=str),
        headers={NODE: tokens["chu-b"], "content-type": "application/json"},
    )
    assert other.status_code == 400


def test_under_differential_privacy_the_budget_is_charged_once_and_each_node_noises(
    client, db, settings, world, monkeypatch
):
    tokens = _federation(client, db, settings, world, ("chu-a", "chu-b"))
    private = STATISTICS | {
        "privacy": {"epsilon": 1.0},
        "outputs": [
            {
                "type": "counts",
                "name": "by_sex",
                "group_by": [{"column": "gender", "levels": ["female", "male"]}],
            }
        ],
    }
    survival = private | {"outputs": [*private["outputs"], STATISTICS["outputs"][1]]}
    refused = _submit(client, world, survival)
    assert refused.status_code == 400 and refused.json()["error"]["where"] == "outputs[1]"
    made = _submit(client, world, private)
    assert made.status_code == 201, made.text
    job = made.json()["id"]
    with db.session() as session:
        assert budget.spent(session, world.project_id) == 1.0  # once, not once per node
    for name, token in tokens.items():
        assert _node(client, db, settings, monkeypatch, name, token).once() == 1
    released = _release(client, job)
    assert released["result"]["epsilon"] == 1.0
    rows = released["result"]["tables"][0]["rows"]
    assert {r[0] for r in rows} == {"female", "male", "other", "*"}
    assert all(r[1] is None or r[1] % 5 == 0 for r in rows)
    with db.session() as session:
        assert budget.spent(session, world.project_id) == 1.0


def test_the_approvals_reviewer_allows_partial_completion_on_its_page_and_others_cannot(
    client, db, settings, world
):
    approve(db, settings, world, datasets=[FEDERATED], views=["patient_demographics"])
    for person in ("ethique3@example.org", "chercheuse@example.org"):
        client.login(person)
        assert client.get(f"/approvals/{world.approval_id}/federated-partial").status_code == 403
        url = f"/api/v1/approvals/{world.approval_id}/federated-partial"
        assert client.get(url).status_code == 403
        refused = client.post(
            f"/approvals/{world.approval_id}/federated-partial", data={"allowed": "true"}
        )
        assert refused.status_code == 403
        client.delete("/api/v1/session")
    client.login("ethique1@example.org")
    request_page = client.get(f"/projects/{world.project_id}/requests/{world.request_id}")
    assert f'href="/approvals/{world.approval_id}/federated-partial"' in request_page.text
    page = client.get(f"/approvals/{world.approval_id}/federated-partial")
    assert page.status_code == 200
    assert "non autorisé\u00a0: chaque nœud doit répondre" in page.text
    saved = client.post(
        f"/approvals/{world.approval_id}/federated-partial",
        data={"allowed": "true"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "autorisé\u00a0: un traitement peut se terminer" in page.text
    twin = client.get(f"/api/v1/approvals/{world.approval_id}/federated-partial").json()
    assert twin["allowed"] is True and "set_by" not in twin
    # A value that is no yes or no is refused on the page itself, the setting shown unchanged.
    wrong = client.post(
        f"/approvals/{world.approval_id}/federated-partial", data={"allowed": "peut-être"}
    )
    assert wrong.status_code == 422 and "allowed" in wrong.text
    assert "autorisé\u00a0: un traitement peut se terminer" in wrong.text
