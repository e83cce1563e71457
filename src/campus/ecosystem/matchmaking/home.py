"""Introduction requests awaiting an answer, on a person's home page (see campus.web.home)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth import policy
from campus.auth.actor import Actor
from campus.ecosystem.matchmaking import service
from campus.ecosystem.matchmaking.models import IntroductionStatus
from campus.i18n import _
from campus.web.home import HomeItem, HomeSection, section


def introductions(session: Session, actor: Actor) -> HomeSection | None:
    """Requests one must answer first, then one's own requests still waiting."""
    if not policy.get("matchmaking.use").allows(actor):
        return None
    mine = service.introductions_of(session, actor)
    items = [
        HomeItem(
            service.party_name(session, i.source_type, i.source_id),
            "/introductions",
            _("To answer"),
            i.created_at,
        )
        for i in mine["received"]
        if i.status == IntroductionStatus.PENDING
    ] + [
        HomeItem(
            service.party_name(session, i.target_type, i.target_id),
            "/introductions",
            _("Awaiting an answer"),
            i.created_at,
        )
        for i in mine["sent"]
        if i.status == IntroductionStatus.PENDING
    ]
    return section(
        "introductions",
        _("Introductions"),
        "/introductions",
        _("No introduction waiting."),
        items,
    )
