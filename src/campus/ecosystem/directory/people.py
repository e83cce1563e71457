"""People: profiles linked to accounts, their search text and views."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.ecosystem.directory import search
from campus.ecosystem.directory.fields import (
    _email,
    _text,
    sanitise_rich_text,
)
from campus.ecosystem.directory.models import (
    Membership,
    Organisation,
    Person,
)
from campus.ecosystem.directory.vocabulary import SKILLS, both_labels
from campus.ecosystem.directory.vocabulary import check_codes as _codes
from campus.errors import BadRequest, NotFound
from campus.i18n import N_

# --- people -------------------------------------------------------------------------------------

PERSON_FIELDS = (
    "display_name",
    "job_title",
    "city",
    "bio_html",
    "competences",
    "expertise",
    "needs",
    "contact_email",
    "visible",
)


def person_search_text(person: Person, organisations: list[str]) -> str:
    return search.document(
        person.display_name,
        person.job_title,
        person.city,
        organisations,
        both_labels(SKILLS, person.competences or []),
        both_labels(SKILLS, person.expertise or []),
    )


def refresh_person_search(session: Session, person: Person) -> None:
    names = list(
        session.scalars(
            select(Organisation.name)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.person_id == person.id)
        )
    )
    person.search_text = person_search_text(person, names)


def person_of_account(session: Session, account_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.account_id == account_id))


def ensure_person(session: Session, account: Account) -> Person:
    """The profile of an account, created from the account on first use."""
    person = person_of_account(session, account.id)
    if person is None:
        person = Person(account_id=account.id, display_name=account.name)
        person.search_text = person_search_text(person, [])
        session.add(person)
        session.flush()
        audit.record(
            session,
            actor=f"account:{account.id}",
            action="person.created",
            object_type="person",
            object_id=person.id,
        )
    return person


def update_person(session: Session, person: Person, data: dict[str, Any], *, by: Actor) -> Person:
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise BadRequest(
            N_("unknown field"), code="unknown_field", where=", ".join(sorted(unknown))
        )
    values: dict[str, Any] = {}
    if "display_name" in data:
        values["display_name"] = _text(
            data["display_name"], "display_name", max_length=200, required=True, one_line=True
        )
    for name, limit in (("job_title", 200), ("city", 100)):
        if name in data:
            values[name] = _text(data[name], name, max_length=limit, one_line=True)
    if "bio_html" in data:
        values["bio_html"] = sanitise_rich_text(
            _text(data["bio_html"], "bio_html", max_length=20_000)
        )
    for name in ("competences", "expertise", "needs"):
        if name in data:
            values[name] = _codes(SKILLS, data[name], name)
    if "contact_email" in data:
        values["contact_email"] = _email(data["contact_email"], "contact_email")
    if "visible" in data:
        values["visible"] = bool(data["visible"])
    changed = sorted(k for k, v in values.items() if getattr(person, k) != v)
    for key, value in values.items():
        setattr(person, key, value)
    refresh_person_search(session, person)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=by.label,
            action="person.updated",
            object_type="person",
            object_id=person.id,
            details={"fields": changed},
        )
    return person


def get_person(session: Session, person_id: str, actor: Actor) -> Person:
    person = session.get(Person, person_id)
    own = person is not None and person.account_id == actor.account_id and actor.authenticated
    if person is None or not (person.visible or own or actor.is_staff):
        raise NotFound(N_("no such person"), code="not_found", where=person_id[:80])
    return person


def person_view(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "display_name": person.display_name,
        "job_title": person.job_title,
        "city": person.city,
        "bio_html": person.bio_html,
        "competences": list(person.competences or []),
        "expertise": list(person.expertise or []),
        "needs": list(person.needs or []),
        "contact_email": person.contact_email,
        "visible": person.visible,
        "organisations": [
            {
                "id": m.organisation.id,
                "slug": m.organisation.slug,
                "name": m.organisation.name,
                "role": m.role,
                "position": m.position,
            }
            for m in person.memberships
        ],
    }
