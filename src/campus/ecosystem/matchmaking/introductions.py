"""Introductions: asked by one party, accepted or declined by the other's admins, with the
contact given on acceptance only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Membership, Organisation, OrgRole, Person
from campus.ecosystem.matchmaking.models import Introduction, IntroductionStatus
from campus.ecosystem.matchmaking.parties import (
    check_acts_for,
    lock_parties,
    org_ids_of,
    own_person,
    party,
)
from campus.ecosystem.matchmaking.scoring import MESSAGE_MAX, Party, score
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.settings import Settings
from campus.text import one_line, refuse_control

# --- introductions ------------------------------------------------------------------------------


def _emails_of_side(session: Session, party_type: str, party_id: str) -> list[str]:
    """Where to mail one side: the person's account, or the organisation's admins."""
    if party_type == "person":
        query = select(Account.email).join(Person, Person.account_id == Account.id)
        return list(session.scalars(query.where(Person.id == party_id)))
    query = (
        select(Account.email)
        .join(Person, Person.account_id == Account.id)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == party_id, Membership.role == OrgRole.ADMIN)
    )
    emails = list(session.scalars(query))
    if not emails:
        org = session.get(Organisation, party_id)
        emails = [org.contact_email] if org is not None and org.contact_email else []
    return emails


def _between(source: Party, target: Party) -> Any:
    """Introductions asked by `source` of `target` (one direction)."""
    return (
        (Introduction.source_type == source.type)
        & (Introduction.source_id == source.id)
        & (Introduction.target_type == target.type)
        & (Introduction.target_id == target.id)
    )


def request_introduction(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    source_type: str,
    source_id: str,
    target_type: str,
    target_id: str,
    message: str = "",
) -> Introduction:
    check_acts_for(session, actor, source_type, source_id)
    source = party(session, source_type, source_id, own=True)
    target = party(session, target_type, target_id)
    if (source.type, source.id) == (target.type, target.id):
        raise BadRequest(N_("you cannot ask to meet yourself"), code="same_party")
    message = refuse_control((message or "").strip(), "message")
    if len(message) > MESSAGE_MAX:
        raise BadRequest(
            N_("the message is too long: 1000 characters at most"),
            code="too_long",
            where="message",
        )
    # Two requests for the same pair at once: each locks both parties' rows, in one order,
    # before looking, so the second sees the first's request.
    lock_parties(session, source, target)
    # The same pair in either direction: B asking A while A's request to B waits is a duplicate.
    open_one = session.scalars(
        select(Introduction)
        .where(
            or_(
                _between(source, target),
                _between(target, source),
            ),
            Introduction.status.in_([IntroductionStatus.PENDING, IntroductionStatus.ACCEPTED]),
        )
        .limit(1)
    ).first()
    if open_one is not None:
        asked_by_target = (open_one.source_type, open_one.source_id) == (target.type, target.id)
        if asked_by_target and open_one.status == IntroductionStatus.PENDING:
            raise Conflict(
                N_("this partner has already asked for an introduction: answer their request"),
                code="already_requested",
            )
        raise Conflict(
            N_("an introduction to this partner is already pending or accepted"),
            code="already_requested",
        )
    intro = Introduction(
        source_type=source.type,
        source_id=source.id,
        target_type=target.type,
        target_id=target.id,
        requested_by=actor.account_id or "",
        message=message,
        score=score(source, target).score,
    )
    session.add(intro)
    session.flush()
    link = f"{settings.base_url.rstrip('/')}/introductions"
    for email in _emails_of_side(session, target.type, target.id):
        mail.queue(
            session,
            settings,
            to=email,
            subject=one_line(
                f"Campus : {source.name} souhaite vous rencontrer / would like to meet you"
            ),
            body=(
                f"{source.name} demande une mise en relation. Répondez ici : {link}\n\n"
                f"{source.name} asks for an introduction. Answer here: {link}\n"
                + (f"\nMessage :\n{message}\n" if message else "")
            ),
        )
    audit.record(
        session,
        actor=actor.label,
        action="introduction.requested",
        object_type="introduction",
        object_id=intro.id,
        details={"source": f"{source.type}:{source.id}", "target": f"{target.type}:{target.id}"},
    )
    return intro


_ADMINISTERED = select(Membership.organisation_id).where(Membership.role == OrgRole.ADMIN)


def _may_answer(session: Session, actor: Actor, intro: Introduction) -> bool:
    """The target person; for an organisation, its admins, or campus staff when it has none
    (else its requests could never be answered)."""
    person = own_person(session, actor)
    if intro.target_type == "person":
        return person is not None and person.id == intro.target_id
    if intro.target_id in org_ids_of(session, person, admin=True):
        return True
    return actor.is_staff and _without_admin(session, intro.target_id)


def _without_admin(session: Session, organisation_id: str) -> bool:
    return (
        session.scalar(_ADMINISTERED.where(Membership.organisation_id == organisation_id).limit(1))
        is None
    )


def decide(
    session: Session, settings: Settings, actor: Actor, intro_id: str, *, accept: bool
) -> Introduction:
    intro = session.get(Introduction, intro_id)
    if intro is None:
        raise NotFound(N_("no such introduction request"), code="not_found", where=intro_id[:80])
    if not _may_answer(session, actor, intro):
        raise Forbidden(
            N_("only the person or the organisation's admins asked may answer"),
            code="not_the_other_side",
        )
    lock(session, intro)  # two admins answering at once: one answer
    if intro.status != IntroductionStatus.PENDING:
        raise Conflict(N_("this request was already answered"), code="already_answered")
    intro.status = IntroductionStatus.ACCEPTED if accept else IntroductionStatus.DECLINED
    intro.decided_at, intro.decided_by = utcnow(), actor.account_id
    source = party_name(session, intro.source_type, intro.source_id)
    target = party_name(session, intro.target_type, intro.target_id)
    requester = session.get(Account, intro.requested_by)
    if requester is not None:
        if accept:
            contacts = _contact_on_acceptance(session, actor, intro)
            body = (
                f"{target} accepte la mise en relation avec {source}. Contact : {contacts}\n\n"
                f"{target} accepted the introduction to {source}. Contact: {contacts}\n"
            )
        else:
            body = (
                f"{target} a décliné la mise en relation avec {source}.\n\n"
                f"{target} declined the introduction to {source}.\n"
            )
        mail.queue(
            session,
            settings,
            to=requester.email,
            subject="Campus : réponse à votre demande de mise en relation / introduction answer",
            body=body,
        )
    audit.record(
        session,
        actor=actor.label,
        action="introduction.accepted" if accept else "introduction.declined",
        object_type="introduction",
        object_id=intro.id,
    )
    return intro


def _contact_on_acceptance(session: Session, actor: Actor, intro: Introduction) -> str:
    """The address an accepted request gives the requester: the one the other side shows on
    its profile, else the address of whoever accepted (who gives it by accepting). Never the
    sign-in address of a person who set a contact address, nor other admins' addresses."""
    model = Person if intro.target_type == "person" else Organisation
    side = session.get(model, intro.target_id)
    if side is not None and side.contact_email:
        return side.contact_email
    account = session.get(Account, actor.account_id or "")
    return account.email if account is not None else ""


