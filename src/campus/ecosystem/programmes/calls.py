"""Programmes and their calls: created by staff, open between their dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import i18n
from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.ecosystem.programmes import forms
from campus.ecosystem.programmes.models import (
    Programme,
    ProgrammeCall,
    ProgrammeKind,
)
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.settings import Settings
from campus.text import clean_text, parse_when

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage programmes"), code="forbidden")


# --- programmes and calls ---------------------------------------------------------------------


@dataclass
class ProgrammeInput:
    slug: str
    kind: str
    title_fr: str
    title_en: str = ""
    summary_fr: str = ""
    summary_en: str = ""


def create_programme(session: Session, actor: Actor, data: ProgrammeInput) -> Programme:
    staff_only(actor)
    slug = clean_text(data.slug, "slug", max_length=80, required=True, one_line=True).lower()
    if not SLUG.match(slug):
        raise BadRequest(
            N_("the short name may hold lowercase letters, digits and dashes only"),
            code="invalid_slug",
            where="slug",
        )
    if data.kind not in {k.value for k in ProgrammeKind}:
        raise BadRequest(
            N_("kind must be acceleration, research or training"), code="invalid_kind", where="kind"
        )
    if session.scalar(select(Programme.id).where(Programme.slug == slug)):
        raise Conflict(N_("this short name is already used"), code="slug_taken", where="slug")
    programme = Programme(
        slug=slug,
        kind=data.kind,
        title_fr=clean_text(
            data.title_fr, "title_fr", max_length=200, required=True, one_line=True
        ),
        title_en=clean_text(data.title_en, "title_en", max_length=200, one_line=True),
        summary_fr=clean_text(data.summary_fr, "summary_fr", max_length=5000),
        summary_en=clean_text(data.summary_en, "summary_en", max_length=5000),
        created_by=actor.label,
    )
    session.add(programme)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.created",
        object_type="programme",
        object_id=programme.id,
        details={"kind": programme.kind},
    )
    return programme


def list_programmes(session: Session) -> list[Programme]:
    return list(session.scalars(select(Programme).order_by(Programme.title_fr)))


def get_programme(session: Session, key: str) -> Programme:
    programme = session.get(Programme, key) or session.scalar(
        select(Programme).where(Programme.slug == key)
    )
    if programme is None:
        raise NotFound(N_("no such programme"), code="not_found", where=key)
    return programme


@dataclass
class CallInput:
    title: str
    opens_at: dt.datetime | str
    closes_at: dt.datetime | str
    form_fields: Any
    criteria: Any


def create_call(
    session: Session,
    actor: Actor,
    programme_id: str,
    data: CallInput,
    *,
    now: dt.datetime | None = None,
) -> ProgrammeCall:
    """A call with its form and grid, checked whole before anything is written."""
    staff_only(actor)
    now = now or utcnow()
    programme = get_programme(session, programme_id)
    title = clean_text(data.title, "title", max_length=200, required=True, one_line=True)
    opens_at = parse_when(data.opens_at, "opens_at")
    closes_at = parse_when(data.closes_at, "closes_at")
    if closes_at <= opens_at:
        raise BadRequest(
            N_("the call must close after it opens"), code="end_before_start", where="closes_at"
        )
    if closes_at <= now:
        raise BadRequest(N_("the closing date is in the past"), code="past_date", where="closes_at")
    call = ProgrammeCall(
        programme_id=programme.id,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        form_fields=forms.clean_fields(data.form_fields),
        criteria=forms.clean_criteria(data.criteria),
    )
    session.add(call)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="programme.call_created",
        object_type="programme_call",
        object_id=call.id,
        details={"programme": programme.id, "fields": len(call.form_fields)},
    )
    return call


def get_call(session: Session, call_id: str) -> ProgrammeCall:
    call = session.get(ProgrammeCall, call_id)
    if call is None:
        raise NotFound(N_("no such call"), code="not_found", where=call_id)
    return call


def call_state(call: ProgrammeCall, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if now < call.opens_at:
        return "upcoming"
    return "open" if now < call.closes_at else "closed"


def mail_account(
    session: Session,
    settings: Settings,
    account: Account,
    subject: str,
    body: str,
    *,
    call: str,
    link: str,
    note: str = "",
) -> None:
    """Queue a programme mail to an account, in its language, with a link back."""
    token = i18n.current_language.set(
        account.language if account.language in i18n.LANGUAGES else "fr"
    )
    try:
        text = i18n.gettext(body).format(call=call)
        if note:
            text += "\n\n" + note
        mail.queue(
            session,
            settings,
            to=account.email,
            subject=i18n.gettext(subject),
            body=text + "\n\n" + settings.base_url.rstrip("/") + link,
        )
    finally:
        i18n.current_language.reset(token)
