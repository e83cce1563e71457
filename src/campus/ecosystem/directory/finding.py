"""The directory's search: organisations or people, filters, pagination and relevance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from campus.db.engine import read
from campus.ecosystem.directory import search
from campus.ecosystem.directory.fields import (
    PER_PAGE_MAX,
    _text,
)
from campus.ecosystem.directory.models import (
    Membership,
    Organisation,
    Person,
)
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES
from campus.errors import BadRequest
from campus.i18n import N_

# --- directory ----------------------------------------------------------------------------------


def _has_code(column: Any, code: str) -> Any:
    """The JSON list in `column` holds `code` (codes are [a-z_]: no wildcard slips in)."""
    return cast(column, Text).like(f'%"{code}"%')


@dataclass
class DirectoryPage:
    kind: str  # organisations | people
    query: str
    total: int
    page: int
    per_page: int
    items: list[dict[str, Any]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_directory(
    session: Session,
    *,
    query: str = "",
    section: str = "organisations",
    kind: str = "",
    theme: str = "",
    skill: str = "",
    page: int = 1,
    per_page: int = 20,
) -> DirectoryPage:
    """Search organisations or people; accent-insensitive, filters, pagination."""
    query = _text(query, "q", max_length=200)
    if section not in ("organisations", "people"):
        raise BadRequest(N_("unknown directory section"), code="invalid_section", where="section")
    if page < 1 or not 1 <= per_page <= PER_PAGE_MAX:
        raise BadRequest(
            N_("page starts at 1 and per_page is 1 to 100"), code="invalid_page", where="page"
        )
    if kind and kind not in KIND_LABELS:
        raise BadRequest(N_("unknown organisation kind"), code="invalid_kind", where="kind")
    if theme and theme not in THEMES:
        raise BadRequest(N_("unknown theme"), code="invalid_theme", where="theme")
    if skill and skill not in SKILLS:
        raise BadRequest(N_("unknown skill"), code="invalid_skill", where="skill")
    model = Organisation if section == "organisations" else Person
    where = []
    condition = search.matches(model.search_text, query)
    if condition is not None:
        where.append(condition)
    if model is Organisation:
        where.append(Organisation.active.is_(True))
        if kind:
            where.append(Organisation.kind == kind)
        if theme:
            where.append(_has_code(Organisation.themes, theme))
        if skill:
            where.append(_has_code(Organisation.expertise, skill))
    else:
        where.append(Person.visible.is_(True))
        if skill:
            where.append(_has_code(Person.expertise, skill) | _has_code(Person.competences, skill))
        if kind or theme:
            sub = select(Membership.person_id).join(Organisation)
            if kind:
                sub = sub.where(Organisation.kind == kind)
            if theme:
                sub = sub.where(_has_code(Organisation.themes, theme))
            where.append(Person.id.in_(sub))
    columns = (
        (
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.city,
            Organisation.summary_fr,
            Organisation.summary_en,
            Organisation.themes,
            Organisation.expertise,
            Organisation.logo_file,
        )
        if model is Organisation
        else (
            Person.id,
            Person.display_name,
            Person.job_title,
            Person.city,
            Person.competences,
            Person.expertise,
        )
    )
    words = search.tokens(query)
    if words:
        rows, total = _ranked(session, model, columns, where, words, page, per_page)
    else:
        rows, total = _by_name(session, model, columns, where, page, per_page)
    if model is Organisation:
        items = [
            {
                "id": o.id,
                "slug": o.slug,
                "name": o.name,
                "kind": o.kind,
                "city": o.city,
                "summary_fr": o.summary_fr,
                "summary_en": o.summary_en,
                "themes": list(o.themes or []),
                "logo_url": f"/api/v1/organisations/{o.id}/logo" if o.logo_file else None,
                "matched": search.matched(words, _labels(o.themes, o.expertise)),
            }
            for o in rows
        ]
    else:
        items = [
            {
                "id": p.id,
                "display_name": p.display_name,
                "job_title": p.job_title,
                "city": p.city,
                "competences": list(p.competences or []),
                "matched": search.matched(words, _labels((), p.competences, p.expertise)),
            }
            for p in rows
        ]
    return DirectoryPage(section, query, total, page, per_page, items)


def _labels(themes: Any, *skill_lists: Any) -> dict[str, list[str]]:
    """Tag code -> its labels in both languages, of a row's themes and skills."""
    labels = {code: list(THEMES.get(code, (code,))) for code in themes or ()}
    for skills in skill_lists:
        labels.update({code: list(SKILLS.get(code, (code,))) for code in skills or ()})
    return labels


def _tags(row: Any) -> list[str]:
    """The labels of a row's tags (an organisation's themes and expertise, a person's
    competences and expertise), for relevance."""
    found = (
        _labels(row.themes, row.expertise)
        if "themes" in row._fields
        else _labels((), row.competences, row.expertise)
    )
    return [text for texts in found.values() for text in texts]


def _by_name(
    session: Session, model: Any, columns: tuple, where: list, page: int, per_page: int
) -> tuple[list[Any], int]:
    """Without a query: by name. The page and the total in one round trip (every row carries
    the count of all matches)."""
    name = Organisation.name if model is Organisation else Person.display_name
    rows = read(
        session,
        select(*columns, func.count().over().label("total"))
        .where(*where)
        .order_by(name, model.id)
        .limit(per_page)
        .offset((page - 1) * per_page),
    ).all()
    if rows:
        return list(rows), rows[0].total
    # past the last page, or nothing matches
    total = read(session, select(func.count()).select_from(model).where(*where)).scalar() or 0
    return [], total


def _ranked(
    session: Session,
    model: Any,
    columns: tuple,
    where: list,
    words: list[str],
    page: int,
    per_page: int,
) -> tuple[list[Any], int]:
    """With a query: by relevance (the name, then tags, then the rest of the text; see
    `search.relevance`), then by name. Relevance needs the labels of every match, so the
    matches' names and tags are read and ranked here, then the page's rows."""
    name = Organisation.name if model is Organisation else Person.display_name
    tags = (
        (Organisation.themes, Organisation.expertise)
        if model is Organisation
        else (Person.competences, Person.expertise)
    )
    found = read(session, select(model.id, name.label("name"), *tags).where(*where)).all()
    found.sort(key=lambda r: (search.relevance(words, r.name, _tags(r)), search.fold(r.name), r.id))
    chosen = [r.id for r in found[(page - 1) * per_page : page * per_page]]
    if not chosen:
        return [], len(found)
    rows = {r.id: r for r in read(session, select(*columns).where(model.id.in_(chosen))).all()}
    return [rows[i] for i in chosen], len(found)
