"""What the training pages and their JSON twins show: one data function each."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.events.data import event_out
from campus.ecosystem.trainings import service
from campus.ecosystem.trainings.api import TrainingOut


def catalogue(session: Session, competence: str = "") -> list[dict]:
    """The training catalogue, or the trainings that build a competence."""
    return [
        TrainingOut.model_validate(t).model_dump()
        for t in service.list_trainings(session, competence=competence[:80])
    ]


def training_detail(session: Session, actor: Actor, training_id: str) -> dict:
    """A training and its sessions (events the actor may see, as the events API shows them)."""
    training = service.get_training(session, training_id)
    return {
        **TrainingOut.model_validate(training).model_dump(),
        "sessions": [event_out(actor, e) for e in service.sessions_of(session, training.id)],
    }


def record_of(session: Session, account_id: str) -> dict:
    """One's training record: sessions attended, hours and competences built."""
    lines = service.training_record(session, account_id)
    return {
        "sessions": [line.__dict__ for line in lines],
        "hours": sum(line.hours for line in lines),
        "competences": service.competences_gained(lines),
    }
