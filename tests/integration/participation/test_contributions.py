from sqlalchemy import func, select

from campus.auth.models import Account
from campus.participation.models import CharterAcceptance, Comment, Proposal
from tests.helpers import make_account
from tests.integration.participation.helpers import body, make_consultation, set_phase


def _count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _proposal(client, cid, title="Open the dummy twin to patients' groups", text=None):
    return client.post(
        f"/api/v1/consultations/{cid}/proposals", json={"title": title, "body": text or body()}
    )


def test_a_first_contribution_needs_the_charter_then_a_proposal_is_published(client, db):
    cid = make_consultation(db)
    make_account(db, "chloe@example.org", name="Chloé")
    client.login("chloe@example.org")
    refused = _proposal(client, cid)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "charter_not_accepted"
    charter_page = client.get("/participation/charter")
    assert "Charte de participation" in charter_page.text
    assert client.post("/api/v1/participation/charter").json()["accepted"] is True
    created = _proposal(client, cid)
    assert created.status_code == 201, created.text
    assert created.json()["author"] == "Chloé"
    detail = client.get(f"/api/v1/consultations/{cid}").json()
    assert [p["title"] for p in detail["proposals"]] == ["Open the dummy twin to patients' groups"]
    assert _count(db, CharterAcceptance) == 1


def test_unverified_accounts_and_visitors_cannot_contribute(client, db):
    cid = make_consultation(db)
    assert _proposal(client, cid).status_code == 401
    make_account(db, "new@example.org", verified=False)
    client.login("new@example.org")
    response = _proposal(client, cid)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_not_verified"
    assert _count(db, Proposal) == 0


def test_scripted_content_is_sanitised_and_titles_escaped_on_the_page(client, db):
    cid = make_consultation(db)
    make_account(db, "chloe@example.org")
    client.login("chloe@example.org")
    client.post("/api/v1/participation/charter")
    created = _proposal(
        client,
        cid,
        title="<script>alert('t')</script> better access",
        text='<p>Read <a href="javascript:alert(1)">this</a> <b onmouseover="x()">now</b>'
        "<script>alert(2)</script> and more words here</p>",
    ).json()
    assert "script" not in created["body"] and "javascript" not in created["body"]
    page = client.get(f"/consultations/{cid}/proposals/{created['id']}").text
    assert "<script>alert('t')</script>" not in page
    assert "&lt;script&gt;alert(" in page


def test_oversized_or_empty_content_is_refused_and_nothing_is_stored(client, db):
    cid = make_consultation(db)
    make_account(db, "chloe@example.org")
    client.login("chloe@example.org")
    client.post("/api/v1/participation/charter")
    long_body = _proposal(client, cid, text="word " * 1100)
    assert long_body.status_code == 400
    assert long_body.json()["error"]["where"] == "body"
    huge = _proposal(client, cid, text="x" * 19000)
    assert huge.status_code == 413
    short_title = _proposal(client, cid, title="ab")
    assert short_title.json()["error"]["where"] == "title"
    assert _count(db, Proposal) == 0


def test_proposals_are_editable_by_their_author_until_voting(client, db):
    cid = make_consultation(db)
    make_account(db, "chloe@example.org")
    make_account(db, "other@example.org")
    client.login("chloe@example.org")
    client.post("/api/v1/participation/charter")
    pid = _proposal(client, cid).json()["id"]
    url = f"/api/v1/consultations/{cid}/proposals/{pid}"
    edited = client.put(url, json={"title": "A better title here", "body": body(10)})
    assert edited.status_code == 200 and edited.json()["title"] == "A better title here"
    client.delete("/api/v1/session")
    client.login("other@example.org")
    assert client.put(url, json={"title": "Hijacked title", "body": body()}).status_code == 403
    client.delete("/api/v1/session")
    client.login("chloe@example.org")
    set_phase(db, cid, "voting")
    late = client.put(url, json={"title": "Too late title", "body": body()})
    assert late.status_code == 409 and late.json()["error"]["code"] == "wrong_phase"
    assert _proposal(client, cid).json()["error"]["code"] == "wrong_phase"


