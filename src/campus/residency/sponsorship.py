"""Sponsorship (parrainage): staff pair a startup with a sponsor organisation and a named
mentor; either side logs meetings and objectives while it runs; staff close it with its
outcomes; each side rates it once."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.db.engine import lock
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.impact.models import ImpactRecord
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.residency.models import Sponsorship, SponsorshipMeeting, SponsorshipStatus
from campus.residency.rules import staff_only
from campus.spaces import service as spaces
from campus.spaces.validation import PARIS, clean_text, parse_date, whole_number


def _objectives(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        raise BadRequest(N_("objectives are a list of lines"), where="objectives")
    return [
        clean_text(item, f"objectives[{i}]", max_length=300, required=True, one_line=True)
        for i, item in enumerate(value[:20])
    ]


def create_sponsorship(
    session: Session,
    actor: Actor,
    *,
    startup_id: str,
    sponsor_id: str,
    mentor_account_id: str | None,
    mentor_name: str = "",
    objectives: Any = None,
    starts_on: dt.date | str | None = None,
) -> Sponsorship:
    """Staff pair a startup with a sponsor organisation and a named mentor."""
    staff_only(actor)
    startup = session.get(Organisation, startup_id)
    if startup is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="startup_id")
    if startup.kind != "startup":
        raise BadRequest(
            N_("the sponsored side must be a startup"), code="not_startup", where="startup_id"
        )
    sponsor = session.get(Organisation, sponsor_id)
    if sponsor is None:
        raise NotFound(N_("no such organisation"), code="not_found", where="sponsor_id")
    if sponsor.id == startup.id:
        raise BadRequest(
            N_("a startup cannot sponsor itself"), code="same_side", where="sponsor_id"
        )
    name = clean_text(mentor_name, "mentor_name", max_length=200, one_line=True)
    if mentor_account_id:
        mentor = session.get(Account, mentor_account_id)
        if mentor is None or not mentor.active:
            raise NotFound(N_("no such account"), code="not_found", where="mentor_account_id")
        if sponsor.id not in spaces.organisations_of(session, _account_actor(mentor)):
            raise BadRequest(
                N_("the mentor must belong to the sponsor organisation"),
                code="mentor_not_sponsor",
                where="mentor_account_id",
            )
        name = name or mentor.name
    if not name:
        raise BadRequest(N_("name the mentor"), code="required", where="mentor_name")
    active = session.scalar(
        select(Sponsorship.id).where(
            Sponsorship.startup_id == startup.id, Sponsorship.status == SponsorshipStatus.ACTIVE
        )
    )
    if active:
        raise Conflict(
            N_("this startup already has an active sponsor"),
            code="already_paired",
            where="startup_id",
        )
    pair = Sponsorship(
        startup_id=startup.id,
        sponsor_id=sponsor.id,
        mentor_account_id=mentor_account_id or None,
        mentor_name=name,
        objectives=_objectives(objectives),
        starts_on=parse_date(starts_on, "starts_on", required=False)
        or utcnow().astimezone(PARIS).date(),
        created_by=actor.label,
    )
    session.add(pair)
    session.flush()
    audit.record(
        session, actor=actor.label, action="sponsorship.created", object_type="sponsorship",
        object_id=pair.id, details={"startup": startup.id, "sponsor": sponsor.id},
    )  # fmt: skip
    return pair


def pairing_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Startups and possible sponsors (companies, founding members, labs), for staff's form."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.kind)
        .where(Organisation.active.is_(True))
        .order_by(Organisation.name)
    ).all()
    return {
        "startups": [(i, n) for i, n, k in rows if k == "startup"],
        "sponsors": [
            (i, n) for i, n, k in rows if k in ("company", "founding_member", "research_lab")
        ],
    }


def _account_actor(account: Account) -> Actor:
    from campus.auth.actor import Grant

    return Actor(
        account_id=account.id,
        grants=frozenset(Grant(g.role, g.scope_type, g.scope_id) for g in account.grants),
    )


def side_of(session: Session, actor: Actor, pair: Sponsorship) -> str:
    """`staff`, `sponsor` (the mentor or a member of the sponsor), `startup`, or ''."""
    if actor.account_id and pair.mentor_account_id == actor.account_id:
        return "sponsor"
    mine = spaces.organisations_of(session, actor)
    if pair.startup_id in mine:
        return "startup"
    if pair.sponsor_id in mine:
        return "sponsor"
    return "staff" if actor.is_staff else ""


def get_sponsorship(session: Session, actor: Actor, pair_id: str) -> Sponsorship:
    pair = session.get(Sponsorship, pair_id)
    if pair is None or not side_of(session, actor, pair):
        raise NotFound(N_("no such sponsorship"), code="not_found", where=pair_id)
    return pair


def _active_pair(session: Session, actor: Actor, pair_id: str) -> Sponsorship:
    """A running sponsorship the actor takes part in, locked for a change."""
    pair = lock(session, get_sponsorship(session, actor, pair_id))
    if pair.status != SponsorshipStatus.ACTIVE:
        raise Conflict(N_("this sponsorship has ended"), code="ended")
    return pair


def set_objectives(session: Session, actor: Actor, pair_id: str, objectives: Any) -> Sponsorship:
    """The objectives the pair agreed, written by either side or staff while it runs."""
    pair = _active_pair(session, actor, pair_id)
    pair.objectives = _objectives(objectives)
    session.flush()
    return pair


def log_meeting(
    session: Session,
    actor: Actor,
    pair_id: str,
    *,
    held_on: dt.date | str,
    topics: str,
    next_steps: str = "",
) -> SponsorshipMeeting:
    """A meeting of the pair (date, topics, next steps), logged by either side or staff."""
    pair = _active_pair(session, actor, pair_id)
    day = parse_date(held_on, "held_on")
    assert day is not None
    if day < pair.starts_on:
        raise BadRequest(
            N_("the meeting is before the sponsorship started"),
            code="before_start",
            where="held_on",
        )
    if day > utcnow().astimezone(PARIS).date():
        raise BadRequest(
            N_("log a meeting once it has taken place"), code="future", where="held_on"
        )
    meeting = SponsorshipMeeting(
        sponsorship_id=pair.id,
        held_on=day,
        topics=clean_text(topics, "topics", max_length=5000, required=True),
        next_steps=clean_text(next_steps, "next_steps", max_length=5000),
        logged_by=actor.label,
        logged_side=side_of(session, actor, pair),
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session, actor=actor.label, action="sponsorship.meeting_logged",
        object_type="sponsorship", object_id=pair.id,
    )  # fmt: skip
    return meeting


def end_sponsorship(
    session: Session,
    actor: Actor,
    pair_id: str,
    *,
    ends_on: dt.date | str,
    introductions: Any = 0,
    contracts: Any = 0,
    fundraising_records: list[str] | None = None,
) -> Sponsorship:
    """Staff close a pair with its outcomes: introductions made, contracts signed, and the
    startup's fundraising impact records linked to it."""
    staff_only(actor)
    pair = _active_pair(session, actor, pair_id)
    day = parse_date(ends_on, "ends_on")
    assert day is not None
    if day <= pair.starts_on:
        raise BadRequest(
            N_("a sponsorship must end after it starts"), code="end_before_start", where="ends_on"
        )
    records = list(dict.fromkeys(fundraising_records or []))
    for index, record_id in enumerate(records):
        record = session.get(ImpactRecord, record_id)
        if (
            record is None
            or record.organisation_id != pair.startup_id
            or record.kind != "fundraising"
        ):
            raise BadRequest(
                N_("not a fundraising record of this startup"),
                code="invalid_record",
                where=f"fundraising_records[{index}]",
            )
    pair.status = SponsorshipStatus.ENDED
    pair.ends_on = day
    pair.outcomes = {
        "introductions": whole_number(introductions or 0, "introductions", maximum=1000),
        "contracts": whole_number(contracts or 0, "contracts", maximum=1000),
        "fundraising_records": records,
    }
    session.flush()
    audit.record(
        session, actor=actor.label, action="sponsorship.ended", object_type="sponsorship",
        object_id=pair.id,
    )  # fmt: skip
    return pair


