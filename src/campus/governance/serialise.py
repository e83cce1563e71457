"""JSON shapes of governance objects: what the public register shows and what teams see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.governance import legal, service
from campus.governance.models import AccessRequest, Approval, DataProject, Review


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def project_public(project: DataProject) -> dict[str, Any]:
    return {
        "id": project.id,
        "title": project.title,
        "lead_organisation": {"id": project.lead_org_id, "name": project.lead_org_name},
        "partners": list(project.partners or []),
        "purpose": project.purpose,
        "summary_fr": project.summary_fr,
        "summary_en": project.summary_en,
        "legal_basis": project.legal_basis,
        "expected_benefits": project.expected_benefits,
        "status": project.status,
        "created_at": _iso(project.created_at),
        "data_controller": project.data_controller or project.lead_org_name,
        "starts_on": _iso(project.starts_on),
        "ends_on": _iso(project.ends_on),
        "regulatory": {
            "legal_basis": legal.describe(project.legal_basis),
            "methodology": legal.describe(project.legal_basis)["methodology"] or None,
            "cesrees_number": project.cesrees_number or None,
            "cnil_number": project.cnil_number or None,
        },
    }


def request_public(request: AccessRequest) -> dict[str, Any]:
    """A decision as the register shows it: scope and outcome, not the team's justification."""
    return {
        "id": request.id,
        "datasets": list(request.datasets),
        "views": list(request.views),
        "duration_days": request.duration_days,
        "status": request.status,
        "submitted_at": _iso(request.submitted_at),
        "decided_at": _iso(request.decided_at),
    }


def request_full(session: Session, request: AccessRequest) -> dict[str, Any]:
    return request_public(request) | {
        "project_id": request.project_id,
        "elements": list(request.elements),
        "justification": request.justification,
        "decision_note": request.decision_note,
        "created_at": _iso(request.created_at),
        "reviews": [review_out(r) for r in service.reviews(session, request.id)],
        "messages": [
            {"kind": m.kind, "author": m.author_id, "body": m.body, "at": _iso(m.at)}
            for m in service.messages(session, request.id)
        ],
        "approval": next(
            (
                approval_out(a)
                for a in service.project_approvals(session, request.project_id)
                if a.request_id == request.id
            ),
            None,
        ),
    }


def review_out(review: Review) -> dict[str, Any]:
    return {
        "reviewer": review.reviewer_id,
        "decision": review.decision,
        "conditions": review.conditions,
        "comment": review.comment,
        "decided_at": _iso(review.decided_at),
    }


def approval_out(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.id,
        "request_id": approval.request_id,
        "datasets": list(approval.datasets),
        "views": list(approval.views),
        "elements": list(approval.elements),
        "conditions": approval.conditions,
        "status": approval.status,
        "state": service.approval_state(approval),
        "expires_at": _iso(approval.expires_at),
        "changed_at": _iso(approval.changed_at),
        "change_reason": approval.change_reason,
    }
