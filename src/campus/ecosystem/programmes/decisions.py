"""Decisions and the cohort: staff decide, and the organisation's admins are told by mail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role, ScopeType
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes.applications import get_application
from campus.ecosystem.programmes.calls import mail_account, staff_only
from campus.ecosystem.programmes.models import (
    ApplicationStatus,
    ProgrammeApplication,
    ProgrammeCall,
)
from campus.errors import BadRequest, Conflict
from campus.i18n import N_
from campus.settings import Settings
from campus.text import clean_text

# --- decisions and the cohort -----------------------------------------------------------------


def decide(
    session: Session,
    settings: Settings,
    actor: Actor,
    application_id: str,
    decision: str,
    note: str = "",
) -> ProgrammeApplication:
    """Select or reject an application, and tell the organisation's admins by mail."""
    staff_only(actor)
    if decision not in (ApplicationStatus.SELECTED, ApplicationStatus.REJECTED):
        raise BadRequest(
            N_("decision must be selected or rejected"), code="invalid_decision", where="decision"
        )
    application = lock(session, get_application(session, application_id))
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict(N_("this application is already decided"), code="already_decided")
    application.status = decision
    application.decision_note = clean_text(note, "note", max_length=5000)
    application.decided_at = utcnow()
    application.decided_by = actor.label
    session.flush()
    recipients = set(
        session.scalars(
            select(RoleGrant.account_id).where(
                RoleGrant.role == Role.ORG_ADMIN,
                RoleGrant.scope_type == ScopeType.ORGANISATION,
                RoleGrant.scope_id == application.organisation_id,
            )
        )
    )
    if application.submitted_by:
        recipients.add(application.submitted_by)
    subject = (
        N_("Your application is selected")
        if decision == ApplicationStatus.SELECTED
        else N_("Your application is not selected")
    )
    body = (
        N_("Your organisation's application to {call} is selected. Welcome to the cohort!")
        if decision == ApplicationStatus.SELECTED
        else N_("Your organisation's application to {call} is not selected this time.")
    )
    for account_id in sorted(recipients):
        account = session.get(Account, account_id)
        if account is not None and account.active:
            mail_account(
                session,
                settings,
                account,
                subject,
                body,
                call=application.call.title,
                link=f"/programmes/applications/{application.id}",
                note=application.decision_note,
            )
    audit.record(
        session,
        actor=actor.label,
        action=f"programme.application_{decision}",
        object_type="programme_application",
        object_id=application.id,
        details={"notified": len(recipients)},
    )
    return application


def cohort(session: Session, programme_id: str) -> list[dict]:
    """Organisations selected in any call of a programme, with the call that selected them."""
    rows = session.execute(
        select(Organisation, ProgrammeCall.title, ProgrammeApplication.decided_at)
        .join(ProgrammeApplication, ProgrammeApplication.organisation_id == Organisation.id)
        .join(ProgrammeCall, ProgrammeCall.id == ProgrammeApplication.call_id)
        .where(
            ProgrammeCall.programme_id == programme_id,
            ProgrammeApplication.status == ApplicationStatus.SELECTED,
        )
        .order_by(Organisation.name)
    ).all()
    return [
        {
            "organisation_id": org.id,
            "slug": org.slug,
            "name": org.name,
            "kind": org.kind,
            "city": org.city,
            "call": title,
            "selected_at": decided_at,
        }
        for org, title, decided_at in rows
    ]
