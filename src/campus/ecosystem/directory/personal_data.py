"""What the directory holds about an account: its person profile, memberships and the
invitations sent to its address. Deleting the account empties the profile (the row stays,
hidden, for what points to it), ends the memberships and drops the invitations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campus.auth.models import Account
from campus.auth.personal_data import DELETED_NAME, PersonalData, rows
from campus.ecosystem.directory.models import Invitation, Membership, Person


def _person(session: Session, account_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.account_id == account_id))


def export(session: Session, account_id: str) -> dict[str, Any]:
    person = _person(session, account_id)
    account = session.get(Account, account_id)
    email = account.email if account else ""
    return {
        "person": rows(session, Person, Person.id == person.id)[0] if person else None,
        "memberships": rows(session, Membership, Membership.person_id == person.id)
        if person
        else [],
        "invitations": rows(session, Invitation, Invitation.email == email),
    }


def erase(session: Session, account_id: str) -> None:
    account = session.get(Account, account_id)
    if account is not None:
        session.execute(delete(Invitation).where(Invitation.email == account.email))
    person = _person(session, account_id)
    if person is None:
        return
    session.execute(delete(Membership).where(Membership.person_id == person.id))
    session.expire(person, ["memberships"])
    person.display_name = DELETED_NAME
    person.job_title = person.city = person.bio_html = person.contact_email = ""
    person.search_text = ""
    person.competences, person.expertise, person.needs = [], [], []
    person.visible = False
    person.account_id = None


PART = PersonalData("directory", export, erase)
