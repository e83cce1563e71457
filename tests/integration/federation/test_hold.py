"""A node that holds answers for its data steward: nothing leaves before `release`, the
held task is not run twice, and the released answer goes through pooling and two checkers."""

from __future__ import annotations

import contextlib

from campus.analysis import definition, runner
from campus.analysis.results import Controls
from campus.federation import signing
from campus.federation.node import Node
from tests.helpers import audit_events, make_account
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve
from tests.integration.federation.test_api import ANALYSIS as COUNTS
from tests.integration.federation.test_processes import FEDERATED

DEATHS = {
    "type": "counts",
    "name": "deaths",
    "group_by": ["gender"],
    "event": [{"column": "deceased", "op": "not_null"}],
}
ANALYSIS = COUNTS | {"outputs": [*COUNTS["outputs"], DEATHS]}


def test_a_held_answer_leaves_the_node_only_when_released_and_pools_like_a_local_run(
    client, db, settings, world, monkeypatch
):
    make_account(db, "staff@example.org", "staff")
    client.login("staff@example.org")
    client.post("/api/v1/federation/nodes", json={"name": "chu-a", "title": "CHU A"})
    token = client.post("/api/v1/federation/nodes/chu-a/credentials").json()["token"]
    members = [{"node": "chu-a", "dataset": warehouse.DATASET}]
    client.post("/api/v1/federation/datasets", json={"name": FEDERATED, "members": members})
    client.delete("/api/v1/session")
    approve(db, settings, world, datasets=[FEDERATED], views=["patient_demographics"])
    client.login("chercheuse@example.org")
    job = client.post(
        f"/api/v1/projects/{world.project_id}/federated-jobs",
        json={"approval_id": world.approval_id, "definition": ANALYSIS},
    ).json()["id"]
    client.delete("/api/v1/session")

    node = Node(
        settings=settings,
        db=db,
        central="http://centre.invalid",
        token=token,
        dataset=warehouse.DATASET,
        centre_key=signing.public_pem(settings.var_dir),
        name="chu-a",
        hold=True,
    )
    # The node talks to the centre's app in-process (same HTTP requests, no socket).
    client.headers.update({"x-campus-node": token})
    monkeypatch.setattr(node, "_client", lambda: contextlib.nullcontext(client))
    assert node.once() == 1
    held = list(node.held_dir().glob("*.json"))
    assert len(held) == 1
    assert client.get(f"/api/v1/federated-jobs/{job}").status_code == 403  # signed out
    client.login("chercheuse@example.org")
    assert client.get(f"/api/v1/federated-jobs/{job}").json()["nodes"][0]["status"] == "issued"
    client.delete("/api/v1/session")
    node.once()  # the held task is not run again
    assert [e.action for e in audit_events(db)].count("federated_task.ran") == 1
    node.release(held[0].stem)
    assert not list(node.held_dir().glob("*.json"))

    for checker in ("checker1@example.org", "checker2@example.org"):
        client.login(checker)
        checked = client.post(
            f"/api/v1/federated-jobs/{job}/checks", json={"decision": "approve", "comment": "ok"}
        )
        assert checked.status_code == 200, checked.text
        client.delete("/api/v1/session")
    released = client.get(f"/api/v1/federated-jobs/{job}").json()
    page = client.get(f"/federated-jobs/{job}")
    assert page.status_code == 200 and '">deaths <span' in page.text
    local = runner.execute(
        definition.parse(ANALYSIS | {"dataset": warehouse.DATASET}),
        warehouse=settings.warehouse_path,
        kind="real",
        controls=Controls(),
        scope=runner.Scope((warehouse.DATASET,), ("patient_demographics",)),
        optout_keys=set(),
    )
    # One node: its counts are already multiples of the base, so the pool is its result.
    assert released["result"]["cohort"] == local["cohort"]
    for pooled, single in zip(released["result"]["tables"], local["tables"], strict=True):
        assert pooled["kind"] == single["kind"]
        assert sorted(pooled["rows"], key=str) == sorted(single["rows"], key=str)
