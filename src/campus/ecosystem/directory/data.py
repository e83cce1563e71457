"""What the directory's pages and their JSON twins show: one data function each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.ecosystem.directory import service
from campus.ecosystem.directory.models import Person
from campus.ecosystem.impact import service as impact
from campus.errors import NotFound
from campus.i18n import N_


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


def organisation_admin(session: Session, org_id: str) -> dict[str, Any]:
    """What an organisation's admins manage: its whole profile, every member (hidden
    profiles too: they are its members) and its open invitations."""
    org = service.get_organisation(session, org_id)
    return {
        **service.organisation_view(org, members_only=True),
        "members": [
            {
                "person_id": m.person_id,
                "display_name": m.person.display_name,
                "job_title": m.person.job_title,
                "role": m.role,
                "position": m.position,
                "visible": m.person.visible,
            }
            for m in service.members_of(session, org)
        ],
        "invitations": [
            {
                "id": i.id,
                "email": i.email,
                "role": i.role,
                "created_at": i.created_at,
                "expires_at": i.expires_at,
            }
            for i in service.open_invitations(session, org)
        ],
    }


def own_person(session: Session, actor: Actor) -> Person:
    """One's own person profile, created from the account on first use."""
    account = session.get(Account, actor.account_id or "")
    if account is None:
        raise NotFound(N_("no such person"), code="not_found")
    return service.ensure_person(session, account)


def own_profile(session: Session, actor: Actor) -> dict[str, Any]:
    """One's own person profile as its owner sees it, hidden or not."""
    return service.person_view(own_person(session, actor))
