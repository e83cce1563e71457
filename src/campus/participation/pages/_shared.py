"""What the participation pages share: their router, paths, labels and the consultation page's
data again for a refused form."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.participation import data
from campus.participation.phases import ORDER, PHASE_LABELS
from campus.participation.results import STATUS_LABELS
from campus.participation.service import STANCE_LABELS, SUBJECT_LABELS

router = APIRouter()
CID = "/consultations/{consultation_id}"
PID = CID + "/proposals/{proposal_id}"
LABELS = {
    "phases": PHASE_LABELS,
    "statuses": STATUS_LABELS,
    "stances": STANCE_LABELS,
    "phase_order": ORDER,
    "subjects": SUBJECT_LABELS,
}


class NoFields(BaseModel):
    """A form with a button only."""


def to_charter(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/participation/charter?next={quote(next_path)}", status_code=303)


def proposal_url(consultation_id: str, proposal_id: str) -> str:
    return f"/consultations/{consultation_id}/proposals/{proposal_id}"


def consultation_extras(data: dict) -> dict:
    return {**LABELS, **data, "notice": ""}


def consultation_again(session: Session, actor: Actor, consultation_id: str) -> dict:
    """The consultation's page again, with the refusal (form_route adds it)."""
    return consultation_extras(data.consultation_detail(session, actor, consultation_id))
