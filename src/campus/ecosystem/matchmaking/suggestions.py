"""Suggestions: the best-scored parties for one, without those already introduced."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.ecosystem.directory.models import Organisation, Person
from campus.ecosystem.matchmaking.parties import org_ids_of, party, themes_of_people
from campus.ecosystem.matchmaking.scoring import Party, Suggestion, score
from campus.errors import BadRequest
from campus.i18n import N_

# --- suggestions --------------------------------------------------------------------------------


def suggestions(
    session: Session, source_type: str, source_id: str, *, limit: int = 10
) -> list[Suggestion]:
    """The best partners for a source (one the caller acts for): organisations, and for a
    person also people whose profile is visible."""
    if not 1 <= limit <= 50:
        raise BadRequest(N_("limit is 1 to 50"), code="invalid_limit", where="limit")
    source = party(session, source_type, source_id, own=True)
    if not source.needs and not source.expertise:
        return []
    excluded = {source.id}
    if source_type == "person":
        excluded |= org_ids_of(session, session.get(Person, source_id))
    org_rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.expertise,
            Organisation.needs,
            Organisation.themes,
            Organisation.slug,
        ).where(Organisation.active.is_(True))
    )
    candidates = [
        Party(
            "organisation",
            i,
            name,
            frozenset(e or []),
            frozenset(n or []),
            frozenset(t or []),
            slug,
        )
        for i, name, e, n, t, slug in org_rows
        if i not in excluded
    ]
    if source_type == "person":
        # Columns only: building 1,600 ORM objects would dominate the request.
        themes = themes_of_people(session)
        person_rows = session.execute(
            select(
                Person.id, Person.display_name, Person.expertise, Person.competences, Person.needs
            ).where(Person.visible.is_(True))
        )
        candidates += [
            Party(
                "person",
                i,
                name,
                frozenset((e or []) + (c or [])),
                frozenset(n or []),
                themes.get(i, frozenset()),
            )
            for i, name, e, c, n in person_rows
            if i not in excluded and (e or c or n)
        ]
    useful = [
        score(source, c)
        for c in candidates
        if not (source.needs.isdisjoint(c.expertise) and source.expertise.isdisjoint(c.needs))
    ]
    useful.sort(key=lambda s: (-s.score, s.target.name, s.target.id))
    return useful[:limit]
