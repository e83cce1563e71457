"""JSON routes of the training catalogue, its sessions and one's training record."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
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


@router.post("/trainings", response_model=TrainingOut, status_code=201, summary="Add a training")
def create_training(
    body: TrainingIn, actor: Actor = allow("trainings.manage"), session: Session = db_session
):
    return service.create_training(session, actor, service.TrainingInput(**body.model_dump()))


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
