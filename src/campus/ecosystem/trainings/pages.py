"""HTML pages of the training catalogue, a training with its sessions, and one's record."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.trainings import api, data, service
from campus.ecosystem.trainings.service import LEVELS
from campus.i18n import N_
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
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


def _refused_context(session: Session) -> dict:
    return {"trainings": data.catalogue(session), **_catalogue_extras(session, "")}


@form_route(
    router,
    "/trainings",
    model=api.TrainingIn,
    template="ecosystem/training_list.html",
    context=_refused_context,
)
def training_create(
    body: api.TrainingIn, actor: Actor = allow("trainings.manage"), session: Session = db_session
) -> str:
    # The form's one textarea holds the competences one a line or comma-separated.
    fields = {**body.model_dump(), "competences": "\n".join(body.competences)}
    training = service.create_training(session, actor, service.TrainingInput(**fields))
    return f"/trainings/{training.id}"


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
