"""Hosting rounds: calls of the campus's hosting programme (slug `hebergement`) with the
hosting form and scoring grid, and a round's applications with where each selected one stands.

Admissions reuse the programmes' machinery: a structure's admin applies like to any call,
staff assign reviewers (refused on a conflict of interest), reviewers score blind until their
own review is in (sealed scores), and staff select or reject."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import service as programmes
from campus.ecosystem.programmes.models import (
    ApplicationStatus,
    Programme,
    ProgrammeApplication,
    ProgrammeCall,
)
from campus.errors import BadRequest
from campus.i18n import N_
from campus.residency.models import Residency, WaitingEntry, WaitingStatus
from campus.residency.rules import staff_only

HOSTING_SLUG = "hebergement"
HOSTING_FIELDS = [
    {"key": "project", "label": "Projet", "type": "long_text", "required": True},
    {"key": "team_size", "label": "Taille de l'équipe", "type": "number", "required": True,
     "min": 1, "max": 500},
    {"key": "desks", "label": "Postes de travail souhaités", "type": "number", "required": True,
     "min": 1, "max": 200},
    {"key": "offices", "label": "Bureaux fermés souhaités", "type": "number", "required": False,
     "min": 0, "max": 20},
    {"key": "requested_start", "label": "Début souhaité (AAAA-MM-JJ)", "type": "text",
     "required": True},
    {"key": "data_needs", "label": "Besoins en données ou en équipements", "type": "long_text",
     "required": False},
    {"key": "axis", "label": "Axe servi", "type": "choice", "required": True,
     "choices": ["data", "skills", "value_creation", "societal_impact"]},
]  # fmt: skip
HOSTING_CRITERIA = [
    {"key": "health_impact", "label": "Impact en santé", "weight": 3},
    {"key": "fit", "label": "Adéquation avec le campus et ses membres", "weight": 2},
    {"key": "team", "label": "Équipe", "weight": 2},
    {"key": "maturity", "label": "Maturité et financement", "weight": 1},
]


def hosting_programme(session: Session, actor: Actor) -> Programme:
    """The hosting programme, created on first use (by staff)."""
    found = session.scalar(select(Programme).where(Programme.slug == HOSTING_SLUG))
    if found is not None:
        return found
    return programmes.create_programme(
        session,
        actor,
        programmes.ProgrammeInput(
            slug=HOSTING_SLUG,
            kind="acceleration",
            title_fr="Hébergement sur le campus",
            title_en="Hosting on the campus",
            summary_fr="Candidatures des structures qui souhaitent être hébergées sur le campus.",
            summary_en="Applications of structures that wish to be hosted on the campus.",
        ),
    )


def open_round(
    session: Session,
    actor: Actor,
    title: str,
    opens_at: dt.datetime | str,
    closes_at: dt.datetime | str,
) -> ProgrammeCall:
    """An admissions round: a call of the hosting programme with the hosting form and grid."""
    staff_only(actor)
    programme = hosting_programme(session, actor)
    return programmes.create_call(
        session,
        actor,
        programme.id,
        programmes.CallInput(
            title=title,
            opens_at=opens_at,
            closes_at=closes_at,
            form_fields=HOSTING_FIELDS,
            criteria=HOSTING_CRITERIA,
        ),
    )


def rounds(session: Session) -> list[dict]:
    rows = session.execute(
        select(ProgrammeCall, func.count(ProgrammeApplication.id))
        .join(Programme, Programme.id == ProgrammeCall.programme_id)
        .outerjoin(ProgrammeApplication, ProgrammeApplication.call_id == ProgrammeCall.id)
        .where(Programme.slug == HOSTING_SLUG)
        .group_by(ProgrammeCall.id)
        .order_by(ProgrammeCall.opens_at.desc())
    ).all()
    return [
        {
            "id": call.id,
            "title": call.title,
            "opens_at": call.opens_at,
            "closes_at": call.closes_at,
            "state": programmes.call_state(call),
            "applications": count,
        }
        for call, count in rows
    ]


def hosting_application(session: Session, application_id: str) -> ProgrammeApplication:
    application = programmes.get_application(session, application_id)
    programme = session.get(Programme, application.call.programme_id)
    if programme is None or programme.slug != HOSTING_SLUG:
        raise BadRequest(
            N_("this application is not a hosting application"),
            code="not_hosting",
            where="application_id",
        )
    return application


def round_view(session: Session, actor: Actor, call_id: str) -> dict:
    """A round's applications with their reviews (blind rule kept), decision, and where each
    selected one stands: admitted, waiting or to place. The admissions page and its twin."""
    staff_only(actor)
    call = programmes.get_call(session, call_id)
    applications = programmes.applications_of_call(session, actor, call.id)
    scores = programmes.average_scores(session, actor, applications)
    ids = [a.id for a in applications] or [""]
    admitted = dict(
        session.execute(
            select(Residency.application_id, Residency.id).where(Residency.application_id.in_(ids))
        ).all()
    )
    waiting = dict(
        session.execute(
            select(WaitingEntry.application_id, WaitingEntry.status).where(
                WaitingEntry.application_id.in_(ids)
            )
        ).all()
    )
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_([a.organisation_id for a in applications] or [""])
            )
        ).all()
    )
    items = []
    for application in applications:
        answers = application.answers or {}
        if application.id in admitted:
            placement = "admitted"
        elif waiting.get(application.id) == WaitingStatus.WAITING:
            placement = "waiting"
        elif application.status == ApplicationStatus.SELECTED:
            placement = "to_place"
        else:
            placement = ""
        items.append(
            {
                "id": application.id,
                "organisation_id": application.organisation_id,
                "organisation": names.get(application.organisation_id, ""),
                "status": application.status,
                "desks": answers.get("desks"),
                "requested_start": answers.get("requested_start"),
                "axis": answers.get("axis"),
                "reviews": scores[application.id],
                "residency_id": admitted.get(application.id),
                "placement": placement,
            }
        )
    return {
        "round": {
            "id": call.id,
            "title": call.title,
            "opens_at": call.opens_at,
            "closes_at": call.closes_at,
            "state": programmes.call_state(call),
        },
        "applications": items,
    }
