"""One event's page as each reader sees it: who may register (a members-only event refuses
the others), and the attendance figures for organisers only."""

from __future__ import annotations

from tests.helpers import CampusClient, make_account
from tests.integration.ecosystem.events_helpers import published_event, staff


def _page(app, email: str, event_id: str) -> str:
    client = CampusClient(app)
    client.login(email)
    page = client.get(f"/events/{event_id}")
    assert page.status_code == 200
    return page.text


def test_a_members_only_event_offers_registration_to_members_and_figures_to_organisers(app, db):
    event_id = published_event(db, staff(db), audience="members", title="Réservé")
    make_account(db, "citoyen@example.org")
    make_account(db, "membre@example.org", "member")
    citizen = _page(app, "citoyen@example.org", event_id)
    assert 'data-testid="register"' not in citizen
    assert "réservé aux membres du campus" in citizen
    member = _page(app, "membre@example.org", event_id)
    assert 'data-testid="register"' in member and 'class="as-cards"' not in member
    organiser = _page(app, "staff@campus.example", event_id)
    assert 'class="as-cards"' in organiser