def party_name(session: Session, party_type: str, party_id: str) -> str:
    if party_type == "organisation":
        org = session.get(Organisation, party_id)
        return org.name if org else "?"
    person = session.get(Person, party_id)
    return person.display_name if person else "?"


def introductions_of(session: Session, actor: Actor) -> dict[str, list[Introduction]]:
    """Requests one sent, and requests sent to oneself or to organisations one administers
    (for staff, also to organisations without admins: staff answer them)."""
    sent = list(
        session.scalars(
            select(Introduction)
            .where(Introduction.requested_by == (actor.account_id or ""))
            .order_by(Introduction.created_at.desc())
        )
    )
    person = own_person(session, actor)
    admin_of = org_ids_of(session, person, admin=True)
    conditions = []
    if person is not None:
        conditions.append(
            (Introduction.target_type == "person") & (Introduction.target_id == person.id)
        )
    if admin_of:
        conditions.append(
            (Introduction.target_type == "organisation") & Introduction.target_id.in_(admin_of)
        )
    if actor.is_staff:
        conditions.append(
            (Introduction.target_type == "organisation")
            & Introduction.target_id.not_in(_ADMINISTERED)
        )
    received: list[Introduction] = []
    if conditions:
        received = list(
            session.scalars(
                select(Introduction)
                .where(or_(*conditions))
                .order_by(Introduction.created_at.desc())
            )
        )
    return {"sent": sent, "received": received}


def introduction_view(session: Session, intro: Introduction) -> dict:
    return {
        "id": intro.id,
        "source_type": intro.source_type,
        "source_id": intro.source_id,
        "source_name": party_name(session, intro.source_type, intro.source_id),
        "target_type": intro.target_type,
        "target_id": intro.target_id,
        "target_name": party_name(session, intro.target_type, intro.target_id),
        "message": intro.message,
        "score": intro.score,
        "status": intro.status,
        "created_at": intro.created_at.isoformat(),
        "decided_at": intro.decided_at.isoformat() if intro.decided_at else None,
    }


def own_person_id(session: Session, actor: Actor) -> str | None:
    person = own_person(session, actor)
    return person.id if person else None


def member_of(session: Session, actor: Actor, organisation_id: str) -> bool:
    return actor.is_staff or organisation_id in org_ids_of(session, own_person(session, actor))
