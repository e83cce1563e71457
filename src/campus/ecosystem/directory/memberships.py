"""Memberships: who belongs to an organisation, as a member or one of its admins (an
organisation keeps at least one admin)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.auth.roles import Role, ScopeType
from campus.db.engine import lock
from campus.ecosystem.directory.fields import (
    _text,
)
from campus.ecosystem.directory.models import (
    Membership,
    Organisation,
    OrgRole,
    Person,
)
from campus.ecosystem.directory.people import (
    refresh_person_search,
)
from campus.errors import BadRequest, Conflict, NotFound
from campus.i18n import N_

# --- memberships --------------------------------------------------------------------------------


def add_member(
    session: Session,
    org: Organisation,
    person: Person,
    *,
    role: str = OrgRole.MEMBER,
    position: str = "",
    by: Actor,
) -> Membership:
    if role not in {r.value for r in OrgRole}:
        raise BadRequest(N_("unknown role in the organisation"), code="invalid_role", where="role")
    existing = session.scalar(
        select(Membership).where(
            Membership.person_id == person.id, Membership.organisation_id == org.id
        )
    )
    if existing is not None:
        if existing.role != role and role == OrgRole.ADMIN:
            existing.role = role
        membership = existing
    else:
        membership = Membership(
            person=person,
            organisation=org,
            role=role,
            position=_text(position, "position", max_length=200, one_line=True),
        )
        session.add(membership)
    session.flush()
    refresh_person_search(session, person)
    account = session.get(Account, person.account_id) if person.account_id else None
    if account is not None:
        auth.grant_role(session, account, Role.MEMBER, by=by)
        if membership.role == OrgRole.ADMIN:
            auth.grant_role(
                session,
                account,
                Role.ORG_ADMIN,
                scope_type=ScopeType.ORGANISATION,
                scope_id=org.id,
                by=by,
            )
    audit.record(
        session,
        actor=by.label,
        action="membership.added",
        object_type="organisation",
        object_id=org.id,
        details={"person": person.id, "role": membership.role},
    )
    return membership


def _admin_count(session: Session, org: Organisation) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == org.id, Membership.role == OrgRole.ADMIN)
        )
        or 0
    )


def _lock_memberships(session: Session, org: Organisation) -> None:
    """Lock the organisation's row before reading a membership to change: role changes and
    removals of one organisation then run one at a time, and each sees the admins the
    previous ones left (two admins removed at once could both see the other still there)."""
    lock(session, org)


def _keep_an_admin(session: Session, org: Organisation, leaving: Membership) -> None:
    """Refuse, whoever asks (staff included), to take away the organisation's last admin.
    Called under `_lock_memberships`."""
    if leaving.role == OrgRole.ADMIN and _admin_count(session, org) <= 1:
        raise Conflict(
            N_("an organisation keeps at least one admin: name another admin first"),
            code="last_admin",
        )


def set_member_role(
    session: Session, org: Organisation, person_id: str, role: str, *, by: Actor
) -> Membership:
    """Make a member an admin of the organisation, or an admin a plain member."""
    if role not in {r.value for r in OrgRole}:
        raise BadRequest(N_("unknown role in the organisation"), code="invalid_role", where="role")
    _lock_memberships(session, org)
    membership = session.scalar(
        select(Membership).where(
            Membership.person_id == person_id, Membership.organisation_id == org.id
        )
    )
    if membership is None:
        raise NotFound(N_("this person is not a member"), code="not_found", where=person_id[:80])
    if membership.role == role:
        return membership
    _keep_an_admin(session, org, membership)
    membership.role = role
    session.flush()
    account_id = membership.person.account_id
    account = session.get(Account, account_id) if account_id else None
    if account is not None:
        scope = {"scope_type": ScopeType.ORGANISATION, "scope_id": org.id, "by": by}
        if role == OrgRole.ADMIN:
            auth.grant_role(session, account, Role.ORG_ADMIN, **scope)
        else:
            auth.revoke_role(session, account, Role.ORG_ADMIN, **scope)
    audit.record(
        session,
        actor=by.label,
        action="membership.role_changed",
        object_type="organisation",
        object_id=org.id,
        details={"person": person_id, "role": role},
    )
    return membership


def remove_member(session: Session, org: Organisation, person_id: str, *, by: Actor) -> None:
    _lock_memberships(session, org)
    membership = session.scalar(
        select(Membership).where(
            Membership.person_id == person_id, Membership.organisation_id == org.id
        )
    )
    if membership is None:
        raise NotFound(N_("this person is not a member"), code="not_found", where=person_id[:80])
    _keep_an_admin(session, org, membership)
    person = membership.person
    session.delete(membership)
    session.flush()
    if person.account_id:
        account = session.get(Account, person.account_id)
        if account is not None:
            auth.revoke_role(
                session,
                account,
                Role.ORG_ADMIN,
                scope_type=ScopeType.ORGANISATION,
                scope_id=org.id,
                by=by,
            )
    refresh_person_search(session, person)
    audit.record(
        session,
        actor=by.label,
        action="membership.removed",
        object_type="organisation",
        object_id=org.id,
        details={"person": person_id},
    )


def members_of(session: Session, org: Organisation) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .join(Person)
            .where(Membership.organisation_id == org.id)
            .order_by(Membership.role, Person.display_name)
        )
    )
