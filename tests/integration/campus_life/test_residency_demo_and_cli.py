"""The demo campus life (sizes, about 90% of desks allocated, determinism) and the
`campus residency` / `campus spaces` commands."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from sqlalchemy import select

from campus.db.engine import Database
from campus.ecosystem import demo_data
from campus.residency import demo, service
from campus.residency.models import Residency, Sponsorship
from campus.spaces.cli import CLI_ACTOR
from campus.spaces.models import Allocation, Booking
from tests.helpers import make_account, run_cli
from tests.integration.campus_life.spaces_helpers import next_weekday, paris, site, staff

REFERENCE = dt.date(2026, 11, 2)


def _fingerprint(db: Database) -> list:
    with db.session() as session:
        return [
            sorted((r.starts_on, r.ends_on, r.exited_on, r.exit_reason, r.contract_ref)
                   for r in session.scalars(select(Residency))),
            sorted((a.desks, a.starts_on, a.ends_on) for a in session.scalars(select(Allocation))),
            sorted((b.starts_at, b.title, b.people) for b in session.scalars(select(Booking))),
            sorted((p.mentor_name, p.starts_on, p.status)
                   for p in session.scalars(select(Sponsorship))),
        ]  # fmt: skip


@pytest.mark.slow
def test_the_demo_hosts_about_80_structures_in_a_90_percent_full_campus(tmp_path, sqlite_template):
    prints = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        make_account(db, "membre@campus.example", "member")
        with db.session() as session:
            demo_data.generate(session, reference=REFERENCE)
        demo.generate(db, REFERENCE)
        prints.append(_fingerprint(db))
        with db.session() as session:
            hosted = service.hosted_structures(session, REFERENCE)
            figures = service.dashboard(session, CLI_ACTOR, REFERENCE.year)
        db.dispose()
    assert prints[0] == prints[1]
    assert 75 <= len(hosted) <= 80
    october = figures["occupancy"]["months"][9]["rate"]
    assert 0.85 <= october <= 0.95
    a_year_ago = REFERENCE - dt.timedelta(days=365)
    assert sum(1 for r in prints[0][0] if r[0] > a_year_ago) == 25  # entries of the year
    assert sum(1 for r in prints[0][0] if r[2] and r[2] > a_year_ago) == 20  # exits
    assert figures["sponsorship"]["average_rating"] is not None
    assert figures["sponsorship"]["active_pairs"] + figures["sponsorship"]["ended_pairs"] == 20
    assert len(prints[0][2]) >= 100  # a week of bookings


def test_the_cli_lists_rooms_refuses_a_bad_booking_with_where_and_prints_figures(
    db, settings, monkeypatch
):
    site(db, staff(db))
    rooms = run_cli(monkeypatch, settings, "spaces", "rooms")
    assert rooms.exit_code == 0 and "A201" in rooms.output and "meeting_room" in rooms.output
    day = next_weekday()
    late = run_cli(monkeypatch, settings, "spaces", "book", "A201", paris(day, 21), paris(day, 22))
    assert late.exit_code == 1 and "where: starts_at" in late.output
    booked = run_cli(monkeypatch, settings, "spaces", "book", "A201", paris(day, 9), paris(day, 10))
    assert booked.exit_code == 0 and booked.output.startswith("booked: ")
    figures = run_cli(monkeypatch, settings, "residency", "dashboard", "--year", "2027")
    assert figures.exit_code == 0
    assert json.loads(figures.output)["occupancy"]["months"][0]["desks_available"] == 30


def test_staff_create_a_building_and_its_rooms_from_the_console(db, settings, monkeypatch):
    made = run_cli(monkeypatch, settings, "spaces", "building", "C", "Bâtiment C",
                   "--opens", "08:00", "--closes", "19:00", "--floors", "0,1")  # fmt: skip
    assert made.exit_code == 0 and made.output.count("floor: ") == 2
    room = run_cli(
        monkeypatch, settings, "spaces", "room", "C", "1", "C101", "Bureau", "office", "4"
    )
    assert room.exit_code == 0 and "C101" in room.output
    bad = run_cli(monkeypatch, settings, "spaces", "room", "C", "1", "C102", "X", "cave", "4")
    assert bad.exit_code == 1 and "where: kind" in bad.output
    late = run_cli(monkeypatch, settings, "spaces", "building", "D", "D", "--opens", "20:00",
                   "--closes", "08:00")  # fmt: skip
    assert late.exit_code == 1 and "where: closes" in late.output
