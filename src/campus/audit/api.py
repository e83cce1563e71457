"""JSON routes of the audit log (the events' twin is mounted from `pages.py`)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from campus.audit import service
from campus.auth.actor import Actor
from campus.web.deps import allow, db_session

router = APIRouter(tags=["audit"])


@router.get("/audit/verify", summary="Verify the hash chain; reports the first broken link")
def verify(actor: Actor = allow("audit.read"), session: Session = db_session) -> dict:
    result = service.verify(session)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "broken_at": result.broken_at,
        "reason": result.reason,
    }
