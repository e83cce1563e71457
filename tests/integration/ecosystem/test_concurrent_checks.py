"""Checks that read then write hold under concurrent requests: the same introduction asked
from both sides at once, and an organisation's two admins removed at once. Each pair of
requests starts together (a barrier); exactly one of the two may pass."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from campus.auth.actor import SYSTEM
from campus.auth.models import Account
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Membership, Organisation
from campus.ecosystem.matchmaking import service as matchmaking
from campus.errors import Conflict
from tests.helpers import make_account
from tests.integration.ecosystem.events_helpers import actor_of

PAIRS = 8


def _both_at_once(first, second) -> list[str]:
    """Run two calls together; 'ok' or the Conflict code of each."""
    barrier = threading.Barrier(2)

    def run(call):
        barrier.wait()
        try:
            call()
            return "ok"
        except Conflict as error:
            return error.code

    with ThreadPoolExecutor(2) as pool:
        return sorted(pool.map(run, (first, second)))


def _organisation(session, name: str) -> str:
    return directory.create_organisation(session, {"name": name, "kind": "startup"}, by=SYSTEM).id


def test_an_introduction_asked_from_both_sides_at_once_is_recorded_once(db, settings):
    staff = actor_of(db, make_account(db, "staff@campus.example", "staff"))
    with db.session() as session:
        pairs = [
            (_organisation(session, f"A{i}"), _organisation(session, f"B{i}")) for i in range(PAIRS)
        ]

    def ask(source: str, target: str):
        def call():
            with db.session() as session:
                matchmaking.request_introduction(
                    session,
                    settings,
                    staff,
                    source_type="organisation",
                    source_id=source,
                    target_type="organisation",
                    target_id=target,
                )

        return call

    for a, b in pairs:
        assert _both_at_once(ask(a, b), ask(b, a)) == ["already_requested", "ok"]


def test_two_admins_removed_at_once_leave_one(db, settings):
    accounts = [
        [make_account(db, f"admin{n}-{i}@example.org", "member") for n in range(2)]
        for i in range(PAIRS)
    ]
    orgs = []
    with db.session() as session:
        for i, pair in enumerate(accounts):
            org = session.get(Organisation, _organisation(session, f"Org {i}"))
            admins = []
            for account_id in pair:
                person = directory.ensure_person(session, session.get(Account, account_id))
                directory.add_member(session, org, person, role="admin", by=SYSTEM)
                admins.append(person.id)
            orgs.append((org.id, admins))

    def remove(org_id: str, person_id: str):
        def call():
            with db.session() as session:
                org = session.get(Organisation, org_id)
                directory.remove_member(session, org, person_id, by=SYSTEM)

        return call

    for org_id, (one, other) in orgs:
        assert _both_at_once(remove(org_id, one), remove(org_id, other)) == ["last_admin", "ok"]
        with db.session() as session:
            left = session.scalar(
                select(func.count()).where(
                    Membership.organisation_id == org_id, Membership.role == "admin"
                )
            )
            assert left == 1


def test_an_introduction_accepted_and_declined_at_once_gets_one_answer(db, settings):
    staff = actor_of(db, make_account(db, "staff@campus.example", "staff"))
    intros = []
    with db.session() as session:
        for i in range(PAIRS):  # organisations without admins: staff answer for them
            a, b = _organisation(session, f"A{i}"), _organisation(session, f"B{i}")
            intro = matchmaking.request_introduction(
                session,
                settings,
                staff,
                source_type="organisation",
                source_id=a,
                target_type="organisation",
                target_id=b,
            )
            intros.append(intro.id)

    def answer(intro_id: str, accept: bool):
        def call():
            with db.session() as session:
                matchmaking.decide(session, settings, staff, intro_id, accept=accept)

        return call

    for intro_id in intros:
        outcome = _both_at_once(answer(intro_id, True), answer(intro_id, False))
        assert outcome == ["already_answered", "ok"]