def rate_sponsorship(
    session: Session, actor: Actor, pair_id: str, rating: Any, comment: str = ""
) -> Sponsorship:
    """Each side rates an ended sponsorship once (1 to 5)."""
    pair = lock(session, get_sponsorship(session, actor, pair_id))
    side = side_of(session, actor, pair)
    if side not in ("startup", "sponsor"):
        raise Forbidden(N_("only the two sides rate a sponsorship"), code="not_a_side")
    if pair.status != SponsorshipStatus.ENDED:
        raise Conflict(N_("a sponsorship is rated once it has ended"), code="not_ended")
    value = whole_number(rating, "rating", minimum=1, maximum=5)
    text = clean_text(comment, "comment", max_length=2000)
    if getattr(pair, f"{side}_rating") is not None:
        raise Conflict(N_("your side has already rated this sponsorship"), code="already_rated")
    setattr(pair, f"{side}_rating", value)
    setattr(pair, f"{side}_comment", text)
    session.flush()
    return pair


def sponsorship_dict(
    pair: Sponsorship, names: dict[str, str], meetings: list[dict], side: str
) -> dict:
    return {
        "id": pair.id,
        "startup_id": pair.startup_id,
        "startup": names.get(pair.startup_id, ""),
        "sponsor_id": pair.sponsor_id,
        "sponsor": names.get(pair.sponsor_id, ""),
        "mentor": pair.mentor_name,
        "objectives": list(pair.objectives or []),
        "starts_on": pair.starts_on,
        "ends_on": pair.ends_on,
        "status": pair.status,
        "outcomes": dict(pair.outcomes or {}),
        "startup_rating": pair.startup_rating,
        "sponsor_rating": pair.sponsor_rating,
        "meetings": meetings,
        "meeting_count": len(meetings),
        "my_side": side,
    }


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    return dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids or {""}))
        ).all()
    )


