"""The approvals page (`/approvals`, twin `GET /api/v1/approvals`): the people who may change
an approval (the request's assigned reviewers, the DPO) find decided requests again there,
and each approval's consent to federated jobs without every node."""

from campus.web import twins
from tests.helpers import make_account
from tests.integration.analysis.setup import approve


def _listed(client, email: str) -> list[str]:
    client.delete("/api/v1/session")
    client.login(email)
    response = client.get("/api/v1/approvals")
    assert response.status_code == 200, (email, response.text)
    return [a["id"] for a in response.json()["approvals"]]


def test_assigned_reviewers_and_the_dpo_list_the_approvals_they_may_change(
    client, db, settings, world, monkeypatch
):
    approve(db, settings, world)
    make_account(db, "dpo@example.org", "dpo")
    make_account(db, "staff@example.org", "staff")
    assert _listed(client, "ethique1@example.org") == [world.approval_id]
    assert _listed(client, "dpo@example.org") == [world.approval_id]
    # An ethics reviewer not assigned to the request, and staff by their permissions alone,
    # may not change the approval: it is not theirs to list.
    assert _listed(client, "ethique3@example.org") == []
    assert _listed(client, "staff@example.org") == []
    client.delete("/api/v1/session")
    client.login("chercheuse@example.org")  # the team: not a role that decides
    assert client.get("/api/v1/approvals").status_code == 403
    assert client.get("/approvals").status_code == 403

    client.delete("/api/v1/session")
    client.login("dpo@example.org")
    captured = []
    original = twins.render
    monkeypatch.setattr(
        twins, "render", lambda r, t, c=None, s=200: captured.append(c) or original(r, t, c, s)
    )
    page = client.get("/approvals")
    assert page.status_code == 200
    assert captured[0]["data"] == client.get("/api/v1/approvals").json()  # the twin's data
    approval = captured[0]["data"]["approvals"][0]
    assert approval["project_title"] == "Parcours post-AVC" and approval["state"] == "active"
    assert f'href="/projects/{world.project_id}/requests/{world.request_id}"' in page.text
    assert f'href="/approvals/{world.approval_id}/federated-partial"' in page.text
    assert "Autorisations que je peux modifier" in page.text
    english = client.get(
        "/approvals", headers={"Accept-Language": "en"}, cookies={"campus_lang": "en"}
    )
    assert "Approvals I may change" in english.text
