"""A consultation's results with their charts, and moderation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.i18n import gettext as _
from campus.participation import api, moderation, results, service
from campus.participation.moderation import DECISIONS
from campus.participation.pages._shared import (
    CID,
    LABELS,
    router,
)
from campus.participation.schemas import (
    DecisionIn,
)
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

# --- results --------------------------------------------------------------------------------


def _chart(data: dict) -> dict:
    return {
        "label": _("Supports"),
        "labels": [row["title"] for row in data["proposals"]],
        "values": [row["supports"] for row in data["proposals"]],
    }


@twin(
    api.router,
    router,
    CID + "/results",
    template="participation/results.html",
    summary="Results: supports, statuses and answers",
    context=lambda data: {**LABELS, **data, "chart": _chart(data)},
)
def results_page(
    consultation_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict:
    return results.results(session, service.get_consultation(session, consultation_id))


# --- moderation -----------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/moderation",
    api_path="/participation/moderation",
    template="participation/moderation.html",
    summary="The moderation queue (moderators)",
    context=lambda data: {"items": data, "decisions": DECISIONS},
)
def moderation_page(
    actor: Actor = allow("consultation.moderate"), session: Session = db_session
) -> list:
    return moderation.queue(session)


@form_route(
    router,
    "/moderation/{target_type}/{target_id}",
    model=DecisionIn,
    template="participation/moderation.html",
    context=lambda session: {"items": moderation.queue(session), "decisions": DECISIONS},
)
def moderation_decide(
    body: DecisionIn,
    target_type: str,
    target_id: str,
    actor: Actor = allow("consultation.moderate"),
    session: Session = db_session,
) -> str:
    moderation.decide(
        session,
        actor,
        target_type=target_type,
        target_id=target_id,
        decision=body.decision,
        reason=body.reason,
    )
    return "/moderation"
