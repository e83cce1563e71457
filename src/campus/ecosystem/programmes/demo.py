"""Demo programmes: four programmes, a closed call with reviews and decisions and an open call
each, applications by organisations of the directory demo, reviewers free of conflicts."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.models import Account
from campus.db.engine import Database
from campus.ecosystem.directory.models import Membership, Organisation, OrgRole, Person
from campus.ecosystem.programmes import forms
from campus.ecosystem.programmes.models import (
    ApplicationStatus,
    Programme,
    ProgrammeApplication,
    ProgrammeCall,
    ProgrammeReview,
)
from campus.settings import Settings

SEED = 777
FIELDS = [
    {"key": "pitch", "label": "Votre projet en quelques lignes", "type": "long_text",
     "required": True, "max_length": 3000},
    {"key": "team", "label": "Taille de l'équipe", "type": "number", "required": True,
     "min": 1, "max": 5000},
    {"key": "stage", "label": "Stade du projet", "type": "choice", "required": True,
     "choices": ["idée", "prototype", "premiers clients", "déploiement"]},
    {"key": "partner", "label": "Partenaire clinique envisagé", "type": "text",
     "max_length": 200},
]  # fmt: skip
CRITERIA = [
    {"key": "impact", "label": "Impact pour les patients", "weight": 3},
    {"key": "feasibility", "label": "Faisabilité", "weight": 2},
    {"key": "team", "label": "Équipe", "weight": 1},
]
PROGRAMMES = [
    ("accelerateur-sante-numerique", "acceleration", "Accélérateur santé numérique",
     "Digital health accelerator", ("startup",)),
    ("donnees-recherche", "research", "Programme recherche sur données de santé",
     "Health-data research programme", ("research_lab", "hospital")),
    ("parcours-ia-sante", "training", "Parcours IA et santé", "AI and health track",
     ("startup", "company", "clinic")),
    ("passerelle-industrie", "acceleration", "Passerelle industrie–startups",
     "Industry–startup bridge", ("startup", "company")),
]  # fmt: skip
PITCHES = [
    "Un outil de télésuivi qui alerte l'équipe soignante avant une décompensation.",
    "Un modèle d'aide au diagnostic en imagerie, évalué sur trois sites hospitaliers.",
    "Une plateforme d'essais cliniques décentralisés pour les maladies rares.",
    "Un assistant de coordination ville-hôpital pour les patients chroniques.",
    "Une application de prévention co-construite avec des associations de patients.",
    "Un entrepôt de données pseudonymisées pour la recherche en santé publique.",
]


def _admins(session: Session, organisation_ids: list[str]) -> dict[str, str]:
    """The account of one admin of each organisation."""
    rows = session.execute(
        select(Membership.organisation_id, Person.account_id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.organisation_id.in_(organisation_ids),
            Membership.role == OrgRole.ADMIN,
            Person.account_id.is_not(None),
        )
        .order_by(Membership.organisation_id, Person.display_name)
    ).all()
    admins: dict[str, str] = {}
    for org_id, account_id in rows:
        admins.setdefault(org_id, account_id)
    return admins


def _reviewer_pool(session: Session) -> list[tuple[str, set[str]]]:
    """Reviewers (accounts of people) with the organisations they belong to."""
    from campus.ecosystem.events.demo import demo_accounts

    pool = []
    for account_id in demo_accounts(session, 40, seed=SEED):
        orgs = set(
            session.scalars(
                select(Membership.organisation_id)
                .join(Person, Person.id == Membership.person_id)
                .where(Person.account_id == account_id)
            )
        )
        pool.append((account_id, orgs))
    membre = session.scalar(select(Account).where(Account.email == "membre@campus.example"))
    if membre is not None:
        person = session.scalar(select(Person).where(Person.account_id == membre.id))
        orgs = (
            set(
                session.scalars(
                    select(Membership.organisation_id).where(Membership.person_id == person.id)
                )
            )
            if person
            else set()
        )
        pool.insert(0, (membre.id, orgs))
    return pool


def generate(session: Session, *, seed: int = SEED) -> dict:
    if session.scalar(select(func.count()).select_from(Programme)):
        raise RuntimeError("programmes already exist: load the demo once")
    from campus.ecosystem.demo_data import pick_organisations

    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    reviewers = _reviewer_pool(session)
    counts = {"programmes": 0, "applications": 0, "reviews": 0, "selected": 0}
    for number, (slug, kind, title_fr, title_en, kinds) in enumerate(PROGRAMMES):
        programme = Programme(
            slug=slug,
            kind=kind,
            title_fr=title_fr,
            title_en=title_en,
            summary_fr=f"{title_fr}\u00a0: un accompagnement de six mois par le campus et ses "
            "membres, avec mentorat, accès aux données et mise en relation.",
            summary_en=f"{title_en}: six months of support by the campus and its members, "
            "with mentoring, data access and introductions.",
            created_by="demo",
        )
        session.add(programme)
        session.flush()
        counts["programmes"] += 1
        closed = ProgrammeCall(
            programme_id=programme.id,
            title=f"Promotion {now.year - 1 + (now.month > 6)} — printemps",
            opens_at=now - dt.timedelta(days=150 + 10 * number),
            closes_at=now - dt.timedelta(days=90 + 10 * number),
            form_fields=forms.clean_fields(FIELDS),
            criteria=forms.clean_criteria(CRITERIA),
        )
        opened = ProgrammeCall(
            programme_id=programme.id,
            title=f"Promotion {now.year + 1} — appel ouvert",
            opens_at=now - dt.timedelta(days=10),
            closes_at=now + dt.timedelta(days=45 + 5 * number),
            form_fields=forms.clean_fields(FIELDS),
            criteria=forms.clean_criteria(CRITERIA),
        )
        session.add_all([closed, opened])
        session.flush()
        candidates = pick_organisations(session, 26, kinds=kinds, seed=seed + number)
        admins = _admins(session, [o.id for o in candidates])
        candidates = [o for o in candidates if o.id in admins]
        for call, share in ((closed, candidates[:16]), (opened, candidates[16:24])):
            # Days apart in a closed call; in the call opened ten days ago, eight hours, so
            # that nothing is submitted, assigned or reviewed in the future (at most 9 days).
            step = dt.timedelta(days=1) if call is closed else dt.timedelta(hours=8)
            applications = []
            for org in share:
                application = ProgrammeApplication(
                    call_id=call.id,
                    organisation_id=org.id,
                    submitted_by=admins[org.id],
                    answers=_answers(rng, org),
                    submitted_at=call.opens_at + step * rng.randint(1, 20),
                )
                session.add(application)
                applications.append(application)
            session.flush()
            counts["applications"] += len(applications)
            for application in applications:
                free = [r for r in reviewers if application.organisation_id not in r[1]]
                for reviewer_id, _orgs in rng.sample(free, 2):
                    review = ProgrammeReview(
                        reviewer_id=reviewer_id,
                        assigned_by="demo",
                        assigned_at=application.submitted_at + step * 2,
                    )
                    if call is closed or rng.random() < 0.4:
                        review.scores = {c["key"]: rng.randint(1, 5) for c in CRITERIA}
                        review.comment = rng.choice(
                            [
                                "Projet solide, besoin clinique bien décrit.",
                                "Équipe convaincante\u00a0; le modèle économique reste à préciser.",
                                "Impact réel mais la faisabilité réglementaire est à étayer.",
                                "",
                            ]
                        )
                        review.submitted_at = review.assigned_at + step * 5
                    application.reviews.append(review)
                    counts["reviews"] += 1
            session.flush()
            if call is closed:
                counts["selected"] += _decide(applications, call)
    session.flush()
    audit.record(session, actor="system", action="demo.programmes_loaded", details=counts)
    return counts


def _answers(rng: random.Random, org: Organisation) -> dict:
    return {
        "pitch": rng.choice(PITCHES),
        "team": rng.randint(2, 60),
        "stage": rng.choice(["idée", "prototype", "premiers clients", "déploiement"]),
        "partner": rng.choice(["CHU de Bordeaux", "AP-HP", "Hospices Civils de Lyon", ""]),
    }


def _decide(applications: list[ProgrammeApplication], call: ProgrammeCall) -> int:
    """The five best mean weighted scores are selected, the rest rejected."""

    def mean(application: ProgrammeApplication) -> float:
        values = [forms.weighted(call.criteria, r.scores) or 0.0 for r in application.reviews]
        return sum(values) / len(values) if values else 0.0

    ranked = sorted(applications, key=lambda a: (-mean(a), a.organisation_id))
    for rank, application in enumerate(ranked):
        application.status = ApplicationStatus.SELECTED if rank < 5 else ApplicationStatus.REJECTED
        application.decided_at = call.closes_at + dt.timedelta(days=20)
        application.decided_by = "demo"
        application.decision_note = (
            "Bienvenue dans la promotion\u00a0!" if rank < 5 else "Merci pour votre candidature."
        )
    return min(5, len(ranked))


def load(settings: Settings, db: Database) -> None:
    """The `campus demo` loader of programmes, calls, applications and reviews."""
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(Programme)):
            return
        generate(session)
