"""Organisations and people of a project, through the directory's public service functions:
the pickers of the project forms, the names shown instead of account ids.

Governance stores an organisation's id and name (a project keeps its record if the
directory changes); the directory says which organisations exist and what people are called.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.ecosystem.directory import service as directory
from campus.errors import BadRequest, CampusError
from campus.i18n import N_

_PAGE = 100


def organisation_options(session: Session, account_id: str | None) -> dict[str, list[dict]]:
    """The organisations one may pick: one's own first, then every other of the directory
    (id and name, by name)."""
    mine = (
        [
            {"id": o.id, "name": o.name}
            for o in directory.organisations_of_account(session, account_id)
        ]
        if account_id
        else []
    )
    own = {o["id"] for o in mine}
    others: list[dict[str, Any]] = []
    page = 1
    while True:
        found = directory.search_directory(
            session, section="organisations", page=page, per_page=_PAGE
        )
        others += [{"id": o["id"], "name": o["name"]} for o in found.items if o["id"] not in own]
        if page >= found.pages:
            break
        page += 1
    others.sort(key=lambda o: o["name"].casefold())
    return {"mine": mine, "others": others}


def organisation_name(session: Session, org_id: str, where: str) -> str:
    """The directory's name of an organisation; BadRequest (400) when it has none."""
    try:
        return directory.get_organisation(session, (org_id or "").strip()).name
    except CampusError:
        raise BadRequest(
            N_("choose an organisation of the campus directory"),
            code="unknown_organisation",
            where=where,
        ) from None


def people_matching(session: Session, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """People of the directory whose name (or profile) matches, for the team picker."""
    if not query.strip():
        return []
    found = directory.search_directory(
        session, query=query, section="people", page=1, per_page=limit
    )
    return [
        {"id": p["id"], "name": p["display_name"], "job_title": p.get("job_title", "")}
        for p in found.items
    ]


def account_of_person(session: Session, actor: Actor, person_id: str) -> str:
    """The account behind a directory profile; BadRequest when there is none."""
    try:
        person = directory.get_person(session, (person_id or "").strip(), actor)
    except CampusError:
        person = None
    if person is None or not person.account_id:
        raise BadRequest(
            N_("choose a person of the campus directory who has an account"),
            code="unknown_person",
            where="person_id",
        )
    return person.account_id


def names_of(session: Session, account_ids: set[str]) -> dict[str, dict[str, str | None]]:
    """Each account's name as the directory shows it (else the account's), and its profile."""
    names: dict[str, dict[str, str | None]] = {}
    for account_id in sorted(account_ids):
        person = directory.person_of_account(session, account_id)
        if person is not None and person.visible:
            names[account_id] = {"name": person.display_name, "person_id": person.id}
            continue
        account = auth.get_account(session, account_id)
        names[account_id] = {"name": account.name if account else "", "person_id": None}
    return names
