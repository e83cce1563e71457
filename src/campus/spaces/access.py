"""Who acts on spaces: staff only for the site and its decisions, and the organisations an
actor belongs to (whom a booking is for, whose residency or booking they see)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.auth.roles import ScopeType
from campus.ecosystem.directory.models import Membership, Organisation, Person
from campus.errors import Forbidden
from campus.i18n import N_


def staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage spaces"), code="forbidden")


def organisations_of(session: Session, actor: Actor) -> set[str]:
    """The organisations the actor belongs to: memberships of their person, and organisations
    where they hold a scoped role."""
    scoped = {g.scope_id for g in actor.grants if g.scope_type == ScopeType.ORGANISATION}
    if not actor.account_id:
        return scoped
    return scoped | set(
        session.scalars(
            select(Membership.organisation_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.account_id == actor.account_id)
        )
    )


def organisation_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(id, name) of the actor's organisations, by name: whom a booking may be made for."""
    ids = organisations_of(session, actor)
    if not ids:
        return []
    return [
        (row.id, row.name)
        for row in session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(ids))
            .order_by(Organisation.name)
        )
    ]
