from campus.participation import service
from tests.helpers import audit_events, make_account
from tests.integration.participation.helpers import body, citizen, make_consultation


def _setup(db, threshold=2):
    cid = make_consultation(db, report_threshold=threshold)
    author = citizen(db, "author@example.org")
    with db.session() as session:
        from campus.settings import Settings

        proposal = service.create_proposal(
            session,
            Settings(env="test"),
            author,
            service.get_consultation(session, cid),
            title="A proposal to moderate",
            body=body(),
        )
        return cid, proposal.id


def _report(client, pid, reason="Off topic and rude"):
    return client.post(
        "/api/v1/participation/reports",
        json={"target_type": "proposal", "target_id": pid, "reason": reason},
    )


def _as(client, email):
    client.delete("/api/v1/session")
    client.login(email)


def test_reports_hide_past_the_threshold_and_a_moderator_decides_with_a_reason(client, db):
    cid, pid = _setup(db, threshold=2)
    for email in ("r1@example.org", "r2@example.org"):
        citizen(db, email)
    make_account(db, "mod@example.org", "moderator")
    client.login("r1@example.org")
    assert _report(client, pid).status_code == 201
    again = _report(client, pid)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    assert client.get(f"/api/v1/consultations/{cid}").json()["proposals"][0]["moderation"] == (
        "visible"
    )
    _as(client, "r2@example.org")
    assert _report(client, pid).status_code == 201
    # hidden for the public until a moderator decides
    assert client.get(f"/api/v1/consultations/{cid}").json()["proposals"] == []
    assert client.get(f"/api/v1/consultations/{cid}/proposals/{pid}").status_code == 404
    _as(client, "author@example.org")
    own = client.get(f"/api/v1/consultations/{cid}/proposals/{pid}").json()
    assert own["moderation"] == "pending"
    _as(client, "mod@example.org")
    queue = client.get("/api/v1/participation/moderation").json()
    assert [(i["target_id"], i["moderation"], i["reports"]) for i in queue] == [(pid, "pending", 2)]
    assert "Off topic and rude" in client.get("/moderation").text
    decided = client.post(
        f"/api/v1/participation/moderation/proposal/{pid}",
        json={"decision": "hide", "reason": "Insults are against the charter"},
    )
    assert decided.json()["moderation"] == "hidden"
    assert client.get("/api/v1/participation/moderation").json() == []
    _as(client, "author@example.org")
    page = client.get(f"/consultations/{cid}/proposals/{pid}").text
    assert "Masqué par un modérateur." in page and "Insults are against the charter" in page
    _as(client, "mod@example.org")
    restored = client.post(
        f"/moderation/proposal/{pid}",
        data={"decision": "restore", "reason": "Edited, now fine"},
        follow_redirects=False,
    )
    assert restored.status_code == 303
    client.delete("/api/v1/session")
    assert len(client.get(f"/api/v1/consultations/{cid}").json()["proposals"]) == 1
    actions = {e.action for e in audit_events(db)}
    assert {
        "contribution.reported",
        "contribution.auto_hidden",
        "contribution.hidden",
        "contribution.restored",
    } <= actions


def test_hidden_comments_keep_their_place_without_their_text(client, db):
    cid, pid = _setup(db, threshold=1)
    citizen(db, "talker@example.org")
    citizen(db, "reporter@example.org")
    client.login("talker@example.org")
    url = f"/api/v1/consultations/{cid}/proposals/{pid}"
    comment_id = client.post(url + "/comments", json={"body": "Something rude"}).json()["id"]
    _as(client, "reporter@example.org")
    report = client.post(
        "/api/v1/participation/reports",
        json={"target_type": "comment", "target_id": comment_id, "reason": "Rude words"},
    )
    assert report.status_code == 201
    node = client.get(url).json()["comments"][0]
    assert node["body"] is None and node["author"] == "" and node["moderation"] == "pending"


def test_only_moderators_moderate_and_nobody_reports_their_own_content(client, db):
    _cid, pid = _setup(db)
    citizen(db, "someone@example.org")
    client.login("someone@example.org")
    assert client.get("/api/v1/participation/moderation").status_code == 403
    forbidden = client.post(
        f"/api/v1/participation/moderation/proposal/{pid}",
        json={"decision": "hide", "reason": "because"},
    )
    assert forbidden.status_code == 403
    _as(client, "author@example.org")
    own = _report(client, pid)
    assert own.status_code == 400 and own.json()["error"]["code"] == "own_content"
    bad_type = client.post(
        "/api/v1/participation/reports",
        json={"target_type": "account", "target_id": pid, "reason": "spam spam"},
    )
    assert bad_type.json()["error"]["where"] == "target_type"


def test_a_flood_of_reports_from_one_account_is_throttled(client, db, settings):
    settings.participation_reports_per_hour = 2
    cid = make_consultation(db, report_threshold=10)
    author = citizen(db, "author@example.org")
    ids = []
    with db.session() as session:
        consultation = service.get_consultation(session, cid)
        for i in range(3):
            settings.participation_proposals_per_hour = 10
            ids.append(
                service.create_proposal(
                    session, settings, author, consultation, title=f"Proposal {i} here", body=body()
                ).id
            )
    citizen(db, "flooder@example.org")
    client.login("flooder@example.org")
    assert _report(client, ids[0]).status_code == 201
    assert _report(client, ids[1]).status_code == 201
    third = _report(client, ids[2])
    assert third.status_code == 429 and third.json()["error"]["code"] == "throttled"
    reported = [e.object_id for e in audit_events(db) if e.action == "contribution.reported"]
    assert reported == ids[:2]


def test_the_proposal_page_shows_no_more_than_its_twin_of_hidden_content(client, db):
    """A hidden proposal is not found by others on the page or its twin; a hidden comment
    shows neither its text nor its author's name in either rendering."""
    cid, pid = _setup(db, threshold=1)
    citizen(db, "talker@example.org")
    citizen(db, "reporter@example.org")
    citizen(db, "reader@example.org")
    client.login("talker@example.org")
    path = f"/consultations/{cid}/proposals/{pid}"
    client.post("/api/v1" + path + "/comments", json={"body": "Something rude"})
    _as(client, "reporter@example.org")
    comment_id = client.get("/api/v1" + path).json()["comments"][0]["id"]
    client.post(
        "/api/v1/participation/reports",
        json={"target_type": "comment", "target_id": comment_id, "reason": "Rude words"},
    )
    _as(client, "reader@example.org")
    page, twin = client.get(path), client.get("/api/v1" + path)
    assert page.status_code == twin.status_code == 200
    for shown in (page.text, twin.text):
        assert "Something rude" not in shown and "Talker" not in shown
    assert _report(client, pid).status_code == 201  # the proposal is hidden now
    _as(client, "talker@example.org")
    page, twin = client.get(path), client.get("/api/v1" + path)
    assert (page.status_code, twin.status_code) == (404, 404)
    assert "A proposal to moderate" not in page.text and "Author" not in page.text
    _as(client, "author@example.org")  # its author still sees it, with the note
    page = client.get(path)
    assert page.status_code == 200 and 'data-testid="moderation-note"' in page.text
