"""Campus life in a real browser: staff open an admissions round, admit a selected structure
into an office and see it in the occupancy figures; a resident books a meeting room and gets
its .ics; a mentor and a startup log their meetings."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from campus.db.base import utcnow
from campus.ecosystem.programmes import service as programmes
from campus.residency import service as residency
from campus.spaces.validation import PARIS
from tests.e2e.conftest import sign_in
from tests.helpers import PASSWORD, make_account
from tests.integration.campus_life.spaces_helpers import site
from tests.integration.ecosystem.events_helpers import actor_of
from tests.integration.ecosystem.programmes_helpers import member_of, organisation


@pytest.fixture(scope="module")
def campus(live_server):
    db = live_server.db
    staff = actor_of(db, make_account(db, "e2e-life-staff@example.org", "staff", name="Sam"))
    site(db, staff)
    return staff


def test_staff_admit_a_structure_into_an_office_and_see_the_occupancy(page, live_server, campus):
    db = live_server.db
    org_id, admin = organisation(db, "e2e-medtech", "e2e-life-admin@medtech.example")
    reviewer = actor_of(db, make_account(db, "e2e-life-reviewer@example.org", "member"))
    sign_in(page, "e2e-life-staff@example.org", PASSWORD)
    now = utcnow().astimezone(PARIS)
    page.goto("/residency/admissions")
    page.fill("#r-title", "Admissions e2e")
    page.fill("#r-opens", (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#r-closes", (now + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Ouvrir la session").click()
    expect(page.locator("h1")).to_have_text("Admissions e2e")
    call_id = page.url.rstrip("/").rsplit("/", 1)[1]
    # The structure applies, a reviewer scores, staff select: the programmes' machinery.
    with db.session() as session:
        application = programmes.apply(session, admin, call_id, org_id, {
            "project": "Dispositif connecté", "team_size": 5, "desks": 6,
            "requested_start": "2027-01-04", "axis": "value_creation"})  # fmt: skip
        application_id = application.id
        programmes.assign_reviewer(session, _settings(live_server), campus, application_id,
                                   reviewer.account_id)  # fmt: skip
    with db.session() as session:
        scores = {"health_impact": 4, "fit": 4, "team": 3, "maturity": 3}
        programmes.submit_review(session, reviewer, application_id, scores)
        programmes.decide(session, _settings(live_server), campus, application_id, "selected")
    page.reload()
    form = page.get_by_test_id(f"admit-{org_id}")
    form.locator("input[name=ends_on]").fill("2027-01-04")  # before the start: refused
    form.locator("input[name=contract_ref]").fill("CH-E2E-1")
    form.locator("input[name=monthly_fee]").fill("1200")
    form.locator("select[name=room]").select_option("A102")
    form.get_by_role("button", name="Admettre").click()
    expect(page.locator("#form-error")).to_contain_text("une résidence doit finir après son début")
    form = page.get_by_test_id(f"admit-{org_id}")
    form.locator("input[name=ends_on]").fill("2029-01-04")
    form.locator("input[name=contract_ref]").fill("CH-E2E-1")
    form.locator("input[name=monthly_fee]").fill("1200")
    form.locator("select[name=room]").select_option("A102")
    form.get_by_role("button", name="Admettre").click()
    expect(page.get_by_test_id("residency-spaces")).to_contain_text("A102")
    page.goto("/residency/dashboard?year=2027")
    expect(page.get_by_test_id("entries-exits")).to_contain_text("2027")
    expect(page.get_by_test_id("occupancy")).to_contain_text("Campus")
    assert page.locator("[data-charts] canvas").count() == 3


def test_a_resident_books_a_room_and_gets_the_ics(page, live_server, campus):
    make_account(live_server.db, "e2e-life-resident@example.org", "member", name="Rita")
    sign_in(page, "e2e-life-resident@example.org", PASSWORD)
    day = utcnow().astimezone(PARIS).date() + dt.timedelta(days=2)
    page.goto("/spaces")
    page.get_by_role("link", name="A201").first.click()
    page.fill("#b-title", "Revue de sprint")
    page.fill("#b-start", f"{day.isoformat()}T21:00")
    page.fill("#b-end", f"{day.isoformat()}T21:30")
    page.get_by_role("button", name="Réserver", exact=True).click()
    expect(page.locator("#form-error")).to_contain_text("heures d'ouverture")
    page.fill("#b-title", "Revue de sprint")
    page.fill("#b-start", f"{day.isoformat()}T14:00")
    page.fill("#b-end", f"{day.isoformat()}T15:00")
    page.get_by_role("button", name="Réserver", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Votre réservation est enregistrée")
    href = page.get_by_test_id("booking-ics").get_attribute("href")
    ics = page.request.get(href)
    assert ics.headers["content-type"].startswith("text/calendar")
    body = ics.text()
    assert "SUMMARY:Revue de sprint" in body
    start = dt.datetime.combine(day, dt.time(14), PARIS).astimezone(dt.UTC)
    assert f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}" in body


def test_a_mentor_and_a_startup_log_their_meetings(page, live_server, campus):
    db = live_server.db
    startup, _ = organisation(db, "e2e-pousse", "e2e-life-ceo@pousse.example")
    sponsor, _ = organisation(db, "e2e-groupe", "e2e-life-boss@groupe.example")
    mentor = member_of(db, sponsor, "e2e-life-mentor@groupe.example")
    with db.session() as session:
        from campus.ecosystem.directory.models import Organisation

        session.get(Organisation, sponsor).kind = "company"
    with db.session() as session:
        pair = residency.create_sponsorship(
            session, campus, startup_id=startup, sponsor_id=sponsor,
            mentor_account_id=mentor.account_id, objectives=["Premier pilote"],
        ).id  # fmt: skip
    for email, topic in [("e2e-life-mentor@groupe.example", "Préparer le pilote"),
                         ("e2e-life-ceo@pousse.example", "Retour sur la démo")]:  # fmt: skip
        page.context.clear_cookies()
        sign_in(page, email, PASSWORD)
        page.goto(f"/sponsorships/{pair}")
        page.fill("#m-topics", topic)
        page.get_by_role("button", name="Consigner la rencontre").click()
        expect(page.get_by_test_id("meetings")).to_contain_text(topic)
    expect(page.get_by_test_id("meetings").locator("li")).to_have_count(2)


def _settings(live_server):
    from campus.settings import Settings

    return Settings(var_dir=live_server.var_dir, database_url=live_server.db.url).resolve()
