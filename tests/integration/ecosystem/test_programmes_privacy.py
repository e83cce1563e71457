"""Attacks on the programme pages and their twins: whoever the twin refuses sees nothing of an
application or a review on the page either, and no role sees another's applications, scores
or comments through the call's page or their own list."""

from campus.ecosystem.programmes import service
from tests.helpers import CampusClient
from tests.integration.ecosystem.events_helpers import member, staff
from tests.integration.ecosystem.programmes_helpers import organisation, programme_with_call

SECRET_ANSWER = "Télésuivi des insuffisants cardiaques"
SECRET_COMMENT = "Équipe trop petite pour ce marché"


def _campus(db, settings) -> dict[str, str]:
    """Two organisations apply to one call; Ana reviews A (submitted, with a comment), Bob
    reviews A (not yet submitted), Cléo reviews B."""
    boss = staff(db)
    _programme_id, call_id = programme_with_call(db, boss)
    org_a, admin_a = organisation(db, "cardiolab", "admin@cardiolab.example")
    org_b, admin_b = organisation(db, "dermatech", "admin@dermatech.example")
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    cleo = member(db, "cleo@example.org")
    member(db, "dan@example.org")
    with db.session() as session:
        answers = {"pitch": SECRET_ANSWER, "team": 3, "stage": "seed"}
        a = service.apply(session, admin_a, call_id, org_a, answers).id
        b = service.apply(session, admin_b, call_id, org_b, {"pitch": "Dermatologie"}).id
        for reviewer, application in ((ana, a), (bob, a), (cleo, b)):
            service.assign_reviewer(session, settings, boss, application, reviewer.account_id)
        service.submit_review(session, ana, a, {"impact": 1, "team": 1}, SECRET_COMMENT)
    return {"call": call_id, "a": a, "b": b}


def _as(app, email: str) -> CampusClient:
    client = CampusClient(app)
    client.login(email)
    return client


def test_nobody_the_twin_refuses_sees_an_application_on_its_page(app, db, settings):
    ids = _campus(db, settings)
    for email in ("cleo@example.org", "admin@dermatech.example", "dan@example.org"):
        client = _as(app, email)
        page = client.get(f"/programmes/applications/{ids['a']}")
        twin = client.get(f"/api/v1/programmes/applications/{ids['a']}")
        assert (page.status_code, twin.status_code) == (403, 403), email
        assert SECRET_ANSWER not in page.text and SECRET_COMMENT not in page.text, email


def test_a_blind_reviewer_and_the_applicant_see_the_answers_but_no_one_elses_review(
    app, db, settings
):
    ids = _campus(db, settings)
    for email in ("bob@example.org", "admin@cardiolab.example"):
        client = _as(app, email)
        page = client.get(f"/programmes/applications/{ids['a']}")
        twin = client.get(f"/api/v1/programmes/applications/{ids['a']}").json()
        assert page.status_code == 200 and SECRET_ANSWER in page.text, email
        assert SECRET_COMMENT not in page.text and SECRET_COMMENT not in str(twin), email
        assert "ana" not in [r["reviewer"] for r in twin["reviews"]], email
    # The comment is there to be seen by those allowed: staff, and Ana herself.
    for email in ("staff@campus.example", "ana@example.org"):
        assert SECRET_COMMENT in _as(app, email).get(f"/programmes/applications/{ids['a']}").text


def test_only_staff_see_who_applied_to_a_call_and_each_sees_only_their_own_list(app, db, settings):
    ids = _campus(db, settings)
    for client in (CampusClient(app), _as(app, "admin@dermatech.example")):
        page = client.get(f"/programmes/calls/{ids['call']}")
        twin = client.get(f"/api/v1/programmes/calls/{ids['call']}").json()
        assert twin["applications"] == []
        assert "Cardiolab" not in page.text and ids["a"] not in page.text
    staff_view = _as(app, "staff@campus.example").get(f"/api/v1/programmes/calls/{ids['call']}")
    names = {a["organisation_name"] for a in staff_view.json()["applications"]}
    assert names == {"Cardiolab", "Dermatech"}
    cleo = _as(app, "cleo@example.org")
    mine = cleo.get("/api/v1/me/programmes").json()
    assert [r["application_id"] for r in mine["reviews"]] == [ids["b"]]
    assert ids["a"] not in cleo.get("/me/reviews").text
    applicant = _as(app, "admin@dermatech.example").get("/api/v1/me/programmes").json()
    assert [a["id"] for a in applicant["applications"]] == [ids["b"]]
    assert applicant["reviews"] == []
