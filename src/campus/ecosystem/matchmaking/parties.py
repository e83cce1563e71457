"""The parties that match: organisations and people, with their themes, needs and offers, and
who may act for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.engine import write
from campus.ecosystem.directory.models import Membership, Organisation, OrgRole, Person
from campus.ecosystem.matchmaking.scoring import Party
from campus.errors import BadRequest, Forbidden, NotFound
from campus.i18n import N_

# --- parties ------------------------------------------------------------------------------------


def org_party(org: Organisation) -> Party:
    return Party(
        "organisation",
        org.id,
        org.name,
        frozenset(org.expertise or []),
        frozenset(org.needs or []),
        frozenset(org.themes or []),
        org.slug,
    )


def person_party(person: Person, themes: frozenset[str]) -> Party:
    return Party(
        "person",
        person.id,
        person.display_name,
        frozenset((person.expertise or []) + (person.competences or [])),
        frozenset(person.needs or []),
        themes,
    )


def themes_of_people(session: Session, person_id: str | None = None) -> dict[str, frozenset[str]]:
    """The themes of each person's organisations (of one person when `person_id` is given)."""
    org_themes = {
        i: frozenset(t or [])
        for i, t in session.execute(select(Organisation.id, Organisation.themes))
    }
    query = select(Membership.person_id, Membership.organisation_id)
    if person_id is not None:
        query = query.where(Membership.person_id == person_id)
    themes: dict[str, frozenset[str]] = {}
    for pid, org_id in session.execute(query):
        themes[pid] = themes.get(pid, frozenset()) | org_themes.get(org_id, frozenset())
    return themes


def own_person(session: Session, actor: Actor) -> Person | None:
    if not actor.account_id:
        return None
    return session.scalar(select(Person).where(Person.account_id == actor.account_id))


def org_ids_of(session: Session, person: Person | None, *, admin: bool = False) -> set[str]:
    if person is None:
        return set()
    query = select(Membership.organisation_id).where(Membership.person_id == person.id)
    if admin:
        query = query.where(Membership.role == OrgRole.ADMIN)
    return set(session.scalars(query))


def party(session: Session, party_type: str, party_id: str, *, own: bool = False) -> Party:
    """An active organisation or a visible person. `own`: the caller checked that the actor
    acts for this side (a person who hid their profile still gets suggestions and may ask
    for an introduction themselves; nobody else finds them)."""
    if party_type == "organisation":
        org = session.get(Organisation, party_id)
        if org is None or not org.active:
            raise NotFound(N_("no such organisation"), code="not_found", where=party_id[:80])
        return org_party(org)
    if party_type == "person":
        person = session.get(Person, party_id)
        if person is None or not (person.visible or own):
            raise NotFound(N_("no such person"), code="not_found", where=party_id[:80])
        themes = themes_of_people(session, person.id).get(person.id, frozenset())
        return person_party(person, themes)
    raise BadRequest(
        N_("a party is an organisation or a person"), code="invalid_party", where=party_type[:40]
    )


def lock_parties(session: Session, *parties: Party) -> None:
    """Lock the rows of the parties (FOR UPDATE; SQLite's write lock), in a fixed order so
    that two requests locking the same pair cannot deadlock."""
    for party_type, party_id in sorted((p.type, p.id) for p in parties):
        model = Organisation if party_type == "organisation" else Person
        write(session, select(model.id).where(model.id == party_id).with_for_update())


def check_acts_for(session: Session, actor: Actor, source_type: str, source_id: str) -> None:
    """A member acts for their own profile and for the organisations they belong to."""
    person = own_person(session, actor)
    if source_type == "person" and person is not None and person.id == source_id:
        return
    if source_type == "organisation" and (
        actor.is_staff or source_id in org_ids_of(session, person)
    ):
        return
    raise Forbidden(
        N_("you can only ask on behalf of yourself or of an organisation you belong to"),
        code="not_your_party",
    )