def list_sponsorships(session: Session, actor: Actor) -> list[dict]:
    """Staff see every pair; others the pairs they take part in."""
    query = select(Sponsorship).order_by(Sponsorship.status, Sponsorship.starts_on.desc())
    if not actor.is_staff:
        mine = spaces.organisations_of(session, actor)
        query = query.where(
            (Sponsorship.startup_id.in_(mine or {""}))
            | (Sponsorship.sponsor_id.in_(mine or {""}))
            | (Sponsorship.mentor_account_id == (actor.account_id or ""))
        )
    pairs = list(session.scalars(query))
    counts = dict(
        session.execute(
            select(SponsorshipMeeting.sponsorship_id, func.count())
            .where(SponsorshipMeeting.sponsorship_id.in_([p.id for p in pairs] or [""]))
            .group_by(SponsorshipMeeting.sponsorship_id)
        ).all()
    )
    names = _names(session, {p.startup_id for p in pairs} | {p.sponsor_id for p in pairs})
    items = []
    for pair in pairs:
        item = sponsorship_dict(pair, names, [], side_of(session, actor, pair))
        item["meeting_count"] = counts.get(pair.id, 0)
        del item["meetings"]
        items.append(item)
    return items


def sponsorship_view(session: Session, actor: Actor, pair_id: str) -> dict:
    pair = get_sponsorship(session, actor, pair_id)
    meetings = [
        {
            "id": m.id,
            "held_on": m.held_on,
            "topics": m.topics,
            "next_steps": m.next_steps,
            "logged_by": m.logged_by,
            "side": m.logged_side,
        }
        for m in session.scalars(
            select(SponsorshipMeeting)
            .where(SponsorshipMeeting.sponsorship_id == pair.id)
            .order_by(SponsorshipMeeting.held_on.desc(), SponsorshipMeeting.logged_at.desc())
        )
    ]
    names = _names(session, {pair.startup_id, pair.sponsor_id})
    return sponsorship_dict(pair, names, meetings, side_of(session, actor, pair))


def sponsorship_figures(session: Session) -> dict:
    """Active pairs, meetings per pair, and the outcomes of ended pairs."""
    pairs = list(session.scalars(select(Sponsorship)))
    meetings = Counter(session.scalars(select(SponsorshipMeeting.sponsorship_id)))
    ended = [p for p in pairs if p.status == SponsorshipStatus.ENDED]
    totals: dict[str, int] = defaultdict(int)
    for pair in ended:
        outcomes = pair.outcomes or {}
        totals["introductions"] += int(outcomes.get("introductions") or 0)
        totals["contracts"] += int(outcomes.get("contracts") or 0)
        totals["fundraising_linked"] += len(outcomes.get("fundraising_records") or [])
    ratings = [r for p in ended for r in (p.startup_rating, p.sponsor_rating) if r is not None]
    return {
        "active_pairs": sum(1 for p in pairs if p.status == SponsorshipStatus.ACTIVE),
        "ended_pairs": len(ended),
        "meetings": sum(meetings.values()),
        "meetings_per_pair": round(sum(meetings.values()) / len(pairs), 2) if pairs else 0,
        "introductions": totals["introductions"],
        "contracts": totals["contracts"],
        "fundraising_linked": totals["fundraising_linked"],
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }
