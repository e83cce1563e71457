"""Consultation pages: the list, a new consultation, one consultation and its closing."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import BadRequest
from campus.i18n import gettext as _
from campus.participation import api, data, service
from campus.participation.models import SUBJECT_TYPES
from campus.participation.pages._shared import (
    CID,
    LABELS,
    NoFields,
    consultation_extras,
    router,
)
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import PARIS, render
from campus.web.twins import twin

# --- consultations --------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/consultations",
    template="participation/list.html",
    summary="Consultations, newest first",
    context=lambda data: {**LABELS, "consultations": data},
)
def consultations(actor: Actor = allow("public.read"), session: Session = db_session) -> list:
    return data.consultations(session)


def _consultation_form(values: dict | None = None) -> dict:
    form = values or {"supports_per_person": 3, "report_threshold": 3}
    return {"form": form, "subject_types": SUBJECT_TYPES}


@page(router, "/consultations/new", no_twin="a form; its API twin is POST /api/v1/consultations")
def consultation_form(request: Request, actor: Actor = allow("consultation.manage")):
    return render(request, "participation/consultation_form.html", _consultation_form())


def _local_datetime(value: str, field: str) -> dt.datetime:
    """A `datetime-local` value, read as Europe/Paris time."""
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            _("{field}: give a date and time").format(field=field), code="invalid_date", where=field
        ) from None
    return naive.replace(tzinfo=PARIS) if naive.tzinfo is None else naive


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(
            _("{field} must be a whole number").format(field=field),
            code="invalid_number",
            where=field,
        ) from None


class ConsultationForm(BaseModel):
    """The staff form: the API's fields, with dates as `datetime-local` (Paris time) values."""

    title: str = Field("", max_length=2000)
    summary: str = Field("", max_length=40000)
    subject_type: str = Field("", max_length=40)
    subject_id: str = Field("", max_length=64)
    subject_title: str = Field("", max_length=1200)
    opens_at: str = Field("", max_length=40)
    contributions_at: str = Field("", max_length=40)
    voting_at: str = Field("", max_length=40)
    results_at: str = Field("", max_length=40)
    supports_per_person: str = Field("3", max_length=10)
    report_threshold: str = Field("3", max_length=10)

    def fields(self) -> service.ConsultationFields:
        dates = ("opens_at", "contributions_at", "voting_at", "results_at")
        numbers = ("supports_per_person", "report_threshold")
        return service.ConsultationFields(
            title=self.title,
            summary=self.summary,
            subject_type=self.subject_type,
            subject_id=self.subject_id,
            subject_title=self.subject_title,
            **{name: _local_datetime(getattr(self, name), name) for name in dates},
            **{name: _int(getattr(self, name), name) for name in numbers},
        )


@form_route(
    router,
    "/consultations/new",
    model=ConsultationForm,
    template="participation/consultation_form.html",
    context=_consultation_form,
)
def consultation_create(
    body: ConsultationForm,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
) -> str:
    consultation = service.create_consultation(session, actor, body.fields())
    return f"/consultations/{consultation.id}"


@twin(
    api.router,
    router,
    CID,
    template="participation/consultation.html",
    summary="A consultation with its proposals and one's supports",
    context=consultation_extras,
)
def consultation(
    consultation_id: str,
    sort: str = "newest",
    status: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict:
    return data.consultation_detail(session, actor, consultation_id, sort[:20], status[:20])


@form_route(router, CID + "/close", model=NoFields, page=consultation)
def consultation_close(
    body: NoFields,
    consultation_id: str,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
) -> str:
    service.close_early(session, actor, service.get_consultation(session, consultation_id))
    return f"/consultations/{consultation_id}/results"
