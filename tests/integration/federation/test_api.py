"""The federation API in-process: staff-only node management, node credentials checked on
every node call, answers of the wrong shape refused with where, what the team sees."""

from __future__ import annotations

from sqlalchemy import select

from campus.federation.models import Task
from tests.helpers import make_account
from tests.integration.analysis.setup import approve
from tests.integration.federation.test_processes import ANALYSIS as ON_SYNTHETIC
from tests.integration.federation.test_processes import FEDERATED

# The test library's demographics view has no marital status: cross sex with death.
ANALYSIS = ON_SYNTHETIC | {
    "outputs": [
        ON_SYNTHETIC["outputs"][0],
        {"type": "crosstab", "name": "sex_by_status", "rows": "gender", "columns": "deceased"},
    ]
}

NODE = "x-campus-node"


def _answer(female: int, male: int) -> dict:
    return {
        "cohort": female + male,
        "tables": [
            {"name": "by_sex", "kind": "counts", "columns": ["gender", "count"],
             "rows": [["female", female], ["male", male], ["*", female + male]]},
            {"name": "sex_by_status", "kind": "crosstab",
             "columns": ["gender", "deceased", "count"],
             "rows": [["female", "S", female], ["male", "S", male], ["*", "S", female + male],
                      ["female", "*", female], ["male", "*", male], ["*", "*", female + male]]},
        ],
    }  # fmt: skip


def _setup(client, db, settings, world) -> dict[str, str]:
    make_account(db, "staff@example.org", "staff")
    client.login("outsider@example.org")
    refused = client.post("/api/v1/federation/nodes", json={"name": "chu-a", "title": "CHU A"})
    assert refused.status_code == 403
    client.delete("/api/v1/session")
    client.login("staff@example.org")
    tokens = {}
    for name in ("chu-a", "chu-b"):
        made = client.post("/api/v1/federation/nodes", json={"name": name, "title": name.upper()})
        assert made.status_code == 201, made.text
        issued = client.post(f"/api/v1/federation/nodes/{name}/credentials").json()
        tokens[name] = issued["token"]
        tokens[name + ":id"] = issued["id"]
    bad = client.post("/api/v1/federation/datasets", json={"name": FEDERATED, "members": [
        {"node": "chu-z", "dataset": "hopital-z"}]})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "members[0].node"
    members = [{"node": "chu-a", "dataset": "hopital-a"}, {"node": "chu-b", "dataset": "hopital-b"}]
    made = client.post("/api/v1/federation/datasets", json={"name": FEDERATED, "members": members})
    assert made.status_code == 201, made.text
    client.delete("/api/v1/session")
    approve(db, settings, world, datasets=[FEDERATED], views=["patient_demographics"])
    return tokens


def test_node_calls_need_a_live_credential_and_answers_need_the_task_s_shape(
    client, db, settings, world
):
    tokens = _setup(client, db, settings, world)
    client.login("chercheuse@example.org")
    quantiles = ANALYSIS | {"outputs": [{"type": "distribution", "name": "a", "column": "gender"}]}
    refused = client.post(
        f"/api/v1/projects/{world.project_id}/federated-jobs",
        json={"approval_id": world.approval_id, "definition": quantiles},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["where"] == "outputs[0].histogram"
    submitted = client.post(
        f"/api/v1/projects/{world.project_id}/federated-jobs",
        json={"approval_id": world.approval_id, "definition": ANALYSIS},
    )
    assert submitted.status_code == 201, submitted.text
    job = submitted.json()["id"]
    client.delete("/api/v1/session")

    assert client.get("/api/v1/federation/node/tasks").status_code == 401
    assert (
        client.get("/api/v1/federation/node/tasks", headers={NODE: "cn_forged"}).status_code == 401
    )
    tasks = client.get("/api/v1/federation/node/tasks", headers={NODE: tokens["chu-a"]}).json()
    assert len(tasks) == 1 and tasks[0]["payload"]["dataset"] == "hopital-a"
    task_a = tasks[0]["payload"]["task"]

    leaking = _answer(25, 35) | {"rows": [["rp001", "female"]]}
    posted = client.post(
        f"/api/v1/federation/node/tasks/{task_a}/answer",
        json=leaking,
        headers={NODE: tokens["chu-a"]},
    )
    assert posted.status_code == 400 and posted.json()["error"]["where"] == "answer"
    # Another node's credential cannot answer this task.
    stolen = client.post(
        f"/api/v1/federation/node/tasks/{task_a}/answer",
        json=_answer(25, 35),
        headers={NODE: tokens["chu-b"]},
    )
    assert stolen.status_code == 404
    ok = client.post(
        f"/api/v1/federation/node/tasks/{task_a}/answer",
        json=_answer(25, 35),
        headers={NODE: tokens["chu-a"]},
    )
    assert ok.status_code == 200, ok.text

    # Revoked: refused at once.
    client.login("staff@example.org")
    revoked = client.post(f"/api/v1/federation/credentials/{tokens['chu-b:id']}/revoke")
    assert revoked.status_code == 200
    client.delete("/api/v1/session")
    assert (
        client.get("/api/v1/federation/node/tasks", headers={NODE: tokens["chu-b"]}).status_code
        == 401
    )

    # The team sees which node has answered, not what; the outsider sees nothing.
    client.login("chercheuse@example.org")
    seen = client.get(f"/api/v1/federated-jobs/{job}").json()
    assert seen["status"] == "waiting" and seen["result"] is None
    assert {n["node"]: n["status"] for n in seen["nodes"]} == {
        "chu-a": "answered",
        "chu-b": "issued",
    }
    page = client.get("/federation")
    assert page.status_code == 200 and "Traitements fédérés" in page.text and job in page.text
    client.delete("/api/v1/session")
    client.login("outsider@example.org")
    assert client.get(f"/api/v1/federated-jobs/{job}").status_code == 403
    with db.session() as session:
        stored = session.scalars(select(Task.answer).where(Task.id == task_a)).one()
    assert set(stored) == {"cohort", "tables"}

    # Revoked approval: the centre stops serving its tasks and refuses their answers at once.
    client.delete("/api/v1/session")
    client.login("chercheuse@example.org")
    second = client.post(
        f"/api/v1/projects/{world.project_id}/federated-jobs",
        json={"approval_id": world.approval_id, "definition": ANALYSIS},
    ).json()["id"]
    task = client.get("/api/v1/federation/node/tasks", headers={NODE: tokens["chu-a"]}).json()[0]
    client.delete("/api/v1/session")
    client.login("ethique1@example.org")
    revoked = client.post(
        f"/api/v1/approvals/{world.approval_id}/status", json={"status": "revoked", "reason": "x"}
    )
    assert revoked.status_code == 200, revoked.text
    late = client.post(
        f"/api/v1/federation/node/tasks/{task['payload']['task']}/answer",
        json=_answer(25, 35),
        headers={NODE: tokens["chu-a"]},
    )
    assert late.status_code == 403 and late.json()["error"]["code"] == "approval_revoked"
    assert client.get("/api/v1/federation/node/tasks", headers={NODE: tokens["chu-a"]}).json() == []
    client.delete("/api/v1/session")
    client.login("chercheuse@example.org")
    after = client.get(f"/api/v1/federated-jobs/{second}").json()
    assert after["status"] == "refused"
    assert all(
        n["reason"] == "the approval is revoked" for n in after["nodes"] if n["node"] == "chu-a"
    )
