"""HTML pages of the training catalogue, a training with its sessions, and one's record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.trainings import api, service
from campus.ecosystem.trainings.service import LEVELS
from campus.errors import CampusError
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session, form_data
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()

LEVEL_LABELS = {
    "introductory": N_("Introductory"),
    "intermediate": N_("Intermediate"),
    "advanced": N_("Advanced"),
}


def _catalogue(request: Request, session: Session, competence: str, **extra):
    return render(
        request,
        "ecosystem/training_list.html",
        {
            "trainings": service.list_trainings(session, competence=competence[:80]),
            "competences": service.all_competences(session),
            "competence": competence,
            "counts": service.session_counts(session),
            "levels": LEVELS,
            "level_labels": LEVEL_LABELS,
            "values": extra.pop("values", {}),
            **extra,
        },
    )


@page(router, "/trainings", twin="/api/v1/trainings")
def catalogue_page(
    request: Request,
    competence: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return _catalogue(request, session, competence)


@router.post("/trainings", include_in_schema=False)
def training_create(
    request: Request,
    actor: Actor = allow("trainings.manage"),
    session: Session = db_session,
    form: FormData = form_data,
):
    values = {k: str(form.get(k, ""))[:20000] for k in api.TrainingIn.model_fields}
    values["level"] = values["level"] or "introductory"
    try:
        training = service.create_training(session, actor, service.TrainingInput(**values))
    except CampusError as error:
        session.rollback()
        response = _catalogue(
            request,
            session,
            "",
            values=values,
            error=_(error.message),
            where=str(error.where or ""),
        )
        response.status_code = error.status
        return response
    return RedirectResponse(f"/trainings/{training.id}", status_code=303)


@page(router, "/trainings/{training_id}", twin="/api/v1/trainings/{training_id}")
def training_page(
    request: Request,
    training_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    training = service.get_training(session, training_id)
    return render(
        request,
        "ecosystem/training_detail.html",
        {
            "training": training,
            "sessions": service.sessions_of(session, training.id),
            "now": utcnow(),
            "level_labels": LEVEL_LABELS,
        },
    )


@page(router, "/me/trainings", twin="/api/v1/me/training-record")
def record_page(
    request: Request, actor: Actor = allow("events.register"), session: Session = db_session
):
    return render(
        request,
        "ecosystem/training_record.html",
        {"record": api.record_of(session, actor.account_id or "")},
    )
