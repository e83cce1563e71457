"""The audit log page, with its JSON twin (`GET /api/v1/audit/events`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from campus.audit import api, service
from campus.auth.actor import Actor
from campus.web.deps import allow, db_session
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/admin/audit",
    api_path="/audit/events",
    template="audit/events.html",
    summary="Latest audit events, newest first (staff and the DPO)",
    context=lambda data, action: {**data, "action": action or ""},
)
def audit_page(
    limit: int = Query(100, ge=1, le=500),
    before: int | None = Query(None, ge=1),
    action: str | None = Query(None, max_length=100),
    actor: Actor = allow("audit.read"),
    session: Session = db_session,
) -> dict[str, Any]:
    return service.page(session, limit=limit, before=before, action=action or None)
