from sqlalchemy import select

from campus.auth.actor import SYSTEM
from campus.auth.models import Account, OutboxMail
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Organisation
from tests.helpers import CampusClient, audit_events, make_account


def setup_orgs(db):
    """A startup needing clinical trials; a hospital offering them and needing ML."""
    with db.session() as session:
        startup = directory.create_organisation(
            session,
            {
                "name": "Cardiolab",
                "kind": "startup",
                "expertise": ["machine_learning"],
                "needs": ["clinical_trials", "ce_marking"],
                "themes": ["cardiology"],
            },
            by=SYSTEM,
        )
        hospital = directory.create_organisation(
            session,
            {
                "name": "Hôpital Nord",
                "kind": "hospital",
                "expertise": ["clinical_trials"],
                "needs": ["machine_learning"],
                "themes": ["cardiology"],
            },
            by=SYSTEM,
        )
        directory.create_organisation(
            session,
            {"name": "Unrelated", "kind": "company", "expertise": ["procurement"]},
            by=SYSTEM,
        )
        return startup.id, hospital.id


def join(db, email, org_id, role="member"):
    make_account(db, email, "member")
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        person = directory.ensure_person(session, account)
        directory.add_member(
            session, session.get(Organisation, org_id), person, role=role, by=SYSTEM
        )


def test_organisation_suggestions_are_ranked_and_explained(client, db):
    startup, _hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    client.login("ceo@cardiolab.example")
    items = client.get(f"/api/v1/organisations/{startup}/suggestions").json()["items"]
    assert [i["name"] for i in items] == ["Hôpital Nord"]
    assert items[0]["they_bring"] == ["clinical_trials"]
    assert items[0]["they_need"] == ["machine_learning"]
    assert items[0]["explanation"].startswith("Hôpital Nord apporte essais cliniques")
    page = client.get(f"/organisations/{startup}/suggestions")
    assert page.status_code == 200 and "Hôpital Nord apporte" in page.text


def test_suggestions_of_an_organisation_are_for_its_members(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "doc@hopital.example", hospital)
    client.login("doc@hopital.example")
    response = client.get(f"/api/v1/organisations/{startup}/suggestions")
    assert response.status_code == 403