def test_comments_are_threaded_with_a_stance(client, db):
    cid = make_consultation(db)
    make_account(db, "chloe@example.org")
    client.login("chloe@example.org")
    client.post("/api/v1/participation/charter")
    pid = _proposal(client, cid).json()["id"]
    url = f"/api/v1/consultations/{cid}/proposals/{pid}"
    first = client.post(url + "/comments", json={"body": "I agree fully", "stance": "for"})
    assert first.status_code == 201
    reply = client.post(
        url + "/comments",
        json={
            "body": "But what about consent?",
            "stance": "against",
            "parent_id": first.json()["id"],
        },
    )
    assert reply.status_code == 201
    bad = client.post(url + "/comments", json={"body": "Hmm", "stance": "maybe"})
    assert bad.json()["error"]["where"] == "stance"
    thread = client.get(url).json()["comments"]
    assert len(thread) == 1 and thread[0]["stance"] == "for"
    assert thread[0]["replies"][0]["stance"] == "against"
    page = client.get(f"/consultations/{cid}/proposals/{pid}").text
    assert "But what about consent?" in page and "Contre" in page


def test_a_flood_of_proposals_is_throttled(client, db, settings):
    cid = make_consultation(db, proposals_per_hour=2)
    make_account(db, "chloe@example.org")
    client.login("chloe@example.org")
    client.post("/api/v1/participation/charter")
    assert _proposal(client, cid, title="First proposal here").status_code == 201
    assert _proposal(client, cid, title="Second proposal here").status_code == 201
    third = _proposal(client, cid, title="Third proposal here")
    assert third.status_code == 429 and third.json()["error"]["code"] == "throttled"
    assert _count(db, Proposal) == 2


