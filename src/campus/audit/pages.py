"""The audit log page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus.audit import service
from campus.auth.actor import Actor
from campus.web.deps import allow, db_session
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()


@page(router, "/admin/audit", twin="/api/v1/audit/events")
def audit_page(
    request: Request,
    before: int | None = None,
    action: str | None = None,
    actor: Actor = allow("audit.read"),
    session: Session = db_session,
):
    events = service.recent(session, limit=100, before=before, action=action or None)
    return render(
        request,
        "audit/events.html",
        {
            "events": events,
            "action": action or "",
            "total": service.count(session),
            "next_before": events[-1].seq if events else None,
        },
    )
