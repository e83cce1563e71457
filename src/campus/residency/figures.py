"""Campus life in figures: the public list of hosted structures, entries and exits by year,
and the staff's dashboard (the page, its JSON and CSV twins)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.ecosystem.directory.models import Organisation
from campus.residency.models import Residency, ResidencyStatus, WaitingEntry, WaitingStatus
from campus.residency.rules import staff_only
from campus.residency.sponsorship import sponsorship_figures
from campus.spaces import service as spaces
from campus.spaces.validation import PARIS


def hosted_structures(session: Session, day: dt.date | None = None) -> list[dict]:
    """The public list: organisations hosted today, with the year they arrived. No contract,
    no fee, no space."""
    day = day or utcnow().astimezone(PARIS).date()
    rows = session.execute(
        select(
            Organisation.slug, Organisation.name, Organisation.kind, func.min(Residency.starts_on)
        )
        .join(Residency, Residency.organisation_id == Organisation.id)
        .where(
            Residency.status == ResidencyStatus.ACTIVE,
            Residency.starts_on <= day,
            Organisation.active.is_(True),
        )
        .group_by(Organisation.id, Organisation.slug, Organisation.name, Organisation.kind)
        .order_by(Organisation.name)
    ).all()
    return [
        {"slug": slug, "name": name, "kind": kind, "since": since.year}
        for slug, name, kind, since in rows
    ]


def entries_and_exits(session: Session) -> list[dict]:
    """Structures that arrived and left, year by year."""
    entries = Counter(
        day.year for day in session.scalars(select(Residency.starts_on)) if day is not None
    )
    exits = Counter(
        day.year
        for day in session.scalars(
            select(Residency.exited_on).where(Residency.exited_on.is_not(None))
        )
    )
    return [
        {"year": year, "entries": entries.get(year, 0), "exits": exits.get(year, 0)}
        for year in sorted(set(entries) | set(exits))
    ]


def dashboard(session: Session, actor: Actor, year: int) -> dict:
    """The staff figures of campus life for `year`: occupancy by month and floor, entries
    and exits by year, residents, waiting list, sponsorship. The page, CSV and JSON twins."""
    staff_only(actor)
    today = utcnow().astimezone(PARIS).date()
    return {
        "year": year,
        "occupancy": spaces.occupancy(session, year),
        "entries_exits": entries_and_exits(session),
        "hosted_now": len(hosted_structures(session, today)),
        "waiting": session.scalar(
            select(func.count()).where(WaitingEntry.status == WaitingStatus.WAITING)
        )
        or 0,
        "exit_reasons": dict(
            Counter(
                session.scalars(select(Residency.exit_reason).where(Residency.exit_reason != ""))
            )
        ),
        "sponsorship": sponsorship_figures(session),
    }


def dashboard_csv_rows(data: dict) -> list[list[Any]]:
    """The dashboard as rows of one CSV: a section column, then its figures."""
    rows: list[list[Any]] = [["section", "key", "label", "value"]]
    for month in data["occupancy"]["months"]:
        rows.append(["occupancy", f"{data['year']}-{month['month']:02d}", "campus", month["rate"]])
    for floor in data["occupancy"]["floors"]:
        label = f"{floor['building']} {floor['level']}"
        for index, rate in enumerate(floor["rates"]):
            rows.append(["occupancy", f"{data['year']}-{index + 1:02d}", label, rate])
    for item in data["entries_exits"]:
        rows.append(["entries", item["year"], "", item["entries"]])
        rows.append(["exits", item["year"], "", item["exits"]])
    for key, value in data["sponsorship"].items():
        rows.append(["sponsorship", key, "", value])
    return rows
