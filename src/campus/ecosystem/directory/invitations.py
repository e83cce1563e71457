"""Invitations: signed single-use links mailed to an address, accepted by its account."""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.fields import (
    INVITATION_DAYS,
    INVITATION_SALT,
    _email,
)
from campus.ecosystem.directory.memberships import (
    add_member,
)
from campus.ecosystem.directory.models import (
    Invitation,
    Membership,
    Organisation,
    OrgRole,
    Person,
)
from campus.ecosystem.directory.organisations import (
    get_organisation,
)
from campus.ecosystem.directory.people import (
    ensure_person,
)
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.settings import Settings
from campus.text import one_line

# --- invitations --------------------------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret("secret_key"), salt=INVITATION_SALT)


def invite(
    session: Session,
    settings: Settings,
    org: Organisation,
    *,
    email: str,
    role: str = OrgRole.MEMBER,
    by: Actor,
) -> tuple[Invitation, str]:
    """Record an invitation and mail its signed link; returns the invitation and the link."""
    email = _email(email, "email", required=True)
    if role not in {r.value for r in OrgRole}:
        raise BadRequest(N_("unknown role in the organisation"), code="invalid_role", where="role")
    already = session.scalar(
        select(Membership.id)
        .join(Person)
        .join(Account, Account.id == Person.account_id)
        .where(Membership.organisation_id == org.id, Account.email == email)
    )
    if already:
        raise Conflict(N_("this person is already a member"), code="already_member", where="email")
    now = utcnow()
    invitation = Invitation(
        organisation_id=org.id,
        email=email,
        role=role,
        invited_by=by.label,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    token = _serializer(settings).dumps({"i": invitation.id, "o": org.id})
    # The token goes in the fragment, which browsers never send: no log sees it.
    link = f"{settings.base_url.rstrip('/')}/invitations#token={token}"
    mail.queue(
        session,
        settings,
        to=email,
        subject=one_line(
            f"Campus : invitation à rejoindre {org.name} / invitation to join {org.name}"
        ),
        body=(
            f"Vous êtes invité·e à rejoindre {org.name} sur Campus. Ce lien est valable "
            f"{INVITATION_DAYS} jours :\n{link}\n\n"
            f"You are invited to join {org.name} on Campus. This link is valid for "
            f"{INVITATION_DAYS} days:\n{link}\n"
        ),
    )
    audit.record(
        session,
        actor=by.label,
        action="invitation.sent",
        object_type="organisation",
        object_id=org.id,
        details={"invitation": invitation.id, "role": role},
    )
    return invitation, link


def read_invitation(
    session: Session, settings: Settings, token: str, *, for_update: bool = False
) -> Invitation:
    """The open invitation a signed token names; refuses forged, expired, used or revoked ones.
    `for_update` locks it first (to accept it: not twice, not while it is withdrawn)."""
    try:
        payload = _serializer(settings).loads(token, max_age=INVITATION_DAYS * 24 * 3600)
    except SignatureExpired:
        raise BadRequest(
            N_("this invitation has expired: ask the organisation for a new one"),
            code="invitation_expired",
        ) from None
    except BadSignature:
        raise BadRequest(
            N_("this invitation link is not valid"), code="invitation_invalid"
        ) from None
    invitation = session.get(Invitation, str(payload.get("i", "")))
    if invitation is None or invitation.organisation_id != payload.get("o"):
        raise BadRequest(N_("this invitation link is not valid"), code="invitation_invalid")
    if for_update:
        lock(session, invitation)
    if invitation.revoked_at is not None:
        raise BadRequest(N_("this invitation was withdrawn"), code="invitation_revoked")
    if invitation.accepted_at is not None:
        raise Conflict(N_("this invitation was already used"), code="invitation_used")
    if invitation.expires_at <= utcnow():
        raise BadRequest(
            N_("this invitation has expired: ask the organisation for a new one"),
            code="invitation_expired",
        )
    return invitation


def accept_invitation(session: Session, settings: Settings, token: str, actor: Actor) -> Membership:
    invitation = read_invitation(session, settings, token, for_update=True)
    account = session.get(Account, actor.account_id) if actor.account_id else None
    if account is None:
        raise Forbidden(N_("sign in to continue"), code="not_authenticated")
    if account.email != invitation.email:
        raise Forbidden(
            N_("this invitation was sent to another email address: sign in with that address"),
            code="invitation_other_email",
        )
    org = get_organisation(session, invitation.organisation_id)
    person = ensure_person(session, account)
    membership = add_member(session, org, person, role=invitation.role, by=actor)
    invitation.accepted_at = utcnow()
    invitation.accepted_by = account.id
    audit.record(
        session,
        actor=actor.label,
        action="invitation.accepted",
        object_type="organisation",
        object_id=org.id,
        details={"invitation": invitation.id, "role": invitation.role},
    )
    return membership


def revoke_invitation(
    session: Session, org: Organisation, invitation_id: str, *, by: Actor
) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id:
        raise NotFound(N_("no such invitation"), code="not_found", where=invitation_id[:80])
    lock(session, invitation)  # not while it is being accepted
    if invitation.accepted_at is not None:
        raise Conflict(N_("this invitation was already used"), code="invitation_used")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(
            session,
            actor=by.label,
            action="invitation.revoked",
            object_type="organisation",
            object_id=org.id,
            details={"invitation": invitation.id},
        )
    return invitation


def open_invitations(session: Session, org: Organisation) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.organisation_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )
