"""Federated evaluation through the API, with the nodes in process (each its own warehouse):
a submission sent to a federated dataset's nodes, each node's bins pooled at the centre,
released by the data steward and two output checkers as a one-site evaluation, and what
the submitter sees of the nodes while it runs."""

from __future__ import annotations

import base64
import contextlib
import json

import numpy as np
import pytest
from sqlalchemy import select

from campus.evaluation import metrics, pooling
from campus.federation import signing
from campus.federation.models import Task
from campus.federation.node import Node
from tests.helpers import audit_events, make_account
from tests.integration.analysis.setup import approve
from tests.integration.evaluation import hospital, onnx_models

FEDERATED = "fed-eval"
WEIGHTS, BIAS = [0.04, 0.1, 1.2], -3.5
THRESHOLD, K = 0.3, 10
CARD = {
    "name": "Risque DT2",
    "version": "1.0",
    "intended_use": "screening research only",
    "training_data": "elsewhere",
    "regulatory_status": "not a medical device",
}
CENTRE = hospital.people("cp", 120, seed=1)
DUMMY = hospital.people("dp", 200, seed=2)
PARTS = {
    "chu-a": hospital.people("a", 300, seed=11),
    "chu-b": hospital.people("b", 150, seed=12),
    "chu-c": hospital.people("c", 220, seed=13),
}


def _as(client, email: str | None) -> None:
    client.delete("/api/v1/session")
    if email:
        client.login(email)


def _federation(client, db, settings, world, names) -> dict[str, str]:
    """Nodes, their credentials and the federated dataset; an approval naming it and the
    benchmark's own dataset; the benchmark."""
    make_account(db, "staff@example.org", "staff")
    _as(client, "staff@example.org")
    tokens = {}
    for name in names:
        client.post("/api/v1/federation/nodes", json={"name": name, "title": name.upper()})
        tokens[name] = client.post(f"/api/v1/federation/nodes/{name}/credentials").json()["token"]
    members = [{"node": n, "dataset": hospital.DATASET} for n in names]
    made = client.post("/api/v1/federation/datasets", json={"name": FEDERATED, "members": members})
    assert made.status_code == 201, made.text
    _as(client, None)
    hospital.build(settings.warehouse_path, CENTRE, DUMMY)
    approve(db, settings, world, datasets=[hospital.DATASET, FEDERATED])
    _as(client, "chercheuse@example.org")
    bench = client.post(
        f"/api/v1/projects/{world.project_id}/benchmarks",
        json={"approval_id": world.approval_id, "definition": hospital.benchmark()},
    )
    assert bench.status_code == 201, bench.text
    make_account(db, "startup@example.org", "member")
    _as(client, None)
    return tokens | {"bench": bench.json()["id"]}


def _nodes(client, db, settings, tmp_path, monkeypatch, tokens, parts) -> dict[str, Node]:
    """Each node with its own warehouse (its own patients), talking to the centre's app in
    process (the same HTTP requests, no socket)."""
    nodes = {}
    for name, persons in parts.items():
        hospital.build(tmp_path / name, persons, DUMMY)
        node = Node(
            settings=settings.model_copy(update={"warehouse_dir": tmp_path / name}),
            db=db,
            central="http://centre.invalid",
            token=tokens[name],
            dataset=hospital.DATASET,
            centre_key=signing.public_pem(settings.var_dir),
            name=name,
        )

        @contextlib.contextmanager
        def talking(token=tokens[name]):
            client.headers["x-campus-node"] = token
            try:
                yield client
            finally:
                client.headers.pop("x-campus-node", None)

        monkeypatch.setattr(node, "_client", talking)
        nodes[name] = node
    return nodes


def _submit(client, bench_id: str, **more):
    _as(client, "startup@example.org")
    return client.post(
        f"/api/v1/benchmarks/{bench_id}/submissions",
        json={
            "model_base64": base64.b64encode(onnx_models.logistic(WEIGHTS, BIAS)).decode(),
            "family": "lr",
            "threshold": THRESHOLD,
            "card": CARD,
            "federated": FEDERATED,
        }
        | more,
    )


