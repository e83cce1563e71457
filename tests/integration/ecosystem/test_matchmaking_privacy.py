"""Attacks on what the directory and introductions reveal about a person: a hidden profile
is found by no page, search, suggestion or introduction request (each answers as for an
unknown id); opening a page creates no profile; an accepted request gives the address the
person chose to show, not their sign-in address nor other admins' addresses."""

from sqlalchemy import func, select

from campus.auth.actor import SYSTEM
from campus.auth.models import Account, OutboxMail
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Organisation, Person
from campus.ecosystem.matchmaking.models import Introduction
from tests.helpers import make_account
from tests.integration.ecosystem.test_matchmaking_introductions import join, setup_orgs


def _profile(db, email, **fields):
    """A member with a profile: `fields` as the person sets them on /profile."""
    make_account(db, email, "member")
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        person = directory.ensure_person(session, account)
        directory.update_person(session, person, fields, by=SYSTEM)
        return person.id


def _count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_hidden_profile_answers_everywhere_as_an_unknown_id(client, db):
    startup, _hospital = setup_orgs(db)
    hidden = _profile(
        db,
        "secret@cardiolab.example",
        display_name="Sidonie Secrète",
        expertise=["clinical_trials"],
        visible=False,
    )
    with db.session() as session:
        directory.add_member(
            session,
            session.get(Organisation, startup),
            session.get(Person, hidden),
            role="member",
            by=SYSTEM,
        )
    _profile(db, "seeker@example.org", display_name="Seeker", needs=["clinical_trials"])
    client.login("seeker@example.org")
    mails = _count(db, OutboxMail)

    unknown = "0" * 32
    for kind in ("/people/{}", "/api/v1/people/{}"):
        assert client.get(kind.format(hidden)).status_code == 404
        assert client.get(kind.format(unknown)).status_code == 404
    found = client.get("/api/v1/directory", params={"section": "people", "q": "sidonie"}).json()
    assert found["total"] == 0
    by_skill = client.get(
        "/api/v1/directory", params={"section": "people", "skill": "clinical_trials"}
    ).json()
    assert "Sidonie Secrète" not in str(by_skill)
    suggested = client.get("/api/v1/me/suggestions").json()
    assert hidden not in str(suggested) and "Sidonie" not in str(suggested)
    profile = client.get(f"/api/v1/organisations/{startup}").json()
    assert hidden not in str(profile["members"])
    assert "Sidonie" not in client.get(f"/organisations/{startup}").text

    form = client.get("/introductions/new", params={"target_type": "person", "target_id": hidden})
    assert form.status_code == 404 and "Sidonie" not in form.text
    seeker = client.get("/api/v1/me/suggestions").json()["source_id"]
    asked = {
        "source_type": "person",
        "source_id": seeker,
        "target_type": "person",
        "target_id": hidden,
        "message": "",
    }
    refused = client.post("/api/v1/introductions", json=asked)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    posted = client.post(
        "/introductions",
        data={
            "source": f"person:{seeker}",
            "target_type": "person",
            "target_id": hidden,
            "csrf_token": client.csrf(),
        },
    )
    assert posted.status_code == 404 and "Sidonie" not in posted.text
    assert _count(db, Introduction) == 0 and _count(db, OutboxMail) == mails


def test_a_hidden_person_still_gets_suggestions_and_asks_for_themselves(client, db):
    _startup, hospital = setup_orgs(db)
    hidden = _profile(
        db, "quiet@example.org", display_name="Quiet", needs=["clinical_trials"], visible=False
    )
    client.login("quiet@example.org")
    mine = client.get("/api/v1/me/suggestions").json()
    assert mine["source_id"] == hidden
    assert [s["name"] for s in mine["items"]] == ["Hôpital Nord"]
    asked = client.post(
        "/api/v1/introductions",
        json={
            "source_type": "person",
            "source_id": hidden,
            "target_type": "organisation",
            "target_id": hospital,
        },
    )
    assert asked.status_code == 201, asked.text


def test_opening_matchmaking_pages_creates_no_profile(client, db):
    """A profile is listed in the directory: one decides to have it on /profile, not by
    opening the suggestions or the ask-for-an-introduction page."""
    _startup, hospital = setup_orgs(db)
    make_account(db, "newcomer@example.org", "member")
    client.login("newcomer@example.org")
    assert client.get("/api/v1/me/suggestions").json() == {
        "source_type": "person",
        "source_id": None,
        "items": [],
    }
    assert client.get("/matchmaking").status_code == 200
    form = client.get(
        "/introductions/new", params={"target_type": "organisation", "target_id": hospital}
    )
    assert form.status_code == 200 and 'data-testid="no-profile"' in form.text
    assert _count(db, Person) == 0


def test_an_accepted_request_gives_the_shown_address_not_the_sign_in_one(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    join(db, "admin@hopital.example", hospital, "admin")
    join(db, "other-admin@hopital.example", hospital, "admin")
    target = _profile(
        db,
        "login-only@example.org",
        display_name="Dr Target",
        expertise=["clinical_trials"],
        contact_email="contact@target.example",
    )
    client.login("ceo@cardiolab.example")
    for kind, target_id in (("person", target), ("organisation", hospital)):
        created = client.post(
            "/api/v1/introductions",
            json={
                "source_type": "organisation",
                "source_id": startup,
                "target_type": kind,
                "target_id": target_id,
            },
        )
        assert created.status_code == 201, created.text
    with db.session() as session:
        ids = {i.target_type: i.id for i in session.scalars(select(Introduction))}
    to_person, to_hospital = ids["person"], ids["organisation"]
    for email, intro in (
        ("login-only@example.org", to_person),
        ("admin@hopital.example", to_hospital),
    ):
        client.delete("/api/v1/session")
        client.login(email)
        assert client.post(f"/api/v1/introductions/{intro}/accept").status_code == 200
    with db.session() as session:
        answers = list(
            session.scalars(select(OutboxMail.body).where(OutboxMail.to == "ceo@cardiolab.example"))
        )
    text = "\n".join(answers)
    assert "contact@target.example" in text and "login-only@example.org" not in text
    assert "admin@hopital.example" in text and "other-admin@hopital.example" not in text
