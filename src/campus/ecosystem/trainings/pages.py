"""HTML pages of the training catalogue, a training with its sessions, and one's record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.trainings import api, data, service
from campus.ecosystem.trainings.service import LEVELS
from campus.errors import CampusError
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session, form_data
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()

LEVEL_LABELS = {
    "introductory": N_("Introductory"),
    "intermediate": N_("Intermediate"),
    "advanced": N_("Advanced"),
}


def _catalogue_extras(session: Session, competence: str) -> dict:
    return {
        "competences": service.all_competences(session),
        "competence": competence,
        "counts": service.session_counts(session),
        "levels": LEVELS,
        "level_labels": LEVEL_LABELS,
        "values": {},
    }


def _catalogue(request: Request, session: Session, competence: str, **extra):
    """The catalogue page again, with what a refused form adds (error, values)."""
    return render(
        request,
        "ecosystem/training_list.html",
        {
            "trainings": data.catalogue(session, competence),
            **_catalogue_extras(session, competence),
            **extra,
        },
    )


@twin(
    api.router,
    router,
    "/trainings",
    template="ecosystem/training_list.html",
    summary="The training catalogue",
    response_model=list[api.TrainingOut],
    context=lambda data, session, competence: {
        "trainings": data,
        **_catalogue_extras(session, competence),
    },
)
def catalogue_page(
    competence: str = "", actor: Actor = allow("public.read"), session: Session = db_session
) -> list[dict]:
    return data.catalogue(session, competence)


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


@twin(
    api.router,
    router,
    "/trainings/{training_id}",
    template="ecosystem/training_detail.html",
    summary="A training and its sessions",
    response_model=api.TrainingDetailOut,
    context=lambda data: {
        "training": data,
        "sessions": data["sessions"],
        "now": utcnow(),
        "level_labels": LEVEL_LABELS,
    },
)
def training_page(
    training_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict:
    return data.training_detail(session, actor, training_id)


@twin(
    api.router,
    router,
    "/me/trainings",
    api_path="/me/training-record",
    template="ecosystem/training_record.html",
    summary="My training record: sessions attended and competences built",
    response_model=api.TrainingRecordOut,
    context=lambda data: {"record": data},
)
def record_page(actor: Actor = allow("events.register"), session: Session = db_session) -> dict:
    return data.record_of(session, actor.account_id or "")