def _scores(persons) -> tuple[np.ndarray, np.ndarray]:
    scores = [onnx_models.reference_score(p.features, WEIGHTS, BIAS) for p in persons]
    return np.array(scores), np.array([int(p.diabetes) for p in persons])


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_model_evaluated_at_three_nodes_is_pooled_from_their_bins_and_released_like_one_site(
    client, db, settings, world, tmp_path, monkeypatch
):
    tokens = _federation(client, db, settings, world, PARTS)
    nodes = _nodes(client, db, settings, tmp_path, monkeypatch, tokens, PARTS)
    submitted = _submit(client, tokens["bench"])
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["id"]
    assert submitted.json()["status"] == "at_nodes"
    assert [n["status"] for n in submitted.json()["federated"]["nodes"]] == ["issued"] * 3

    for name, node in nodes.items():
        assert node.once() == 1, name
    mine = client.get(f"/api/v1/submissions/{sid}").json()
    assert mine["status"] == "finished" and mine["metrics"] is None
    assert {n["status"] for n in mine["federated"]["nodes"]} == {"answered"}
    # What each node sent: its bins merged to k, nothing else.
    with db.session() as session:
        answers = [t.answer for t in session.scalars(select(Task))]
    assert all(set(a) == set(pooling.FIELDS) for a in answers)
    assert all(n == 0 or n >= K for a in answers for n in a["people"])

    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/submissions/{sid}").json()
    assert seen["status"] == "succeeded", seen["error"]
    released = seen["metrics"]
    assert released["pooled"]["nodes"] == 3 and released["dataset"] == FEDERATED
    # The pooled metrics are the one-site binned computation on the union at the edges every
    # node kept (scored here by the reference formula, there by onnxruntime in float32).
    union = [_scores(p) for p in PARTS.values()]
    parts = [pooling.node_part(s, y, bins=20, threshold=THRESHOLD, k=K) for s, y in union]
    assert sorted(p["edges"] for p in parts) == sorted(a["edges"] for a in answers)
    common = pooling.common_edges(parts)
    scores, labels = np.concatenate([s for s, _ in union]), np.concatenate([y for _, y in union])
    expected = metrics.evaluate(
        metrics.binned(scores, labels, bins=20, threshold=THRESHOLD, k=K, within=common), base=5
    )
    assert released["pooled"]["bins"] == len(expected["reliability"])
    for name, value in expected["metrics"].items():
        got = released["metrics"][name]["value"]
        assert (got is None) == (value["value"] is None), name
        if got is not None:
            assert got == pytest.approx(value["value"], abs=5e-4), name

    for checker in ("checker1@example.org", "checker2@example.org"):
        _as(client, checker)
        done = client.post(
            f"/api/v1/submissions/{sid}/checks", json={"decision": "approve", "comment": "ok"}
        )
        assert done.status_code == 200, done.text
    make_account(db, "steward@example.org", "data_steward")
    _as(client, "steward@example.org")
    done = client.post(
        f"/api/v1/submissions/{sid}/steward", json={"decision": "approve", "comment": "ok"}
    )
    assert done.json()["release_status"] == "released"
    _as(client, None)
    board = client.get(f"/api/v1/benchmarks/{tokens['bench']}").json()
    assert [e["id"] for e in board["entries"]] == [sid]
    assert board["entries"][0]["metrics"]["pooled"]["nodes"] == 3
    page = client.get(f"/benchmarks/{tokens['bench']}", headers={"accept-language": "fr"})
    assert "classes de 3 nœuds" in page.text, page.text
    # A federated evaluation is released through evaluation's checks, not federation's.
    with db.session() as session:
        job = session.scalar(select(Task.job_id))
    _as(client, "checker1@example.org")
    other = client.post(
        f"/api/v1/federated-jobs/{job}/checks", json={"decision": "approve", "comment": "ok"}
    )
    assert other.status_code == 409
    page = client.get(f"/federated-jobs/{job}", headers={"accept-language": "fr"})
    assert page.status_code == 200 and "sur la page de sa soumission" in page.text
    assert any(e.action == "submission.queued" for e in audit_events(db))


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_node_under_k_people_withholds_and_the_submitter_cannot_tell_it_from_one_above(
    client, db, settings, world, tmp_path, monkeypatch
):
    """Two worlds differ in one node only: k - 1 people there, or k + 1 with one positive.
    What the submitter sees of the submission is the same in both (status, each node's
    state, no error); the node under k sends a flag without a count and never runs the
    model; output checkers see which node withheld, and the metrics are withheld."""
    big = hospital.people("a", 300, seed=11)
    small = hospital.people("s", K - 1, seed=21)
    just = hospital.people("j", K + 1, seed=22)
    for person in just:
        person.diabetes = False
    just[3].diabetes = True
    tokens = _federation(client, db, settings, world, ["chu-a", "chu-b", "chu-c"])
    seen = {}
    for world_name, third in (("under", small), ("over", just)):
        parts = {"chu-a": big, "chu-b": hospital.people("b", 150, seed=12), "chu-c": third}
        nodes = _nodes(client, db, settings, tmp_path / world_name, monkeypatch, tokens, parts)
        submitted = _submit(client, tokens["bench"])
        assert submitted.status_code == 201, submitted.text
        sid = submitted.json()["id"]
        for node in nodes.values():
            node.once()
        _as(client, "startup@example.org")
        view = client.get(f"/api/v1/submissions/{sid}").json()
        page = client.get(f"/submissions/{sid}", headers={"accept-language": "fr"})
        seen[world_name] = (
            {k: v for k, v in view.items() if k not in ("id", "created_at", "dummy_metrics")},
            page.text.replace(sid, "SID").count("nœud"),
        )
        _as(client, "checker1@example.org")
        checked = client.get(f"/api/v1/submissions/{sid}").json()
        states = {n["node"]: n["status"] for n in checked["federated"]["nodes"]}
        if world_name == "under":
            assert states["chu-c"] == "withheld" and checked["status"] == "failed"
            assert "chu-c" in checked["error"] and checked["metrics"] is None
            answer = node_answer(db, sid, "chu-c")
            assert answer == {"withheld": True}  # a flag, no count
        else:
            assert set(states.values()) == {"answered"} and checked["status"] == "succeeded"
            # k + 1 people with one positive: one bin for all of them, the positive not
            # placed by their score.
            answer = node_answer(db, sid, "chu-c")
            assert [n for n in answer["people"] if n] == [K + 1]
            assert sum(answer["positives"]) == 1
    assert seen["under"] == seen["over"]
    assert json.dumps(seen["under"][0]).count("withheld") == 0


