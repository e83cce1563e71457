"""Residencies and allocations: overlaps refused with `where` (and by PostgreSQL's constraint
whatever the caller), renewals and exits, the waiting list, events reserving a room,
sponsorship ratings."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from campus.db.base import utcnow
from campus.ecosystem.directory.models import Organisation
from campus.errors import CampusError
from campus.residency import service
from campus.residency.models import Residency
from campus.spaces import service as spaces
from campus.spaces.models import Allocation
from tests.integration.campus_life.spaces_helpers import site, staff
from tests.integration.ecosystem.programmes_helpers import member_of, organisation


def _org(db, slug: str, kind: str = "startup") -> str:
    with db.session() as session:
        org = Organisation(slug=slug, name=slug.title(), kind=kind)
        session.add(org)
        session.flush()
        return org.id


def _register(db, actor, org_id, start, end, spaces_, ref="C"):
    with db.session() as session:
        data = service.AdmissionInput(start, end, ref, 500, spaces_)
        return service.register_residency(session, actor, org_id, data).id


def _refused(db, actor, org_id, start, end, spaces_) -> CampusError:
    with pytest.raises(CampusError) as caught:
        _register(db, actor, org_id, start, end, spaces_)
    return caught.value


def test_overlapping_allocations_are_refused_with_where_and_leave_nothing(db, settings):
    boss = staff(db)
    site(db, boss)
    first, second = _org(db, "un"), _org(db, "deux")
    _register(
        db, boss, first, "2027-01-01", "2028-01-01", [{"room": "A101", "ends_on": "2028-01-01"}]
    )
    error = _refused(db, boss, second, "2027-06-01", "2028-06-01", [{"room": "A101"}])
    assert (error.status, error.where, error.code) == (
        400,
        "spaces[0].starts_on",
        "overlapping_allocation",
    )
    # Open space: 20 desks; 15 then 6 more on overlapping days is too many.
    _register(db, boss, first, "2027-01-01", "2028-01-01", [{"room": "A1-OPEN", "desks": 15}])
    error = _refused(
        db, boss, second, "2027-03-01", "2028-01-01", [{"room": "A1-OPEN", "desks": 6}]
    )
    assert (error.where, error.code) == ("spaces[0].desks", "not_enough_desks")
    backwards = _refused(db, boss, second, "2027-03-01", "2027-02-01", [{"room": "A102"}])
    assert (backwards.where, backwards.code) == ("ends_on", "end_before_start")
    with db.session() as session:
        assert session.query(Residency).count() == 2  # the refused ones left no row
    # Back to back is fine: the office is free from the day the first allocation ends.
    _register(db, boss, second, "2028-01-01", "2029-01-01", [{"room": "A101"}])


def test_postgresql_refuses_overlapping_rows_written_outside_the_service(db, settings):
    if not db.is_postgresql:
        pytest.skip("exclusion constraints are PostgreSQL's")
    boss = staff(db)
    ids = site(db, boss)
    org = _org(db, "un")
    residency = _register(db, boss, org, "2027-01-01", "2028-01-01", [{"room": "A101"}])
    row = {"room": ids["rooms"]["A101"], "residency": residency, "org": org}
    with pytest.raises(IntegrityError, match="space_allocations_no_overlap"), db.session() as s:
        s.execute(text(
            "INSERT INTO space_allocations (id, room_id, residency_id, organisation_id, desks, "
            "whole_room, starts_on, ends_on, created_by, created_at) VALUES ('x', :room, "
            ":residency, :org, 4, true, '2027-06-01', NULL, '', now())"), row)  # fmt: skip
    booking = {"room": ids["rooms"]["A201"]}
    with pytest.raises(IntegrityError, match="bookings_no_overlap"), db.session() as s:
        for key in ("a", "b"):
            s.execute(text(
                "INSERT INTO space_bookings (id, room_id, title, note, starts_at, ends_at, "
                "people, status, price_cents, sequence, created_at, decided_by) VALUES "
                f"('{key}', :room, 't', '', '2027-06-01 10:00+00', '2027-06-01 11:00+00', 1, "
                "'confirmed', 0, 0, now(), '')"), booking)  # fmt: skip


def test_concurrent_allocations_of_one_office_give_it_once(db, settings):
    """Twelve residencies ask for the same office at once, each allocation in its own
    transaction whose first statement is the allocation: one gets it."""
    boss = staff(db)
    site(db, boss)
    residencies = [
        (_register(db, boss, org, "2027-01-01", "2028-01-01", []), org)
        for org in [_org(db, f"org{i}") for i in range(12)]
    ]
    barrier = threading.Barrier(len(residencies))

    def attempt(pair: tuple[str, str]) -> int:
        residency_id, org_id = pair
        barrier.wait()
        try:
            with db.session() as session:
                spaces.allocate(
                    session, boss, room_key="A102", residency_id=residency_id,
                    organisation_id=org_id, starts_on="2027-01-01", ends_on=None,
                )  # fmt: skip
            return 201
        except CampusError as error:
            return error.status

    with ThreadPoolExecutor(max_workers=len(residencies)) as pool:
        statuses = list(pool.map(attempt, residencies))
    assert sorted(statuses) == [201] + [400] * (len(residencies) - 1)
    with db.session() as session:
        assert session.query(Allocation).count() == 1


def test_renewal_exit_and_the_space_it_frees(db, settings):
    boss = staff(db)
    site(db, boss)
    first, second = _org(db, "un"), _org(db, "deux")
    residency = _register(db, boss, first, "2026-01-01", "2027-01-01", [{"room": "A101"}])
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.renew(session, boss, residency, "2026-12-01")
    assert caught.value.where == "ends_on"
    with db.session() as session:
        service.renew(session, boss, residency, "2028-01-01", "650", "C-2")
    with db.session() as session:
        view = service.residency_view(session, boss, residency)
    assert view["ends_on"] == dt.date(2028, 1, 1) and view["monthly_fee_cents"] == 65000
    assert view["renewals"][0]["previous_ends_on"] == dt.date(2027, 1, 1)
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.record_exit(session, boss, residency, "2025-12-01", "growth")
    assert caught.value.where == "exited_on"
    with db.session() as session:
        service.record_exit(session, boss, residency, "2026-09-30", "growth", "Trop grands")
    _register(db, boss, second, "2026-09-30", "2027-09-30", [{"room": "A101"}])
    with db.session() as session:
        figures = service.entries_and_exits(session)
    assert figures == [{"year": 2026, "entries": 2, "exits": 1}]


def test_a_member_sees_their_residency_but_not_others(db, settings):
    boss = staff(db)
    site(db, boss)
    org_id, _admin = organisation(db, "maison", "admin@maison.example")
    other = _org(db, "voisin")
    mine = _register(db, boss, org_id, "2026-01-01", "2028-01-01", [{"room": "A101"}])
    theirs = _register(db, boss, other, "2026-01-01", "2028-01-01", [{"room": "A102"}])
    employee = member_of(db, org_id, "salarie@maison.example")
    with db.session() as session:
        assert [r["id"] for r in service.list_residencies(session, employee)] == [mine]
        assert service.residency_view(session, employee, mine)["contract_ref"] == "C"
        with pytest.raises(CampusError) as caught:
            service.residency_view(session, employee, theirs)
        assert caught.value.status == 404
        hosted = service.hosted_structures(session, dt.date(2027, 1, 1))
    assert {h["slug"] for h in hosted} == {"maison", "voisin"}


def test_an_event_reserves_its_room_through_the_rooms_rules(db, settings):
    from campus.ecosystem.events import service as events
    from tests.integration.ecosystem.events_helpers import event_input

    boss = staff(db)
    site(db, boss)
    start = (utcnow() + dt.timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
    with db.session() as session:
        big = events.create_event(session, boss, event_input(
            starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=30)).id  # fmt: skip
        small = events.create_event(session, boss, event_input(
            starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=6)).id  # fmt: skip
    with pytest.raises(CampusError) as caught, db.session() as session:
        spaces.reserve_for_event(session, boss, "A201", big)
    assert (caught.value.status, caught.value.where) == (400, "people")
    with db.session() as session:
        booking = spaces.reserve_for_event(session, boss, "A201", small)
        assert booking.event_id == small and booking.people == 6


def test_each_side_rates_an_ended_sponsorship_once(db, settings):
    boss = staff(db)
    startup, ceo = organisation(db, "pousse", "ceo@pousse.example")
    sponsor = _org(db, "groupe", "company")
    mentor = member_of(db, sponsor, "mentor@groupe.example")
    with db.session() as session:
        pair = service.create_sponsorship(
            session, boss, startup_id=startup, sponsor_id=sponsor,
            mentor_account_id=mentor.account_id, starts_on="2026-01-05",
        ).id  # fmt: skip
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.rate_sponsorship(session, ceo, pair, 5)
    assert caught.value.code == "not_ended"
    with db.session() as session:
        service.end_sponsorship(session, boss, pair, ends_on="2026-11-30", introductions=3)
    with db.session() as session:
        service.rate_sponsorship(session, ceo, pair, 5, "Très utile")
        service.rate_sponsorship(session, mentor, pair, "4")
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.rate_sponsorship(session, ceo, pair, 1)
    assert caught.value.code == "already_rated"
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.rate_sponsorship(session, boss, pair, 3)
    assert caught.value.status == 403
    with db.session() as session:
        figures = service.sponsorship_figures(session)
    assert figures["ended_pairs"] == 1 and figures["introductions"] == 3
    assert figures["average_rating"] == 4.5


def test_a_waiting_structure_is_shown_what_fits_then_admitted(db, settings):

    boss = staff(db)
    site(db, boss)
    org_id, admin = organisation(db, "attente", "admin@attente.example")
    now = utcnow()
    with db.session() as session:
        call = service.open_round(
            session, boss, "Session", now - dt.timedelta(days=1), now + dt.timedelta(days=5)
        ).id
    from campus.ecosystem.programmes import service as programmes

    with db.session() as session:
        application = programmes.apply(session, admin, call, org_id, {
            "project": "P", "team_size": 5, "desks": 5, "requested_start": "2027-01-04",
            "axis": "data"}).id  # fmt: skip
    with pytest.raises(CampusError) as caught, db.session() as session:
        service.waitlist(session, boss, application)
    assert caught.value.code == "not_selected"
    with db.session() as session:
        programmes.decide(session, settings, boss, application, "selected")
        service.waitlist(session, boss, application, "Aucun bureau de 5")
    with db.session() as session:
        [waiting] = service.waiting_list(session, boss)
        assert waiting["desks_needed"] == 5 and waiting["fits"][0] == "A102"  # 6 seats
        assert service.round_view(session, boss, call)["applications"][0]["placement"] == (
            "waiting"
        )
    with db.session() as session:
        data = service.AdmissionInput("2027-01-04", "2029-01-04", "C-9", 700, [{"room": "A102"}])
        service.admit(session, boss, application, data)
    with db.session() as session:
        assert service.waiting_list(session, boss) == []
        assert service.round_view(session, boss, call)["applications"][0]["placement"] == (
            "admitted"
        )


def test_a_residency_past_its_end_without_renewal_or_exit_is_flagged(db, settings):
    boss = staff(db)
    site(db, boss)
    ended = _register(db, boss, _org(db, "passee"), "2024-01-01", "2025-01-01", [{"room": "A101"}])
    running = _register(db, boss, _org(db, "encours"), "2024-01-01", "2099-01-01", [])
    with db.session() as session:
        flags = {r["id"]: r["overdue"] for r in service.list_residencies(session, boss)}
    assert flags == {ended: True, running: False}
