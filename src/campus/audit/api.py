"""JSON routes of the audit log."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from campus.audit import service
from campus.auth.actor import Actor
from campus.web.deps import allow, db_session

router = APIRouter(tags=["audit"])


@router.get("/audit/events", summary="Latest audit events, newest first")
def events(
    limit: int = 50,
    before: int | None = None,
    action: str | None = None,
    actor: Actor = allow("audit.read"),
    session: Session = db_session,
) -> dict:
    rows = service.recent(session, limit=limit, before=before, action=action)
    return {
        "events": [service.as_dict(e) for e in rows],
        "next_before": rows[-1].seq if rows else None,
    }


@router.get("/audit/verify", summary="Verify the hash chain; reports the first broken link")
def verify(actor: Actor = allow("audit.read"), session: Session = db_session) -> dict:
    result = service.verify(session)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "broken_at": result.broken_at,
        "reason": result.reason,
    }