def node_answer(db, submission_id: str, node: str) -> dict:
    """What the node sent for the submission, as the centre stores it."""
    from campus.evaluation.models import Submission

    with db.session() as session:
        job = session.get(Submission, submission_id).federated_job_id
        tasks = session.scalars(select(Task).where(Task.job_id == job))
        return next(t.answer for t in tasks if t.payload["node"] == node)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_federated_evaluations_refuse_what_the_approval_does_not_allow_and_answers_out_of_shape(
    client, db, settings, world, tmp_path, monkeypatch
):
    tokens = _federation(client, db, settings, world, ["chu-a", "chu-b"])
    # A federated dataset the approval does not name, and fewer nodes without its consent.
    _as(client, "staff@example.org")
    other = [{"node": "chu-a", "dataset": hospital.DATASET}]
    client.post("/api/v1/federation/datasets", json={"name": "fed-autre", "members": other})
    refused = _submit(client, tokens["bench"], federated="fed-autre")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "dataset_not_approved"
    partial = _submit(client, tokens["bench"], deadline_minutes=5, min_nodes=1)
    assert partial.status_code == 400
    assert partial.json()["error"]["code"] == "partial_not_allowed"

    # A node's answer with a bin under k is refused whole; the task stays issued.
    submitted = _submit(client, tokens["bench"])
    assert submitted.status_code == 201, submitted.text
    _as(client, None)
    client.headers["x-campus-node"] = tokens["chu-a"]
    (task,) = client.get("/api/v1/federation/node/tasks").json()
    task_id = task["payload"]["task"]
    size = pooling.fine_bins(20, THRESHOLD)
    small = {
        "edges": [0, 3, size],
        "people": [4, 30],
        "positives": [1, 5],
        "score_sums": [0.2, 9.0],
    }
    answered = client.post(f"/api/v1/federation/node/tasks/{task_id}/answer", json=small)
    assert answered.status_code == 400 and answered.json()["error"]["code"] == "node_bins_invalid"
    extra = {"edges": [0, size], "people": [40], "positives": [5], "score_sums": [9.0], "ids": []}
    answered = client.post(f"/api/v1/federation/node/tasks/{task_id}/answer", json=extra)
    assert answered.status_code == 400
    client.headers.pop("x-campus-node")
    with db.session() as session:
        assert session.get(Task, task_id).status == "issued"
        assert session.get(Task, task_id).answer is None

    # A node refuses, before reading data, a kind of task it does not run.
    node = _nodes(client, db, settings, tmp_path, monkeypatch, tokens, {"chu-a": PARTS["chu-a"]})
    payload = task["payload"] | {"kind": "genome-scan"}
    signed = {"payload": payload, "signature": signing.sign(settings.var_dir, payload)}
    with pytest.raises(Exception, match="does not run tasks of kind 'genome-scan'"):
        node["chu-a"].verify(signed)

    # The submission form offers the federated datasets the benchmark's approval names.
    _as(client, "startup@example.org")
    form = client.get(f"/benchmarks/{tokens['bench']}/submit", headers={"accept-language": "fr"})
    assert f"aux nœuds de {FEDERATED}" in form.text and "fed-autre" not in form.text
    sent = client.post(
        f"/benchmarks/{tokens['bench']}/submit",
        data={
            "csrf_token": client.csrf(),
            "family": "lr",
            "threshold": "0,3",
            "federated": FEDERATED,
            **{f"card_{name}": value for name, value in CARD.items()},
        },
        files={"file": ("m.onnx", onnx_models.logistic(WEIGHTS, BIAS), "application/onnx")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[-2000:]
    page = client.get(sent.headers["location"], headers={"accept-language": "fr"})
    assert "aux nœuds" in page.text and f"Évalué aux nœuds de {FEDERATED}" in page.text


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_model_that_fails_on_one_nodes_data_reads_finished_to_the_submitter(
    client, db, settings, world, tmp_path, monkeypatch
):
    """The model gives NaN past age 100: never on the dummy twin (17 to 87), at one node
    on its oldest patients. The submitter sees `finished` and every node `answered`; the
    checkers see the failure, without its reason (it stays in the node's log)."""
    tokens = _federation(client, db, settings, world, ["chu-a", "chu-b"])
    parts = {
        "chu-a": PARTS["chu-a"],
        "chu-b": hospital.people("o", 150, seed=31, oldest=1900),
    }
    nodes = _nodes(client, db, settings, tmp_path, monkeypatch, tokens, parts)
    model = base64.b64encode(onnx_models.nan_above(0, 100.0)).decode()
    submitted = _submit(client, tokens["bench"], model_base64=model)
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["id"]
    for node in nodes.values():
        node.once()
    _as(client, "startup@example.org")
    mine = client.get(f"/api/v1/submissions/{sid}").json()
    assert mine["status"] == "finished" and mine["error"] == ""
    assert {n["status"] for n in mine["federated"]["nodes"]} == {"answered"}
    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/submissions/{sid}").json()
    assert seen["status"] == "failed" and "node" in seen["error"] and "NaN" not in seen["error"]
    states = {n["node"]: n["status"] for n in seen["federated"]["nodes"]}
    assert states == {"chu-a": "answered", "chu-b": "failed"}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_with_the_approvals_consent_a_node_under_k_is_left_out_and_the_pool_says_so(
    client, db, settings, world, tmp_path, monkeypatch
):
    """Completing without every node is the approval's to allow (as for analyses): then a
    node that withheld is left out, and the released metrics say from how many nodes'
    bins and which node withheld (a fact about a group under k, as '<10' is)."""
    tokens = _federation(client, db, settings, world, ["chu-a", "chu-b", "chu-c"])
    _as(client, "ethique1@example.org")
    allowed = client.put(
        f"/api/v1/approvals/{world.approval_id}/federated-partial", json={"allowed": True}
    )
    assert allowed.status_code == 200, allowed.text
    parts = {
        "chu-a": PARTS["chu-a"],
        "chu-b": PARTS["chu-b"],
        "chu-c": hospital.people("s", K - 1, seed=21),
    }
    nodes = _nodes(client, db, settings, tmp_path, monkeypatch, tokens, parts)
    submitted = _submit(client, tokens["bench"], deadline_minutes=60, min_nodes=2)
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["id"]
    for node in nodes.values():
        node.once()
    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/submissions/{sid}").json()
    assert seen["status"] == "succeeded", seen["error"]
    assert seen["metrics"]["pooled"]["nodes"] == 2
    assert seen["metrics"]["pooled"]["withheld_at"] == ["chu-c"]
    assert seen["metrics"]["people"] == 450  # chu-a and chu-b only


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_at_the_deadline_a_federated_evaluation_pools_the_nodes_that_answered_when_allowed(
    client, db, settings, world, tmp_path, monkeypatch
):
    """chu-c is down. Past the deadline, reading the submission closes it: with the
    approval's consent and min_nodes 2, pooled from chu-a and chu-b; without min_nodes, a
    refusal about availability that the submitter reads (not about the data)."""
    import datetime as dt

    from campus.federation.models import FederatedJob

    tokens = _federation(client, db, settings, world, ["chu-a", "chu-b", "chu-c"])
    _as(client, "ethique1@example.org")
    client.put(f"/api/v1/approvals/{world.approval_id}/federated-partial", json={"allowed": True})
    up = {"chu-a": PARTS["chu-a"], "chu-b": PARTS["chu-b"]}
    nodes = _nodes(client, db, settings, tmp_path, monkeypatch, tokens, up)
    partial = _submit(client, tokens["bench"], deadline_minutes=60, min_nodes=2).json()["id"]
    strict = _submit(client, tokens["bench"], deadline_minutes=60).json()["id"]
    for node in nodes.values():
        node.once()
    _as(client, "startup@example.org")
    assert client.get(f"/api/v1/submissions/{partial}").json()["status"] == "at_nodes"
    with db.session() as session:
        for job in session.scalars(select(FederatedJob)):
            job.deadline_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    mine = client.get(f"/submissions/{strict}", headers={"accept-language": "fr"})
    assert mine.status_code == 200
    refused = client.get(f"/api/v1/submissions/{strict}").json()
    assert refused["status"] == "refused"
    assert refused["error"] == "the nodes did not all answer by the deadline"
    assert client.get(f"/api/v1/submissions/{partial}").json()["status"] == "finished"
    _as(client, "checker1@example.org")
    seen = client.get(f"/api/v1/submissions/{partial}").json()
    assert seen["status"] == "succeeded" and seen["metrics"]["pooled"]["nodes"] == 2
    assert seen["metrics"]["nodes"] == {"answered": ["chu-a", "chu-b"], "missing": ["chu-c"]}
