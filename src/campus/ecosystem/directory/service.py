"""Organisations, people, memberships: the only way in for CLI, API and pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.ecosystem.directory.models import Membership, Organisation, Person


def organisations_of_account(session: Session, account_id: str) -> list[Organisation]:
    """The organisations the person linked to an account belongs to, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.account_id == account_id)
            .order_by(Organisation.name)
        )
    )
