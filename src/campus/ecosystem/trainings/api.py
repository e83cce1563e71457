"""JSON routes of the training catalogue, its sessions and one's training record."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.events.data import event_out
from campus.ecosystem.events.schemas import EventOut
from campus.ecosystem.trainings import service
from campus.web.deps import allow, db_session

router = APIRouter(tags=["trainings"])


class TrainingIn(BaseModel):
    slug: str = Field(max_length=200)
    title_fr: str = Field(max_length=1000)
    title_en: str = Field(default="", max_length=1000)
    summary_fr: str = Field(default="", max_length=20000)
    summary_en: str = Field(default="", max_length=20000)
    level: str = Field(default="introductory", max_length=40)
    duration_hours: int = 1
    competences: list[str] = Field(default_factory=list, max_length=100)


class TrainingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    title_fr: str
    title_en: str
    summary_fr: str
    summary_en: str
    level: str
    duration_hours: int
    competences: list[str]


class TrainingDetailOut(TrainingOut):
    sessions: list[EventOut]


class RecordLineOut(BaseModel):
    training_id: str
    title_fr: str
    title_en: str
    event_id: str
    session_title: str
    attended_at: dt.datetime
    hours: int
    competences: list[str]


class TrainingRecordOut(BaseModel):
    sessions: list[RecordLineOut]
    hours: int
    competences: list[str]


def record_of(session: Session, account_id: str) -> dict:
    lines = service.training_record(session, account_id)
    return {
        "sessions": [line.__dict__ for line in lines],
        "hours": sum(line.hours for line in lines),
        "competences": service.competences_gained(lines),
    }


@router.get("/trainings", response_model=list[TrainingOut], summary="The training catalogue")
def list_trainings(
    competence: str = "", actor: Actor = allow("public.read"), session: Session = db_session
):
    return service.list_trainings(session, competence=competence[:80])


@router.post("/trainings", response_model=TrainingOut, status_code=201, summary="Add a training")
def create_training(
    body: TrainingIn, actor: Actor = allow("trainings.manage"), session: Session = db_session
):
    return service.create_training(session, actor, service.TrainingInput(**body.model_dump()))


@router.get(
    "/trainings/{training_id}",
    response_model=TrainingDetailOut,
    summary="A training and its sessions",
)
def get_training(
    training_id: str, actor: Actor = allow("public.read"), session: Session = db_session
):
    training = service.get_training(session, training_id)
    return {
        **TrainingOut.model_validate(training).model_dump(),
        "sessions": [event_out(actor, e) for e in service.sessions_of(session, training.id)],
    }


@router.put("/trainings/{training_id}", response_model=TrainingOut, summary="Change a training")
def update_training(
    training_id: str,
    body: TrainingIn,
    actor: Actor = allow("trainings.manage"),
    session: Session = db_session,
):
    return service.update_training(
        session, actor, training_id, service.TrainingInput(**body.model_dump())
    )


@router.get(
    "/me/training-record",
    response_model=TrainingRecordOut,
    summary="My training record: sessions attended and competences built",
)
def my_record(actor: Actor = allow("events.register"), session: Session = db_session):
    return record_of(session, actor.account_id or "")
