"""The campus dashboard: the figures a campus director reports, for one calendar year.

Members by kind come from the directory, events and attendance from the events service,
funds raised, contracts, partnerships, acquisitions and launches from validated impact
records only. Months are calendar months in Paris time for events and the record's date
for impact.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus import exports
from campus.ecosystem.directory.models import Membership, Organisation, OrganisationKind, Person
from campus.ecosystem.impact.models import ImpactKind, ImpactRecord, ImpactStatus
from campus.errors import BadRequest
from campus.i18n import N_

MONTHS = range(1, 13)


def _events(session: Session, year: int) -> list[dict[str, Any]]:
    try:
        from campus.ecosystem.events import stats as events
    except ImportError:  # events not installed: the figures are zeros, not an error
        return [
            {"month": m, "events": 0, "registered": 0, "attended": 0, "rate": None} for m in MONTHS
        ]
    return events.attendance_by_month(session, year)


def members_by_kind(session: Session) -> list[dict[str, Any]]:
    orgs = Counter(
        dict(
            session.execute(
                select(Organisation.kind, func.count())
                .where(Organisation.active.is_(True))
                .group_by(Organisation.kind)
            ).all()
        )
    )
    people = Counter(
        dict(
            session.execute(
                select(Organisation.kind, func.count(func.distinct(Membership.person_id)))
                .join(Membership, Membership.organisation_id == Organisation.id)
                .where(Organisation.active.is_(True))
                .group_by(Organisation.kind)
            ).all()
        )
    )
    return [
        {"kind": k.value, "organisations": orgs.get(k.value, 0), "people": people.get(k.value, 0)}
        for k in OrganisationKind
    ]


def figures(session: Session, year: int) -> dict[str, Any]:
    if not 1990 <= year <= 2200:
        raise BadRequest(
            N_("the year must be from 1990 to 2200"), code="invalid_year", where="year"
        )
    records = session.execute(
        select(
            ImpactRecord.kind, ImpactRecord.occurred_on, ImpactRecord.amount, ImpactRecord.currency
        ).where(
            ImpactRecord.status == ImpactStatus.VALIDATED,
            ImpactRecord.occurred_on >= dt.date(year, 1, 1),
            ImpactRecord.occurred_on <= dt.date(year, 12, 31),
        )
    ).all()
    funds_eur: defaultdict[int, Decimal] = defaultdict(Decimal)
    funds_by_currency: defaultdict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, Counter[int]] = {k.value: Counter() for k in ImpactKind}
    for kind, occurred_on, amount, currency in records:
        counts[kind][occurred_on.month] += 1
        if kind == ImpactKind.FUNDRAISING and amount is not None:
            funds_by_currency[currency] += amount
            if currency == "EUR":
                funds_eur[occurred_on.month] += amount
    monthly_events = _events(session, year)
    by_month = []
    for m, ev in zip(MONTHS, monthly_events, strict=True):
        by_month.append(
            {
                "month": m,
                "events": ev["events"],
                "registered": ev["registered"],
                "attended": ev["attended"],
                "funds_eur": float(funds_eur.get(m, Decimal(0))),
                "fundraisings": counts[ImpactKind.FUNDRAISING].get(m, 0),
                "contracts": counts[ImpactKind.CONTRACT].get(m, 0),
                "partnerships": counts[ImpactKind.PARTNERSHIP].get(m, 0),
                "acquisitions": counts[ImpactKind.ACQUISITION].get(m, 0),
                "product_launches": counts[ImpactKind.PRODUCT_LAUNCH].get(m, 0),
            }
        )
    kinds = members_by_kind(session)
    people_total = session.scalar(select(func.count()).select_from(Person)) or 0
    return {
        "year": year,
        "members_by_kind": kinds,
        "by_month": by_month,
        "totals": {
            "organisations": sum(k["organisations"] for k in kinds),
            "people": people_total,
            "events": sum(m["events"] for m in by_month),
            "attended": sum(m["attended"] for m in by_month),
            "funds_raised": {c: float(v) for c, v in sorted(funds_by_currency.items())},
            "contracts": sum(counts[ImpactKind.CONTRACT].values()),
            "partnerships": sum(counts[ImpactKind.PARTNERSHIP].values()),
            "acquisitions": sum(counts[ImpactKind.ACQUISITION].values()),
            "product_launches": sum(counts[ImpactKind.PRODUCT_LAUNCH].values()),
        },
        "pending_impact_records": session.scalar(
            select(func.count())
            .select_from(ImpactRecord)
            .where(ImpactRecord.status == ImpactStatus.SUBMITTED)
        )
        or 0,
    }


def as_csv(data: dict[str, Any]) -> str:
    """One tidy table: section, key, month (empty for totals), value."""
    out = io.StringIO()
    writer = exports.writer(out, lineterminator="\r\n")
    writer.writerow(["year", "section", "key", "month", "value"])
    year = data["year"]
    for row in data["members_by_kind"]:
        writer.writerow([year, "organisations_by_kind", row["kind"], "", row["organisations"]])
        writer.writerow([year, "people_by_kind", row["kind"], "", row["people"]])
    for row in data["by_month"]:
        for key, value in row.items():
            if key != "month":
                writer.writerow([year, "by_month", key, row["month"], value])
    for key, value in data["totals"].items():
        if isinstance(value, dict):
            for currency, amount in value.items():
                writer.writerow([year, "totals", f"{key}_{currency}", "", amount])
        else:
            writer.writerow([year, "totals", key, "", value])
    return out.getvalue()