def test_the_pages_lead_a_citizen_through_the_charter_to_a_proposal(client, db):
    cid = make_consultation(db)
    make_account(db, "chloe@example.org")
    client.login("chloe@example.org")
    form = client.get(f"/consultations/{cid}/proposals/new", follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith("/participation/charter")
    accepted = client.post(
        "/participation/charter",
        data={"next": f"/consultations/{cid}/proposals/new"},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == f"/consultations/{cid}/proposals/new"
    bad = client.post(f"/consultations/{cid}/proposals/new", data={"title": "ok", "body": body()})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    created = client.post(
        f"/consultations/{cid}/proposals/new",
        data={"title": "Publish the dummy twin", "body": "Plain text body\n\nwith two paragraphs"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = client.get(created.headers["location"]).text
    assert "<p>Plain text body</p><p>with two paragraphs</p>" in page
    comment = client.post(
        created.headers["location"] + "/comments",
        data={"body": "A comment from the page", "stance": "neutral"},
        follow_redirects=False,
    )
    assert comment.status_code == 303
    assert _count(db, Comment) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 2


def test_proposals_are_sorted_and_filtered_the_same_on_the_page_and_its_twin(client, db):
    cid = make_consultation(db)
    for email, title in (("ana@example.org", "Bravo"), ("ben@example.org", "Alpha")):
        make_account(db, email)
        client.login(email)
        client.post("/api/v1/participation/charter")
        assert _proposal(client, cid, title=title).status_code == 201
    pid = _proposal(client, cid, title="Charlie").json()["id"]
    url = f"/api/v1/consultations/{cid}"
    client.post(f"{url}/proposals/{pid}/comments", json={"body": "Agreed", "stance": "for"})

    def titles(**query):
        return [p["title"] for p in client.get(url, params=query).json()["proposals"]]

    assert titles() == ["Charlie", "Alpha", "Bravo"]
    assert titles(sort="oldest") == ["Bravo", "Alpha", "Charlie"]
    assert titles(sort="title") == ["Alpha", "Bravo", "Charlie"]
    assert titles(sort="comments")[0] == "Charlie"
    assert titles(status="accepted") == []
    assert titles(status="open") == ["Charlie", "Alpha", "Bravo"]
    refused = client.get(url, params={"sort": "random"})
    assert refused.status_code == 400 and refused.json()["error"]["where"] == "sort"
    page = client.get(f"/consultations/{cid}", params={"sort": "title"}).text
    assert page.index("Alpha") < page.index("Bravo") < page.index("Charlie")
    assert "Les plus commentées d'abord" in page


def _charter_then_comment(client, path, text, stance="for"):
    """Comment before the charter (the charter comes back with the comment kept), then
    accept it as the page's form does: the comment travels with the acceptance."""
    typed = {"body": text, "stance": stance, "parent_id": ""}
    charter_page = client.post(
        path + "/comments", data={**typed, "csrf_token": client.csrf()}, follow_redirects=False
    )
    assert charter_page.status_code == 200
    assert f'value="{text}"' in charter_page.text
    assert "Votre commentaire est conservé" in charter_page.text
    accepted = client.post(
        "/participation/charter",
        data={"next": path, **typed, "csrf_token": client.csrf()},
        follow_redirects=False,
    )
    # Posted again, body and all, to the one route that publishes comments.
    assert accepted.status_code == 307
    assert accepted.headers["location"] == path + "/comments"
    return client.post(
        "/participation/charter",
        data={"next": path, **typed, "csrf_token": client.csrf()},
        follow_redirects=True,
    )


def _a_proposal(client, db) -> str:
    cid = make_consultation(db)
    make_account(db, "author@example.org")
    client.login("author@example.org")
    client.post("/api/v1/participation/charter")
    pid = _proposal(client, cid).json()["id"]
    return f"/consultations/{cid}/proposals/{pid}"


def test_a_comment_typed_before_the_charter_is_published_once_it_is_accepted(client, db):
    path = _a_proposal(client, db)
    make_account(db, "newcomer@example.org")
    client.login("newcomer@example.org")
    published = _charter_then_comment(client, path, "Un avis écrit avant la charte")
    assert published.status_code == 200
    assert str(published.url).startswith("http://testserver" + path + "#comment-")
    assert "Un avis écrit avant la charte" in published.text
    with db.session() as session:
        assert session.scalars(select(Comment.body)).all() == [
            "<p>Un avis écrit avant la charte</p>"
        ]
    assert _count(db, CharterAcceptance) == 2


def test_a_bad_comment_is_refused_in_french_with_its_field_and_nothing_is_written(client, db):
    path = _a_proposal(client, db)
    make_account(db, "newcomer@example.org")
    client.login("newcomer@example.org")
    # Through the charter: the acceptance stands, the one-letter comment is refused.
    refused = _charter_then_comment(client, path, "x")
    assert refused.status_code == 400
    assert "le texte doit compter de 2 à 2000 caractères de texte (il en a 1)" in refused.text
    assert 'aria-invalid="true" aria-describedby="form-error">x</textarea>' in refused.text
    assert _count(db, Comment) == 0 and _count(db, CharterAcceptance) == 2
    # Signed in with the charter accepted: the same refusal, then the comment is published.
    plain = {"body": "x", "stance": "against", "csrf_token": client.csrf()}
    again = client.post(path + "/comments", data=plain)
    assert again.status_code == 400 and "(il en a 1)" in again.text
    assert 'value="against" checked' in again.text
    wrong = client.post(path + "/comments", data={**plain, "body": "Fine", "stance": "maybe"})
    assert wrong.status_code == 400 and "la position doit être l" in wrong.text
    assert _count(db, Comment) == 0
    ok = client.post(path + "/comments", data={**plain, "body": "Bien vu"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith(path + "#comment-")
    assert _count(db, Comment) == 1
