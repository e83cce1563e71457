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
    waiting = [
        (i, i.source_type, i.source_id, _("To answer"))
        for i in mine["received"]
        if i.status == IntroductionStatus.PENDING
    ] + [
        (i, i.target_type, i.target_id, _("Awaiting an answer"))
        for i in mine["sent"]
        if i.status == IntroductionStatus.PENDING
    ]
    items = [
        HomeItem(service.party_name(session, kind, key), "/introductions", detail, i.created_at)
        for i, kind, key, detail in waiting
    ]
    return section(
        "introductions",
        _("Introductions"),
        "/introductions",
        _("No introduction waiting."),
        items,
    )
