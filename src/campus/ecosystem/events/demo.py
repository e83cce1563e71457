"""Demo year of events: 200 events from six months ago to six months ahead, deterministic.

Past events have registrations and check-ins (so attendance statistics and training records
have data); upcoming ones have registrations, and some are full with a waitlist. About one
event in five is a session of a training of the catalogue. People come from the directory
demo (`pick_people`), so it runs after it.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import service as auth
from campus.db.engine import Database
from campus.ecosystem.events.models import (
    Audience,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from campus.ecosystem.events.service import recount_seats
from campus.ecosystem.trainings.demo import load_catalogue
from campus.settings import Settings
from campus.text import PARIS

SEED = 4242
EVENTS = 200
FORMATS = [
    ("Meetup", "Un moment d'échange entre membres du campus autour de {theme}."),
    ("Atelier", "Un atelier pratique en petit groupe sur {theme}."),
    ("Conférence", "Des intervenants de structures membres partagent leur expérience de {theme}."),
    ("Webinaire", "Une heure en ligne pour faire le point sur {theme}."),
    ("Petit-déjeuner", "Un petit-déjeuner de mise en relation sur {theme}."),
    ("Table ronde", "Startups, hôpitaux et laboratoires débattent de {theme}."),
]
# The kind (models.KINDS) of each format above.
FORMAT_KINDS = {
    "Meetup": "meetup",
    "Atelier": "workshop",
    "Conférence": "conference",
    "Webinaire": "webinar",
    "Petit-déjeuner": "meetup",
    "Table ronde": "conference",
}
THEMES = [
    "l'interopérabilité FHIR",
    "l'IA en imagerie médicale",
    "la santé mentale numérique",
    "les entrepôts de données de santé",
    "le télésuivi des patients",
    "la cybersécurité hospitalière",
    "le financement de l'innovation",
    "la prévention et les objets connectés",
    "les essais cliniques décentralisés",
    "l'accès au marché des dispositifs médicaux",
    "la participation des patients",
    "l'éthique des algorithmes",
]
# The theme (models.THEMES) of each subject above, in the same order.
THEME_CODES = [
    "interoperability",
    "ai",
    "patients",
    "health_data",
    "patients",
    "cybersecurity",
    "entrepreneurship",
    "entrepreneurship",
    "clinical_research",
    "regulation",
    "patients",
    "ai",
]
ORGANISERS = [
    "Équipe du campus",
    "Club interopérabilité",
    "Laboratoire d'IA clinique",
    "Incubateur santé numérique",
    "Collectif des patients partenaires",
]
SPEAKERS = [
    "Dr Claire Martin, cardiologue",
    "Karim Benali, architecte FHIR",
    "Sophie Lefèvre, déléguée à la protection des données",
    "Pr Jean Dubois, épidémiologiste",
    "Amina Diallo, fondatrice de startup",
    "Lucas Moreau, data scientist",
    "Hélène Petit, patiente partenaire",
    "Thomas Bernard, RSSI hospitalier",
]
ROOMS = [
    "Amphithéâtre Pasteur",
    "Salle Marie Curie",
    "Salle Laennec",
    "Espace Agora",
    "Salle Claude Bernard",
    "Atelier 2.14",
]
CAPACITIES = [20, 25, 30, 40, 50, 60, 80, 120, None]


def _start(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = rng.choice([9, 10, 12, 14, 16, 18])
    minute = rng.choice([0, 0, 30])
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(dt.UTC)


def demo_accounts(session: Session, n: int, *, seed: int) -> list[str]:
    """n accounts of directory people, picked from a seed in email order (emails are stable
    across runs, unlike row ids), so the same seed picks the same people."""
    from campus.auth.models import Account
    from campus.ecosystem.directory.models import Person

    pool = list(
        session.scalars(
            select(Account.id)
            .join(Person, Person.account_id == Account.id)
            .where(Account.active.is_(True))
            .order_by(Account.email)
        )
    )
    rng = random.Random(seed)  # noqa: S311 - a deterministic pick, not a secret
    return rng.sample(pool, min(n, len(pool)))


def generate(session: Session, *, seed: int = SEED, reference: dt.date | None = None) -> dict:
    """Add the catalogue, the events and their registrations; refuses to run twice."""
    if session.scalar(select(func.count()).select_from(Event)):
        raise RuntimeError("events already exist: load the demo once")
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
    reference = reference or dt.datetime.now(PARIS).date()
    now = dt.datetime.now(dt.UTC)
    trainings = load_catalogue(session)
    accounts = demo_accounts(session, 500, seed=seed)
    first_day = reference - dt.timedelta(days=182)
    events: list[Event] = []
    registrations: list[Registration] = []
    for index in range(EVENTS):
        day = first_day + dt.timedelta(days=int(index * 365 / EVENTS) + rng.randint(0, 1))
        if day.weekday() >= 5:
            day += dt.timedelta(days=7 - day.weekday())
        starts_at = _start(rng, day)
        training = trainings[index % len(trainings)] if index % 5 == 0 else None
        if training is not None:
            title = f"Formation — {training.title_fr}"
            description = training.summary_fr
            hours = min(training.duration_hours, 7)
            kind, theme_code = "training", THEME_CODES[index % len(THEME_CODES)]
        else:
            label, template = rng.choice(FORMATS)
            theme = rng.choice(THEMES)
            title = f"{label} : {theme[0].upper()}{theme[1:]}"
            description = template.format(theme=theme)
            hours = rng.choice([1, 2, 2, 3])
            kind, theme_code = FORMAT_KINDS[label], THEME_CODES[THEMES.index(theme)]
        # Organiser and speakers follow the index (no draw: the demo's other draws stay).
        speakers = [SPEAKERS[(index * 3 + n) % len(SPEAKERS)] for n in range(1 + index % 3)]
        online = rng.random() < 0.2
        event = Event(
            title=title,
            description=description,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=hours),
            room="" if online else rng.choice(ROOMS),
            online_url=f"https://visio.campus.example/evenement-{index:03d}" if online else "",
            capacity=rng.choice(CAPACITIES) if not online else None,
            audience=Audience.MEMBERS if rng.random() < 0.3 else Audience.PUBLIC,
            status=EventStatus.PUBLISHED,
            training_id=training.id if training else None,
            kind=kind,
            theme=theme_code,
            organiser=ORGANISERS[index % len(ORGANISERS)],
            speakers="\n".join(speakers),
            created_by="demo",
            created_at=starts_at - dt.timedelta(days=30),
            published_at=starts_at - dt.timedelta(days=28),
        )
        roll = rng.random()
        if roll < 0.03:
            event.status = EventStatus.CANCELLED
            event.cancelled_at = starts_at - dt.timedelta(days=3)
        elif roll < 0.06 and starts_at > now:
            event.status = EventStatus.DRAFT
            event.published_at = None
        session.add(event)
        events.append(event)
    session.flush()
    full_events = 0
    for event in events:
        if event.status == EventStatus.DRAFT:
            continue
        past = event.ends_at <= now
        capacity = event.capacity or rng.randint(30, 90)
        full = event.capacity is not None and rng.random() < (0.25 if not past else 0.1)
        wanted = capacity + rng.randint(2, 12) if full else int(capacity * rng.uniform(0.3, 0.95))
        chosen = rng.sample(accounts, min(wanted, len(accounts)))
        opened = event.published_at or event.created_at
        full_events += bool(full and event.capacity is not None and wanted > event.capacity)
        for position, account_id in enumerate(chosen):
            seated = event.capacity is None or position < event.capacity
            queued_at = opened + dt.timedelta(minutes=7 * position + rng.randint(0, 6))
            registration = Registration(
                event_id=event.id,
                account_id=account_id,
                status=RegistrationStatus.REGISTERED if seated else RegistrationStatus.WAITLISTED,
                queued_at=queued_at,
                created_at=queued_at,
            )
            if past and seated and event.status == EventStatus.PUBLISHED and rng.random() < 0.78:
                registration.checked_in_at = event.starts_at + dt.timedelta(
                    minutes=rng.randint(-15, 20)
                )
                registration.checked_in_by = "demo"
            registrations.append(registration)
    session.add_all(registrations)
    session.flush()
    recount_seats(session)  # inserted directly: the events' counts are built from them
    _demo_accounts(session, events, now)
    recount_seats(session)
    summary = {
        "events": len(events),
        "registrations": len(registrations),
        "full_events": full_events,
        "trainings": len(trainings),
    }
    audit.record(session, actor="system", action="demo.events_loaded", details=summary)
    return summary


def _demo_accounts(session: Session, events: list[Event], now: dt.datetime) -> None:
    """Give the documented demo member a seat, a waitlist place and an attended session."""
    membre = auth.find_account(session, "membre@campus.example")
    if membre is None:
        return
    taken = set(
        session.scalars(select(Registration.event_id).where(Registration.account_id == membre.id))
    )
    upcoming = [
        e
        for e in events
        if e.status == EventStatus.PUBLISHED and e.starts_at > now and e.id not in taken
    ]
    past_training = [
        e
        for e in events
        if e.status == EventStatus.PUBLISHED
        and e.ends_at < now
        and e.training_id
        and e.id not in taken
    ]
    from campus.ecosystem.events.service import seats

    with_room = [e for e in upcoming if not seats(e).full]
    if with_room:
        session.add(
            Registration(
                event_id=with_room[0].id,
                account_id=membre.id,
                status=RegistrationStatus.REGISTERED,
                queued_at=now,
            )
        )
    if past_training:
        attended = past_training[-1]
        session.add(
            Registration(
                event_id=attended.id,
                account_id=membre.id,
                status=RegistrationStatus.REGISTERED,
                queued_at=attended.starts_at - dt.timedelta(days=5),
                checked_in_at=attended.starts_at,
                checked_in_by="demo",
            )
        )
    session.flush()


def load(settings: Settings, db: Database) -> None:
    """The `campus demo` loader of trainings, events and registrations."""
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(Event)):
            return
        generate(session)
