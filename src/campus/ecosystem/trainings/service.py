"""The training catalogue, its sessions (events linked to a training) and training records.

A person's training record is the list of training sessions they attended (checked in), with
the competences each training builds; it is computed from registrations, never typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.ecosystem.events.models import Event, EventStatus, Registration, RegistrationStatus
from campus.ecosystem.trainings.models import Training
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.text import clean_text

LEVELS = ("introductory", "intermediate", "advanced")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
MAX_COMPETENCES = 20


@dataclass
class TrainingInput:
    slug: str
    title_fr: str
    title_en: str = ""
    summary_fr: str = ""
    summary_en: str = ""
    level: str = "introductory"
    duration_hours: int | str = 1
    competences: list[str] | str | None = None


def _competences(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\n]", value)]
    if not isinstance(value, list):
        raise BadRequest(N_("competences must be a list of texts"), where="competences")
    cleaned: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        text = clean_text(item, f"competences[{index}]", max_length=80, one_line=True)
        if text and text.lower() not in seen:
            seen.add(text.lower())
            cleaned.append(text)
        if len(cleaned) > MAX_COMPETENCES:
            # Stops at the first one too many: a long list costs nothing more to refuse.
            raise BadRequest(N_("a training lists 20 competences at most"), where="competences")
    return cleaned


def _clean(data: TrainingInput) -> dict:
    slug = clean_text(data.slug, "slug", max_length=80, required=True, one_line=True).lower()
    if not SLUG.match(slug):
        raise BadRequest(
            N_("the short name may hold lowercase letters, digits and dashes only"),
            code="invalid_slug",
            where="slug",
        )
    if data.level not in LEVELS:
        raise BadRequest(N_("level must be introductory, intermediate or advanced"), where="level")
    try:
        hours = int(data.duration_hours)
    except (TypeError, ValueError):
        raise BadRequest(
            N_("duration must be a whole number of hours"), where="duration_hours"
        ) from None
    if not 1 <= hours <= 1000:
        raise BadRequest(N_("duration must be between 1 and 1000 hours"), where="duration_hours")
    return {
        "slug": slug,
        "title_fr": clean_text(
            data.title_fr, "title_fr", max_length=200, required=True, one_line=True
        ),
        "title_en": clean_text(data.title_en, "title_en", max_length=200, one_line=True),
        "summary_fr": clean_text(data.summary_fr, "summary_fr", max_length=5000),
        "summary_en": clean_text(data.summary_en, "summary_en", max_length=5000),
        "level": data.level,
        "duration_hours": hours,
        "competences": _competences(data.competences),
    }


def create_training(session: Session, actor: Actor, data: TrainingInput) -> Training:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage trainings"), code="forbidden")
    values = _clean(data)
    if session.scalar(select(Training.id).where(Training.slug == values["slug"])):
        raise Conflict(N_("this short name is already used"), code="slug_taken", where="slug")
    training = Training(**values)
    session.add(training)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="training.created",
        object_type="training",
        object_id=training.id,
    )
    return training


def update_training(
    session: Session, actor: Actor, training_id: str, data: TrainingInput
) -> Training:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage trainings"), code="forbidden")
    training = get_training(session, training_id)
    values = _clean(data)
    clash = session.scalar(
        select(Training.id).where(Training.slug == values["slug"], Training.id != training.id)
    )
    if clash:
        raise Conflict(N_("this short name is already used"), code="slug_taken", where="slug")
    for key, value in values.items():
        setattr(training, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="training.updated",
        object_type="training",
        object_id=training.id,
    )
    return training


def get_training(session: Session, training_id: str) -> Training:
    training = session.get(Training, training_id)
    if training is None:
        training = session.scalar(select(Training).where(Training.slug == training_id))
    if training is None:
        raise NotFound(N_("no such training"), code="not_found", where=training_id)
    return training


def list_trainings(
    session: Session, *, competence: str = "", active_only: bool = True
) -> list[Training]:
    """The catalogue by title; `competence` keeps trainings that build it (case-insensitive)."""
    query = select(Training).order_by(Training.title_fr)
    if active_only:
        query = query.where(Training.active.is_(True))
    trainings = list(session.scalars(query))
    if competence:
        wanted = competence.strip().lower()
        trainings = [t for t in trainings if any(wanted in c.lower() for c in t.competences)]
    return trainings


def all_competences(session: Session) -> list[str]:
    seen: dict[str, str] = {}
    for competences in session.scalars(select(Training.competences)):
        for competence in competences or []:
            seen.setdefault(competence.lower(), competence)
    return sorted(seen.values(), key=str.lower)


def sessions_of(session: Session, training_id: str) -> list[Event]:
    """Published and cancelled sessions of a training, by date."""
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.training_id == training_id,
                Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]),
            )
            .order_by(Event.starts_at)
        )
    )


def session_counts(session: Session) -> dict[str, int]:
    """Published sessions per training, for the catalogue."""
    return dict(
        session.execute(
            select(Event.training_id, func.count())
            .where(Event.training_id.is_not(None), Event.status == EventStatus.PUBLISHED)
            .group_by(Event.training_id)
        ).all()
    )


@dataclass(frozen=True)
class RecordLine:
    training_id: str
    title_fr: str
    title_en: str
    event_id: str
    session_title: str
    attended_at: object
    hours: int
    competences: list[str]


def training_record(session: Session, account_id: str) -> list[RecordLine]:
    """The training sessions an account attended (checked in), most recent first."""
    rows = session.execute(
        select(Training, Event, Registration.checked_in_at)
        .join(Event, Event.training_id == Training.id)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Registration.account_id == account_id,
            Registration.status == RegistrationStatus.REGISTERED,
            Registration.checked_in_at.is_not(None),
        )
        .order_by(Event.starts_at.desc())
    ).all()
    return [
        RecordLine(
            training_id=training.id,
            title_fr=training.title_fr,
            title_en=training.title_en,
            event_id=event.id,
            session_title=event.title,
            attended_at=checked_in_at,
            hours=training.duration_hours,
            competences=list(training.competences or []),
        )
        for training, event, checked_in_at in rows
    ]


def competences_gained(record: list[RecordLine]) -> list[str]:
    seen: dict[str, str] = {}
    for line in record:
        for competence in line.competences:
            seen.setdefault(competence.lower(), competence)
    return sorted(seen.values(), key=str.lower)
