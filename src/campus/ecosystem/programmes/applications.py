"""Applications by organisations: only an organisation's admins apply, while the call is
open, once per call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role, ScopeType
from campus.db.base import utcnow
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import forms
from campus.ecosystem.programmes.calls import call_state, get_call, staff_only
from campus.ecosystem.programmes.models import (
    ProgrammeApplication,
)
from campus.errors import Conflict, Forbidden, NotFound
from campus.i18n import N_

# --- applications ------------------------------------------------------------------------------


def is_org_admin(actor: Actor, organisation_id: str) -> bool:
    return any(
        g.role == Role.ORG_ADMIN
        and g.scope_type == ScopeType.ORGANISATION
        and g.scope_id == organisation_id
        for g in actor.grants
    )


def apply(
    session: Session,
    actor: Actor,
    call_id: str,
    organisation_id: str,
    answers: Any,
    *,
    now: dt.datetime | None = None,
) -> ProgrammeApplication:
    """An organisation's application, by one of its admins, while the call is open."""
    if not is_org_admin(actor, organisation_id):
        raise Forbidden(
            N_("only an admin of this organisation may apply for it"), code="not_org_admin"
        )
    now = now or utcnow()
    call = get_call(session, call_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="organisation_id")
    state = call_state(call, now)
    if state != "open":
        raise Conflict(
            N_("this call is not open: applications are taken between its dates"),
            code=f"call_{state}",
        )
    cleaned = forms.clean_answers(call.form_fields, answers)
    exists = session.scalar(
        select(ProgrammeApplication.id).where(
            ProgrammeApplication.call_id == call.id,
            ProgrammeApplication.organisation_id == organisation.id,
        )
    )
    if exists:
        raise Conflict(
            N_("this organisation has already applied to this call"), code="already_applied"
        )
    application = ProgrammeApplication(
        call_id=call.id,
        organisation_id=organisation.id,
        submitted_by=actor.account_id,
        answers=cleaned,
        submitted_at=now,
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.applied",
        object_type="programme_application",
        object_id=application.id,
        details={"call": call.id, "organisation": organisation.id},
    )
    return application


def get_application(session: Session, application_id: str) -> ProgrammeApplication:
    application = session.get(ProgrammeApplication, application_id)
    if application is None:
        raise NotFound(N_("no such application"), code="not_found", where=application_id)
    return application


def applications_of_call(
    session: Session, actor: Actor, call_id: str
) -> list[ProgrammeApplication]:
    staff_only(actor)
    get_call(session, call_id)
    return list(
        session.scalars(
            select(ProgrammeApplication)
            .where(ProgrammeApplication.call_id == call_id)
            .order_by(ProgrammeApplication.submitted_at)
        )
    )


def applications_of_actor(session: Session, actor: Actor) -> list[ProgrammeApplication]:
    """Applications of the organisations the actor administers."""
    organisations = actor.scope_ids(Role.ORG_ADMIN, ScopeType.ORGANISATION)
    if not organisations:
        return []
    return list(
        session.scalars(
            select(ProgrammeApplication)
            .where(ProgrammeApplication.organisation_id.in_(organisations))
            .order_by(ProgrammeApplication.submitted_at.desc())
        )
    )
