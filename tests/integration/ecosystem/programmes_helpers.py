"""Helpers of the programmes tests: an organisation with its admin, a programme with a call."""

from __future__ import annotations

import datetime as dt

from campus.auth import service as auth
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.ecosystem.directory.models import Membership, Organisation, Person
from campus.ecosystem.programmes import service
from campus.ecosystem.programmes.models import ProgrammeReview
from tests.helpers import make_account
from tests.integration.ecosystem.events_helpers import actor_of

FIELDS = [
    {"key": "pitch", "label": "Pitch", "type": "long_text", "required": True},
    {"key": "team", "label": "Team size", "type": "number", "min": 1, "max": 500},
    {"key": "stage", "label": "Stage", "type": "choice", "choices": ["seed", "series A"]},
]
CRITERIA = [
    {"key": "impact", "label": "Health impact", "weight": 2},
    {"key": "team", "label": "Team", "weight": 1},
]


def organisation(db: Database, slug: str, admin_email: str):
    """An organisation and the actor of its admin (a member with a scoped org_admin grant)."""
    with db.session() as session:
        org = Organisation(slug=slug, name=slug.title(), kind="startup")
        session.add(org)
        session.flush()
        org_id = org.id
    account_id = make_account(db, admin_email, "member", name=admin_email.split("@")[0])
    with db.session() as session:
        account = auth.get_account(session, account_id)
        auth.grant_role(session, account, "org_admin", scope_type="organisation", scope_id=org_id)
        person = Person(account_id=account_id, display_name=account.name)
        session.add(person)
        session.flush()
        session.add(Membership(person_id=person.id, organisation_id=org_id, role="admin"))
    return org_id, actor_of(db, account_id)


def member_of(db: Database, org_id: str, email: str):
    account_id = make_account(db, email, "member", name=email.split("@")[0])
    with db.session() as session:
        person = Person(account_id=account_id, display_name=email)
        session.add(person)
        session.flush()
        session.add(Membership(person_id=person.id, organisation_id=org_id, role="member"))
    return actor_of(db, account_id)


def programme_with_call(db: Database, staff, *, opens_in: int = -1, closes_in: int = 10):
    now = utcnow()
    with db.session() as session:
        programme = service.create_programme(
            session,
            staff,
            service.ProgrammeInput(slug="accel-2027", kind="acceleration", title_fr="Accélérateur"),
        )
        call = service.create_call(
            session,
            staff,
            programme.id,
            service.CallInput(
                title="Promotion 2027",
                opens_at=now + dt.timedelta(days=opens_in),
                closes_at=now + dt.timedelta(days=closes_in),
                form_fields=FIELDS,
                criteria=CRITERIA,
            ),
            now=now,
        )
        return programme.id, call.id


def reviewed_application(db: Database, staff, reviewer_account_id: str) -> dict[str, str]:
    """A programme with an open call, an application to it and a reviewer assigned (the
    assignment written as the service does, without its mail): ids by name."""
    programme_id, call_id = programme_with_call(db, staff)
    _org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    with db.session() as session:
        answers = {"pitch": "Télésuivi", "team": 4, "stage": "seed"}
        application = service.apply(session, admin, call_id, _org_id, answers)
        session.add(ProgrammeReview(application_id=application.id, reviewer_id=reviewer_account_id))
        application_id = application.id
    return {
        "programme_id": programme_id,
        "programme_call_id": call_id,
        "application_id": application_id,
    }
