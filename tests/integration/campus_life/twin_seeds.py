"""What the campus-life pages show, seeded for their twin tests: a site, a residency of the
reader's organisation with a space, a booking of the reader, an admissions round and a
sponsorship of the reader's organisation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from campus.auth.models import Account
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.ecosystem.directory.models import Organisation
from campus.residency import service as residency
from campus.spaces import service as spaces
from campus.text import PARIS
from tests.helpers import make_account
from tests.integration.campus_life.spaces_helpers import paris, site
from tests.integration.ecosystem.events_helpers import actor_of


def campus_life(db: Database, org_id: str, reader_email: str) -> dict[str, str]:
    """Ids of the residency, booking, round, room and sponsorship the pages show; the
    reader is a member of `org_id` (a startup)."""
    staff = actor_of(db, make_account(db, "life-staff@campus.example", "staff"))
    site(db, staff)
    now = utcnow()
    day = now.astimezone(PARIS).date() + dt.timedelta(days=3)
    with db.session() as session:
        reader_id = session.scalar(select(Account.id).where(Account.email == reader_email))
    reader = actor_of(db, reader_id)
    with db.session() as session:
        terms = residency.AdmissionInput(
            starts_on=dt.date(2025, 1, 6),
            ends_on=dt.date(2028, 1, 6),
            contract_ref="CH-2025-7",
            monthly_fee="1250,50",
            spaces=[{"room": "A101"}],
        )
        residency_id = residency.register_residency(session, staff, org_id, terms).id
        sponsor = Organisation(slug="groupe-sante", name="Groupe Santé", kind="company")
        session.add(sponsor)
        session.flush()
        pair_id = residency.create_sponsorship(
            session, staff, startup_id=org_id, sponsor_id=sponsor.id, mentor_account_id=None,
            mentor_name="Anne Morel", objectives=["Premier pilote"],
        ).id  # fmt: skip
        call_id = residency.open_round(
            session, staff, "Admissions 2027", now - dt.timedelta(days=1), now + dt.timedelta(9)
        ).id
    with db.session() as session:
        booking = spaces.BookingInput(
            room="A201", title="Revue de sprint", starts_at=paris(day, 10), ends_at=paris(day, 11),
            organisation_id=org_id,
        )  # fmt: skip
        booking_id = spaces.book(session, reader, booking)[0].id
    return {
        "residency_id": residency_id,
        "pair_id": pair_id,
        "call_id": call_id,
        "booking_id": booking_id,
        "room": "A201",
        "day": day.isoformat(),
    }
