"""What the directory's pages and their JSON twins show: one data function each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory import service
from campus.ecosystem.impact import service as impact


def organisation_profile(session: Session, actor: Actor, org_id: str) -> dict[str, Any]:
    """An organisation's profile as the reader may see it: public fields (and member-only
    ones for members of the campus), its visible members for members of the campus, and
    its validated impact records (public, as on the page)."""
    org = service.get_organisation(session, org_id)
    members_only = service.can_read_members_only(actor)
    members = service.members_of(session, org) if members_only else []
    return {
        **service.organisation_view(org, members_only=members_only),
        "members": [
            {
                "person_id": m.person.id,
                "display_name": m.person.display_name,
                "role": m.role,
                "position": m.position,
            }
            for m in members
            if m.person.visible
        ],
        "impacts": [
            {
                "id": r.id,
                "kind": r.kind,
                "title": r.title,
                "occurred_on": r.occurred_on,
                "amount": r.amount,
                "currency": r.currency,
            }
            for r in impact.validated_of(session, org.id)
        ],
    }