def test_introduction_is_requested_then_accepted_by_the_other_side_and_audited(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    join(db, "admin@hopital.example", hospital, "admin")
    join(db, "staff@hopital.example", hospital, "member")
    client.login("ceo@cardiolab.example")
    body = {
        "source_type": "organisation",
        "source_id": startup,
        "target_type": "organisation",
        "target_id": hospital,
        "message": "<b>Bonjour</b>, étude pilote ?",
    }
    created = client.post("/api/v1/introductions", json=body)
    assert created.status_code == 201, created.text
    intro_id = created.json()["id"]
    assert client.post("/api/v1/introductions", json=body).status_code == 409
    assert client.post(f"/api/v1/introductions/{intro_id}/accept").status_code == 403
    with db.session() as session:
        assert session.scalar(select(OutboxMail).where(OutboxMail.to == "admin@hopital.example"))

    client.delete("/api/v1/session")
    client.login("staff@hopital.example")  # a member, not an admin, of the target
    assert client.post(f"/api/v1/introductions/{intro_id}/accept").status_code == 403

    client.delete("/api/v1/session")
    client.login("admin@hopital.example")
    page = client.get("/introductions")
    assert "&lt;b&gt;Bonjour&lt;/b&gt;" in page.text
    received = client.get("/api/v1/introductions").json()["received"]
    assert [i["id"] for i in received] == [intro_id]
    accepted = client.post(f"/api/v1/introductions/{intro_id}/accept")
    assert accepted.json()["status"] == "accepted"
    assert client.post(f"/api/v1/introductions/{intro_id}/decline").status_code == 409
    with db.session() as session:
        answer = session.scalar(select(OutboxMail).where(OutboxMail.to == "ceo@cardiolab.example"))
        assert "admin@hopital.example" in answer.body
        actions = {e.action for e in audit_events(db)}
    assert {"introduction.requested", "introduction.accepted"} <= actions


def test_a_member_cannot_ask_on_behalf_of_another_organisation(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "doc@hopital.example", hospital)
    client.login("doc@hopital.example")
    response = client.post(
        "/api/v1/introductions",
        json={
            "source_type": "organisation",
            "source_id": startup,
            "target_type": "organisation",
            "target_id": hospital,
        },
    )
    assert response.status_code == 403


def test_personal_suggestions_and_a_declined_request(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    join(db, "admin@hopital.example", hospital, "admin")
    client.login("ceo@cardiolab.example")
    client.patch("/api/v1/me/profile", json={"needs": ["clinical_trials"]})
    mine = client.get("/api/v1/me/suggestions").json()
    assert [i["name"] for i in mine["items"]] == ["Hôpital Nord"]
    assert "Hôpital Nord" in client.get("/matchmaking").text
    form = client.post(
        "/introductions",
        data={
            "source": f"person:{mine['source_id']}",
            "target_type": "organisation",
            "target_id": hospital,
            "message": "",
            "csrf_token": client.csrf(),
        },
        follow_redirects=False,
    )
    assert form.status_code == 303
    client.delete("/api/v1/session")
    client.login("admin@hopital.example")
    intro_id = client.get("/api/v1/introductions").json()["received"][0]["id"]
    declined = client.post(
        f"/introductions/{intro_id}/decline",
        data={"csrf_token": client.csrf()},
        follow_redirects=False,
    )
    assert declined.status_code == 303
    assert client.get("/api/v1/introductions").json()["received"][0]["status"] == "declined"


def _ask(client, source, target):
    body = {
        "source_type": "organisation",
        "source_id": source,
        "target_type": "organisation",
        "target_id": target,
    }
    return client.post("/api/v1/introductions", json=body)


def test_a_request_for_the_same_pair_in_either_direction_is_refused(app, client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    join(db, "admin@hopital.example", hospital, "admin")
    client.login("ceo@cardiolab.example")
    first = _ask(client, startup, hospital)
    assert first.status_code == 201
    other_side = CampusClient(app)
    other_side.login("admin@hopital.example")
    reverse = _ask(other_side, hospital, startup)
    assert reverse.status_code == 409
    assert reverse.json()["error"]["code"] == "already_requested"
    assert "answer their request" in reverse.json()["error"]["message"]
    assert other_side.get("/api/v1/introductions").json()["sent"] == []
    assert other_side.post(f"/api/v1/introductions/{first.json()['id']}/decline").is_success
    assert _ask(other_side, hospital, startup).status_code == 201  # a declined one is closed


def test_staff_answer_for_an_organisation_without_admins_only(app, client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    make_account(db, "staff@campus.example", "staff")
    client.login("ceo@cardiolab.example")
    to_hospital = _ask(client, startup, hospital).json()["id"]  # the hospital has no admin
    staff = CampusClient(app)
    staff.login("staff@campus.example")
    received = staff.get("/api/v1/introductions").json()["received"]
    assert [i["id"] for i in received] == [to_hospital]
    accepted = staff.post(f"/api/v1/introductions/{to_hospital}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    with db.session() as session:
        answer = session.scalar(select(OutboxMail).where(OutboxMail.to == "ceo@cardiolab.example"))
        assert "Hôpital Nord accepte" in answer.body

    with db.session() as session:
        unrelated = session.scalar(select(Organisation.id).where(Organisation.name == "Unrelated"))
    join(db, "admin@unrelated.example", unrelated, "admin")
    administered = _ask(client, startup, unrelated).json()["id"]
    assert staff.post(f"/api/v1/introductions/{administered}/accept").status_code == 403
    assert [i["id"] for i in staff.get("/api/v1/introductions").json()["received"]] == [to_hospital]


def test_an_unknown_answer_on_the_page_is_a_400_and_changes_nothing(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    join(db, "admin@hopital.example", hospital, "admin")
    client.login("ceo@cardiolab.example")
    intro_id = _ask(client, startup, hospital).json()["id"]
    client.delete("/api/v1/session")
    client.login("admin@hopital.example")
    response = client.post(f"/introductions/{intro_id}/maybe", data={"csrf_token": client.csrf()})
    assert response.status_code == 400
    assert "réponse inconnue\u00a0: accepter ou décliner" in response.text
    assert client.get("/api/v1/introductions").json()["received"][0]["status"] == "pending"


def test_a_message_with_a_nul_byte_is_a_400_naming_it_and_nothing_is_asked(client, db):
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "admin")
    join(db, "admin@hopital.example", hospital, "admin")
    client.login("ceo@cardiolab.example")
    body = {
        "source_type": "organisation",
        "source_id": startup,
        "target_type": "organisation",
        "target_id": hospital,
        "message": "Bonjour\x00",
    }
    refused = client.post("/api/v1/introductions", json=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["where"] == "message"
    with db.session() as session:
        assert session.scalar(select(OutboxMail.id)) is None


def test_asking_from_a_profile_names_the_target_keeps_the_message_and_mails_it(client, db, mailbox):
    """The ask-for-an-introduction form reached from the directory: on behalf of one's
    organisation by default; a refusal shows the form again with what was typed; the
    recipient's mail holds the message."""
    startup, hospital = setup_orgs(db)
    join(db, "ceo@cardiolab.example", startup, "member")
    join(db, "admin@hopital.example", hospital, "admin")
    client.login("ceo@cardiolab.example")
    form = client.get(
        "/introductions/new", params={"target_type": "organisation", "target_id": hospital}
    )
    assert form.status_code == 200 and "Hôpital Nord" in form.text
    assert f'<option value="organisation:{startup}" selected>' in form.text
    too_long = client.post(
        "/introductions",
        data={
            "source": f"organisation:{startup}",
            "target_type": "organisation",
            "target_id": hospital,
            "message": "Bonjour\x07",
            "csrf_token": client.csrf(),
        },
    )
    assert too_long.status_code == 400 and "Bonjour" in too_long.text
    sent = client.post(
        "/introductions",
        data={
            "source": f"organisation:{startup}",
            "target_type": "organisation",
            "target_id": hospital,
            "message": "Nous cherchons un partenaire pour un essai clinique.",
            "csrf_token": client.csrf(),
        },
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/introductions?sent=1"
    bodies = [body for to, _subject, body in mailbox.messages() if to == "admin@hopital.example"]
    assert "Nous cherchons un partenaire pour un essai clinique." in bodies[-1]
    unknown = client.get(
        "/introductions/new", params={"target_type": "organisation", "target_id": "nope"}
    )
    assert unknown.status_code == 404
