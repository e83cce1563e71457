"""Demo campus life: one building of five floors, about 80 hosted structures keeping about
90% of the desks allocated, a year of entries and exits, an open admissions round, a week of
bookings of the meeting rooms, and 20 sponsorship pairs. Deterministic for a given day."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from campus.auth import service as auth
from campus.auth.actor import Actor, Grant
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import service as programmes
from campus.residency import service
from campus.settings import Settings
from campus.spaces import service as spaces
from campus.spaces.models import Building
from campus.spaces.validation import PARIS

STAFF = Actor(account_id="demo", name="demo", via="cli", grants=frozenset({Grant("staff")}))
HOSTED, LEFT, APPLYING, PAIRS = 80, 20, 6, 20
EQUIPMENT = ["écran", "visioconférence", "tableau blanc"]
TOPICS = [
    "Accès aux données de l'entrepôt", "Présentation aux équipes achats", "Préparation de la levée",
    "Étude clinique : protocole", "Conformité RGPD et HDS", "Mise en relation avec un CHU",
]  # fmt: skip
MENTORS = [
    "Anne Morel", "Paul Girard", "Sophie Laurent", "Marc Fontaine", "Julie Chevalier",
    "Nicolas Robin", "Claire Mercier", "Thomas Blanc", "Isabelle Guérin", "Hugo Faure",
]  # fmt: skip


def _site(session) -> dict[str, list[dict]]:
    building = spaces.create_building(
        session, STAFF, code="PSC", name="Bâtiment principal", address="Paris 15e",
        opens="07:30", closes="21:00",
    )  # fmt: skip
    floors = [spaces.create_floor(session, STAFF, building.id, level, name) for level, name in
              [(0, "Rez-de-chaussée"), (1, "Étage 1"), (2, "Étage 2"), (3, "Étage 3"),
               (4, "Étage 4")]]  # fmt: skip
    rng = random.Random(2210)  # noqa: S311 - demo data, not secrets

    def room(floor, code, name, kind, capacity, **rules):
        return spaces.create_room(
            session, STAFF,
            spaces.RoomInput(floor_id=floor.id, code=code, name=name, kind=kind,
                             capacity=capacity, equipment=rules.pop("equipment", []), **rules),
        )  # fmt: skip

    room(floors[0], "AUDI", "Auditorium", "auditorium", 200, equipment=["scène", "sonorisation"],
         needs_approval=True, max_minutes=600, partner_price_cents=30000)  # fmt: skip
    room(floors[0], "STUDIO", "Studio vidéo", "equipment", 4, max_minutes=240,
         partner_price_cents=8000)  # fmt: skip
    room(floors[0], "LAB-IMP3D", "Imprimante 3D", "equipment", 2, max_minutes=480)
    for index, name in enumerate(["Pasteur", "Curie", "Laennec"]):
        room(floors[0], f"R0-{index + 1}", f"Salle {name}", "meeting_room", 12,
             equipment=EQUIPMENT, partner_price_cents=4000)  # fmt: skip
    for floor in floors[1:]:
        level = floor.level
        for number in range(1, 15):
            room(floor, f"B{level}{number:02d}", f"Bureau {level}{number:02d}", "office",
                 rng.choice([2, 3, 4, 4, 6, 8]))  # fmt: skip
        room(floor, f"OS{level}", f"Plateau {level}", "open_space", 30)
        room(floor, f"R{level}-1", f"Salle de réunion {level}", "meeting_room", 8,
             equipment=EQUIPMENT)  # fmt: skip
    return {"rooms": spaces.list_rooms(session)}


def load(settings: Settings, db: Database) -> None:
    generate(db, utcnow().astimezone(PARIS).date())


def generate(db: Database, today: dt.date) -> None:
    """The demo as of `today` (the same day gives the same campus; the open round's dates
    follow the clock)."""
    rng = random.Random(22)  # noqa: S311 - demo data, not secrets
    year_ago = today - dt.timedelta(days=365)
    with db.session() as session:
        if session.scalar(select(Building.id).limit(1)) is not None:
            return
        rooms = _site(session)["rooms"]
        organisations = list(session.scalars(select(Organisation).order_by(Organisation.slug)))
    startups = [o for o in organisations if o.kind == "startup"]
    others = [o for o in organisations if o.kind in ("research_lab", "company", "public_agency")]
    chosen = rng.sample(startups, min(len(startups), 60))
    hosted_pool = chosen + rng.sample(others, HOSTED + LEFT - len(chosen))
    rng.shuffle(hosted_pool)
    offices = [r for r in rooms if r["kind"] == "office"]
    open_spaces = [r for r in rooms if r["kind"] == "open_space"]
    rng.shuffle(offices)
    free_desks = {r["code"]: r["capacity"] for r in open_spaces}
    total = sum(r["capacity"] for r in offices) + sum(free_desks.values())
    allocated = 0
    residencies: list[tuple[str, str]] = []  # (residency id, organisation id), hosted ones
    freed: list[tuple[dt.date, dict]] = []  # offices that leavers gave back, and when
    with db.session() as session:
        # Those that left during the year come first: their offices go to newcomers that
        # arrive after them.
        for index, org in enumerate(hosted_pool[HOSTED:]):
            start = year_ago - dt.timedelta(days=rng.randint(60, 900))
            office = offices.pop()
            residency = _register(session, rng, org.id, start, [{"room": office["code"]}], index)
            exited = year_ago + dt.timedelta(days=rng.randint(10, 300))
            service.record_exit(
                session, STAFF, residency, min(exited, today),
                rng.choice(service.EXIT_REASONS[:5]), "",
            )  # fmt: skip
            freed.append((min(exited, today), office))
        freed.sort(key=lambda pair: pair[0])
        for index, org in enumerate(hosted_pool[:HOSTED]):
            newcomer = index < 25
            start = (
                year_ago + dt.timedelta(days=rng.randint(0, 330))
                if newcomer
                else year_ago - dt.timedelta(days=rng.randint(30, 900))
            )
            items = []
            reusable = [pair for pair in freed if newcomer and pair[0] <= start]
            if reusable and allocated < 0.9 * total:
                freed.remove(reusable[0])
                items.append({"room": reusable[0][1]["code"]})
                allocated += reusable[0][1]["capacity"]
            elif offices and allocated < 0.9 * total and rng.random() < 0.8:
                office = offices.pop()
                items.append({"room": office["code"]})
                allocated += office["capacity"]
            else:
                desks = rng.randint(2, 5)
                fit = [code for code, free in free_desks.items() if free >= desks]
                if fit and allocated + desks <= 0.9 * total:
                    free_desks[fit[0]] -= desks
                    items.append({"room": fit[0], "desks": desks})
                    allocated += desks
            if not items:
                continue
            residencies.append(
                (_register(session, rng, org.id, start, items, LEFT + index), org.id)
            )
    _round(db, rng, organisations, {o for _, o in residencies})
    _bookings(db, rng, rooms, today)
    _pairs(db, rng, organisations, [o for _, o in residencies], today)


def _register(session, rng: random.Random, org_id: str, start: dt.date, items, index: int) -> str:
    years = rng.choice([2, 3])
    return service.register_residency(
        session, STAFF, org_id,
        service.AdmissionInput(
            starts_on=start, ends_on=start + dt.timedelta(days=365 * years),
            contract_ref=f"CH-{start.year}-{index + 1:03d}",
            monthly_fee=rng.choice([450, 600, 900, 1200, 1800]),
            spaces=items,
        ),
    ).id  # fmt: skip


def _round(db: Database, rng: random.Random, organisations, hosted: set[str]) -> None:
    now = utcnow()
    with db.session() as session:
        opens, closes = now - dt.timedelta(days=10), now + dt.timedelta(days=20)
        call = service.open_round(session, STAFF, "Admissions 2027", opens, closes)
        candidates = [o for o in organisations if o.kind == "startup" and o.id not in hosted]
        for org in rng.sample(candidates, min(APPLYING, len(candidates))):
            applicant = Actor(grants=frozenset({Grant("org_admin", "organisation", org.id)}))
            programmes.apply(
                session, applicant, call.id, org.id,
                {"project": f"{org.name} : {org.summary_fr or 'projet en santé numérique'}"[:1000],
                 "team_size": rng.randint(2, 12), "desks": rng.randint(2, 8), "offices": 0,
                 "requested_start": (now + dt.timedelta(days=60)).date().isoformat(),
                 "axis": rng.choice(["data", "value_creation", "societal_impact"])},
            )  # fmt: skip


def _bookings(db: Database, rng: random.Random, rooms, today: dt.date) -> None:
    with db.session() as session:
        account = auth.find_account(session, "membre@campus.example")
        if account is None:  # the demo accounts are made first; without them, no bookings
            return
        member = auth.actor_for(account, "session")
        bookable = [r for r in rooms if r["kind"] in ("meeting_room", "auditorium")]
        now = dt.datetime.combine(today, dt.time(), PARIS).astimezone(dt.UTC)
        for offset in range(1, 8):
            day = today + dt.timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for room in bookable:
                for hour in sorted(rng.sample(range(8, 19), rng.randint(2, 5))):
                    start = dt.datetime(day.year, day.month, day.day, hour)
                    spaces.book(
                        session, member,
                        spaces.BookingInput(room=room["code"], title=rng.choice(TOPICS),
                                            starts_at=start, ends_at=start + dt.timedelta(hours=1),
                                            people=min(room["capacity"], rng.randint(2, 8))),
                        now=now,
                    )  # fmt: skip


def _pairs(
    db: Database, rng: random.Random, organisations, hosted: list[str], today: dt.date
) -> None:
    by_id = {o.id: o for o in organisations}
    startups = [i for i in hosted if by_id[i].kind == "startup"]
    sponsors = [o.id for o in organisations if o.kind in ("company", "founding_member")]
    with db.session() as session:
        for index, startup in enumerate(startups[:PAIRS]):
            start = today - dt.timedelta(days=rng.randint(60, 400))
            pair = service.create_sponsorship(
                session, STAFF, startup_id=startup, sponsor_id=rng.choice(sponsors),
                mentor_account_id=None, mentor_name=rng.choice(MENTORS),
                objectives=rng.sample(TOPICS, 2), starts_on=start,
            )  # fmt: skip
            for _ in range(rng.randint(1, 6)):
                service.log_meeting(
                    session, STAFF, pair.id,
                    held_on=start + dt.timedelta(days=rng.randint(1, (today - start).days)),
                    topics=rng.choice(TOPICS), next_steps="Relancer dans un mois",
                )  # fmt: skip
            if index % 4 == 0:
                service.end_sponsorship(
                    session, STAFF, pair.id, ends_on=today,
                    introductions=rng.randint(1, 6), contracts=rng.randint(0, 2),
                )  # fmt: skip
                for side in (pair.startup_id, pair.sponsor_id):
                    rater = Actor(grants=frozenset({Grant("org_admin", "organisation", side)}))
                    service.rate_sponsorship(session, rater, pair.id, rng.randint(3, 5))
