"""Events as people use them, in a real browser, from the home page by clicking: a member
finds a full workshop with the filters, registers and reads their waiting-list rank; staff
check an attendee in at the door by the short code, then by name. At 390 px no page is wider
than the screen. With CAMPUS_SHOTS set to a folder, the list, the month, an event and the door
are photographed there at 390 and 1280 px."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from playwright.sync_api import expect

from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.ecosystem.events.validation import EventInput
from campus.settings import Settings
from tests.e2e.conftest import sign_in
from tests.helpers import PASSWORD, make_account
from tests.integration.ecosystem.events_helpers import actor_of

SHOTS = os.environ.get("CAMPUS_SHOTS", "")
WIDTHS = {"phone": (390, 844), "wide": (1280, 900)}


def _seed(live_server) -> tuple[str, str]:
    """A full workshop (one seat, taken), a conference, a meetup next month; the staff."""
    db = live_server.db
    staff = actor_of(db, make_account(db, "e2e-pg-staff@example.org", "staff", name="Sam"))
    ana = actor_of(db, make_account(db, "e2e-pg-ana@example.org", "member", name="Ana Avant"))
    make_account(db, "e2e-pg-bob@example.org", "member", name="Bob Bientôt")
    settings = Settings(var_dir=live_server.var_dir, database_url=db.url).resolve()
    start = utcnow() + dt.timedelta(days=4)
    programme = [
        ("Atelier FHIR pour débuter", "workshop", "interoperability", 1, 0),
        ("Conférence : l'IA en imagerie", "conference", "ai", 80, 1),
        ("Rencontre des startups", "meetup", "entrepreneurship", None, 30),
    ]
    ids = []
    with db.session() as session:
        for title, kind, theme, capacity, days in programme:
            begins = start + dt.timedelta(days=days)
            event = service.create_event(
                session,
                staff,
                EventInput(
                    title=title,
                    starts_at=begins,
                    ends_at=begins + dt.timedelta(hours=2),
                    room="Amphithéâtre Pasteur",
                    capacity=capacity,
                    kind=kind,
                    theme=theme,
                    organiser="Club interopérabilité",
                    speakers="Karim Benali, architecte FHIR\nClaire Martin, cardiologue",
                    description="Une demi-journée pour écrire ses premières ressources FHIR.",
                ),
            )
            service.publish_event(session, staff, event.id)
            ids.append(event.id)
        ana_registration = service.register(session, settings, ana, ids[0])
        code = service.code_for(settings, ana_registration)
    return ids[0], code


def _no_wider_than_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


def _shoot(page, name: str) -> None:
    """At both widths: no horizontal scrolling on the phone; a photograph when asked."""
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        if label == "phone":
            _no_wider_than_the_screen(page)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)


def test_a_member_finds_a_full_workshop_and_reads_their_rank_then_staff_check_in(
    browser, live_server
):
    event_id, code = _seed(live_server)
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15000)
    page = context.new_page()
    sign_in(page, "e2e-pg-bob@example.org", PASSWORD)
    page.goto("/")
    page.locator("summary", has_text="cosystème").first.click()  # the menu's group
    page.get_by_role("link", name="Événements", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Événements à venir")
    _shoot(page, "events-list")
    # The filters: the interoperability theme keeps the workshop alone.
    page.get_by_text("Filtrer les événements").click()
    page.get_by_label("Thématique").select_option("interoperability")
    page.get_by_role("button", name="Filtrer", exact=True).click()
    cards = page.locator(".event-card")
    expect(cards).to_have_count(1)
    cards.get_by_role("link", name="Atelier FHIR pour débuter").click()
    expect(page.get_by_test_id("speakers")).to_contain_text("Karim Benali, architecte FHIR")
    expect(page.get_by_test_id("organiser")).to_have_text("Club interopérabilité")
    expect(page.get_by_test_id("seats")).to_contain_text("Complet")
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("waitlist-rank")).to_contain_text("liste d'attente, rang 1")
    _shoot(page, "event-detail-waitlisted")
    page.get_by_role("link", name="Événements").first.click()
    page.get_by_role("link", name="Calendrier du mois").click()
    expect(page.locator(".month-grid")).to_contain_text("Atelier FHIR pour débuter")
    _shoot(page, "events-month")
    context.close()

    door_context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    door_context.set_default_timeout(15000)
    door = door_context.new_page()
    sign_in(door, "e2e-pg-staff@example.org", PASSWORD)
    door.goto(f"/events/{event_id}")
    door.get_by_role("link", name="Contrôle des entrées").click()
    door.get_by_role("textbox", name="Code du billet").fill(code.lower())
    door.get_by_test_id("checkin-submit").click()
    expect(door.get_by_test_id("checkin-ok")).to_contain_text("Ana Avant")
    expect(door.get_by_test_id("checkin-count")).to_contain_text("1 / 1")
    door.get_by_role("searchbox", name="Nom").fill("av")
    door.get_by_test_id("name-search").click()
    expect(door.get_by_test_id("attendees")).to_contain_text("Ana Avant")
    _shoot(door, "event-checkin")
    door_context.close()
