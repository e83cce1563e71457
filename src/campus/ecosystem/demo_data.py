"""A realistic, fictitious French campus generated deterministically from a seed.

About 150 organisations of every kind, 1,600 people with competences and memberships (each
with an account that has no password: they cannot sign in, but events and programmes can
register them), and a year of impact records. A few demo accounts with the documented demo
password are linked to organisations so the pages can be tried. The same seed and reference
date give the same campus. Events, trainings and programmes pick organisations and people
with `pick_organisations` and `pick_people`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import service as auth
from campus.auth.actor import SYSTEM
from campus.auth.models import Account, RoleGrant
from campus.auth.roles import Role, ScopeType
from campus.db.base import new_id
from campus.db.engine import Database
from campus.ecosystem.directory import search, service
from campus.ecosystem.directory.models import (
    Membership,
    Organisation,
    OrganisationKind,
    OrgRole,
    Person,
)
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES
from campus.ecosystem.impact.models import ImpactRecord, ImpactStatus
from campus.settings import Settings

SEED = 2026
PEOPLE = 1600
KIND_COUNTS = {
    OrganisationKind.STARTUP: 70,
    OrganisationKind.COMPANY: 25,
    OrganisationKind.RESEARCH_LAB: 20,
    OrganisationKind.HOSPITAL: 10,
    OrganisationKind.CLINIC: 8,
    OrganisationKind.PUBLIC_AGENCY: 12,
    OrganisationKind.FOUNDING_MEMBER: 5,
}
# Relative size of organisations when people are spread over them.
KIND_WEIGHT = {
    "startup": 6,
    "company": 14,
    "research_lab": 12,
    "hospital": 30,
    "clinic": 10,
    "public_agency": 8,
    "founding_member": 14,
}
CITIES = [
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Lille",
    "Bordeaux",
    "Nantes",
    "Strasbourg",
    "Montpellier",
    "Rennes",
    "Grenoble",
    "Nice",
    "Créteil",
    "Villejuif",
    "Saint-Denis",
    "Évry",
]
TOWNS = [
    "Valmont-sur-Orge",
    "Saint-Aubin-des-Prés",
    "Beaulieu-la-Forêt",
    "Montclar",
    "Roche-Sainte-Anne",
    "Val-d'Essonne",
    "Fontvieille-les-Bains",
    "Clairvaux-le-Haut",
    "Mirebel",
    "Sainte-Cécile-sur-Marne",
]
STARTUP_HEADS = [
    "Cardio", "Neuro", "Onco", "Derma", "Pneumo", "Gluco", "Medi", "Vita", "Immuno", "Géno",
    "Radio", "Pédia", "Ortho", "Psy", "Nutri", "Bio", "Clini", "Hémato", "Uro", "Santé",
]  # fmt: skip
STARTUP_TAILS = [
    "Lab", "Tech", "Sense", "Data", "Care", "IA", "Link", "Scan", "Track", "Flow", "Mind",
    "Pulse", "Logic", "Vision", "Predict",
]  # fmt: skip
FIRST_NAMES = [
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Jade", "Louise", "Zoé",
    "Alice", "Clara", "Juliette", "Anaïs", "Élise", "Margaux", "Nora", "Yasmine", "Amina",
    "Hélène", "Sophie", "Claire", "Aurélie", "Mathilde", "Thomas", "Lucas", "Hugo", "Louis",
    "Nathan", "Jules", "Gabriel", "Arthur", "Mehdi", "Karim", "Antoine", "Julien", "Nicolas",
    "Maxime", "Paul", "Étienne", "François", "Olivier", "Benoît", "Rémi", "Yanis", "Samuel",
    "Théo", "Adrien", "Bastien", "Cédric",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier",
    "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Benali", "Haddad", "Nguyen",
    "Diallo", "Traoré", "Da Silva", "Kowalski", "Rossi", "Lemaire", "Caron",
]  # fmt: skip
# Job titles as (feminine, masculine), agreed with the person's first name.
JOB_TITLES = {
    "startup": [("directrice générale", "directeur général"),
                ("directrice technique", "directeur technique"),
                ("scientifique des données", "scientifique des données"),
                ("cheffe de produit", "chef de produit"),
                ("ingénieure qualité", "ingénieur qualité"),
                ("responsable des affaires réglementaires",) * 2,
                ("développeuse", "développeur"), ("designer UX",) * 2],
    "company": [("directrice de l'innovation", "directeur de l'innovation"),
                ("cheffe de projet", "chef de projet"), ("responsable de l'accès au marché",) * 2,
                ("ingénieure d'affaires", "ingénieur d'affaires"),
                ("responsable des partenariats",) * 2],
    "research_lab": [("chercheuse", "chercheur"),
                     ("directrice de recherche", "directeur de recherche"),
                     ("doctorante", "doctorant"), ("post-doctorante", "post-doctorant"),
                     ("biostatisticienne", "biostatisticien"),
                     ("ingénieure de recherche", "ingénieur de recherche")],
    "hospital": [("médecin",) * 2, ("cardiologue",) * 2, ("oncologue",) * 2,
                 ("cadre de santé",) * 2,
                 ("directrice des systèmes d'information", "directeur des systèmes d'information"),
                 ("responsable de l'entrepôt de données",) * 2,
                 ("pharmacienne", "pharmacien"), ("infirmière", "infirmier")],
    "clinic": [("médecin",) * 2, ("directrice", "directeur"), ("cadre de santé",) * 2,
               ("responsable qualité",) * 2],
    "public_agency": [("chargée de mission", "chargé de mission"),
                      ("cheffe de bureau", "chef de bureau"),
                      ("experte en numérique en santé", "expert en numérique en santé")],
    "founding_member": [("directrice", "directeur"), ("responsable de programme",) * 2,
                        ("chargée de partenariats", "chargé de partenariats")],
}  # fmt: skip
FEMININE_FIRST_NAMES = frozenset(FIRST_NAMES[:24])
KIND_SKILLS = {
    "startup": ["machine_learning", "software_engineering", "ux_design", "data_engineering",
                "medical_imaging", "fhir_interop", "genomics"],
    "company": ["industrialisation", "market_access", "regulatory_affairs", "ce_marking",
                "reimbursement", "procurement", "cybersecurity", "hds_hosting"],
    "research_lab": ["biostatistics", "epidemiology", "genomics", "machine_learning",
                     "clinical_validation", "ethics"],
    "hospital": ["clinical_trials", "patient_recruitment", "care_pathways", "clinical_validation",
                 "medical_imaging", "teaching"],
    "clinic": ["care_pathways", "patient_recruitment", "clinical_trials"],
    "public_agency": ["gdpr_compliance", "reimbursement", "health_economics", "ethics",
                      "regulatory_affairs"],
    "founding_member": ["fundraising", "teaching", "health_economics", "hds_hosting",
                        "market_access"],
}  # fmt: skip
KIND_NEEDS = {
    "startup": ["clinical_trials", "clinical_validation", "regulatory_affairs", "ce_marking",
                "fundraising", "market_access", "reimbursement", "hds_hosting",
                "patient_recruitment"],
    "company": ["machine_learning", "clinical_validation", "data_engineering", "clinical_trials"],
    "research_lab": ["data_engineering", "fundraising", "software_engineering", "fhir_interop"],
    "hospital": ["machine_learning", "data_engineering", "cybersecurity", "fhir_interop",
                 "software_engineering"],
    "clinic": ["software_engineering", "cybersecurity", "ux_design"],
    "public_agency": ["data_engineering", "epidemiology", "fhir_interop"],
    "founding_member": ["machine_learning", "genomics", "epidemiology"],
}  # fmt: skip
INVESTORS = [
    "Fonds Avenir Santé", "Capital Innovation Médicale", "Seine Ventures", "Rhône Angels",
    "Banque publique d'investissement (fictive)", "HealthBridge Partners", "Atlas Seed",
    "Mutuelle Solidaire Invest", "Business Angels Santé", "Eurobio Capital",
]  # fmt: skip
DEMO_LINKS = [
    # (email, name, organisation index in creation order, role in org, with a password)
    ("membre@campus.example", "Marie Membre", 0, OrgRole.MEMBER),
    ("dirigeante@startup.example", "Diane Dirigeante", 0, OrgRole.ADMIN),
    ("chercheuse@campus.example", "Claire Chercheuse", 95, OrgRole.MEMBER),
    ("steward@hopital.example", "Hugo Steward", 115, OrgRole.MEMBER),
]


# The place a name holds, for the organisation's city: "Université de Valmont" is there.
PLACE_OF = {
    "Valmont": "Valmont-sur-Orge",
    "Beaulieu": "Beaulieu-la-Forêt",
    "Pasteur-Montclar": "Montclar",
    "de la Loire": "Nantes",
}
# The first digit of a French phone number by region (01 for Île-de-France and the made-up
# towns, which lie around Paris).
AREA_CODE = {
    "Lyon": 4, "Marseille": 4, "Grenoble": 4, "Nice": 4, "Montpellier": 4,
    "Toulouse": 5, "Bordeaux": 5, "Lille": 3, "Strasbourg": 3, "Nantes": 2, "Rennes": 2,
}  # fmt: skip
ROUND_TITLES = {
    "pre_seed": "Levée de pré-amorçage",
    "seed": "Levée d'amorçage",
    "series_a": "Levée de série A",
    "series_b": "Levée de série B",
}
KIND_PHRASES = {
    "startup": "Start-up installée à {city}",
    "company": "Entreprise installée à {city}",
    "research_lab": "Laboratoire de recherche installé à {city}",
    "hospital": "Établissement hospitalier situé à {city}",
    "clinic": "Clinique située à {city}",
    "public_agency": "Agence publique installée à {city}",
    "founding_member": "Membre fondateur du campus, installé à {city}",
}
ELIDED = tuple("aeiouyàâäéèêëîïôöùûüœh")


def de(name: str) -> str:
    """ "de" before a name, elided before a vowel or a mute h: "d'imagerie", "d'Évry"."""
    return f"d'{name}" if name[:1].lower().startswith(ELIDED) else f"de {name}"


def listed(items: list[str], last: str = "et") -> str:
    """Items joined as a sentence writes them: "a, b et c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


@dataclass
class DemoSummary:
    organisations: int
    people: int
    memberships: int
    impact_records: int


def _organisation_names(rng: random.Random) -> dict[str, list[tuple[str, str | None]]]:
    """Names by kind, each with the city it names (None: the city is drawn)."""
    startups = [h + t for h in STARTUP_HEADS for t in STARTUP_TAILS]
    rng.shuffle(startups)
    surnames = LAST_NAMES[:]
    rng.shuffle(surnames)
    topics = [
        "épidémiologie",
        "imagerie biomédicale",
        "génomique",
        "santé numérique",
        "neurosciences",
        "biostatistique",
        "recherche clinique",
        "intelligence artificielle en santé",
        "santé publique",
        "cancérologie",
    ]
    clinics = (
        "Sainte-Marthe",
        "du Parc",
        "des Tilleuls",
        "Saint-Roch",
        "de la Loire",
        "du Val Fleuri",
        "Pasteur-Montclar",
        "des Cèdres",
        "Saint-Exupère",
        "Bellevue",
    )
    founders = [
        ("Fondation Campus Santé", "Paris"),
        ("Université de Valmont", None),
        ("Institut national de santé numérique (fictif)", "Paris"),
        ("Caisse de santé de Montclar", "Montclar"),
        ("École d'ingénieurs de Mirebel", "Mirebel"),
        ("Mutualité de Beaulieu", None),
    ]
    return {
        "startup": [(name, None) for name in startups],
        "company": [
            (f"{pattern} {name}", None)
            for name in surnames
            for pattern in ("Laboratoires", "Groupe", "Medisys")
        ],
        "research_lab": [
            (f"Laboratoire {de(topic)} {de(city)}", city) for topic in topics for city in CITIES[:4]
        ],
        "hospital": [(f"Centre hospitalier {de(town)}", town) for town in TOWNS]
        + [(f"Hôpital universitaire {de(town)}", town) for town in TOWNS],
        "clinic": [(f"Clinique {name}", None) for name in clinics],
        "public_agency": [
            (f"Agence {what} {de(town)}", town)
            for what in ("régionale de santé", "du numérique en santé")
            for town in TOWNS
        ],
        "founding_member": founders,
    }


def _city_of(name: str, place: str | None, drawn: str) -> str:
    """The city an organisation's name holds, else the one drawn for it."""
    if place:
        return place
    return next((city for key, city in PLACE_OF.items() if key in name), drawn)


def _summary(kind: str, themes: list[str], city: str) -> tuple[str, str]:
    t_fr = listed([THEMES[t][0] for t in themes])
    t_en = listed([THEMES[t][1] for t in themes], "and")
    k_en = KIND_LABELS[kind][1]
    return (
        f"{KIND_PHRASES[kind].format(city=city)}. Thématiques\u00a0: {t_fr}.",
        f"{k_en.capitalize()} in {city}. Themes: {t_en}.",
    )


def _description(expertise: list[str], needs: list[str]) -> str:
    """The presentation, in French only (the English summary is shown to English readers);
    the summary above it on the page says the kind, the city and the themes."""
    text = f"<p>Savoir-faire\u00a0: {listed([SKILLS[s][0] for s in expertise])}."
    if needs:
        text += f" Recherche des partenaires en {listed([SKILLS[s][0] for s in needs])}."
    return text + "</p>"


def _organisations(session: Session, rng: random.Random) -> list[Organisation]:
    names = _organisation_names(rng)
    theme_codes = list(THEMES)
    orgs: list[Organisation] = []
    used_slugs: set[str] = set()
    for kind, count in KIND_COUNTS.items():
        pool = names[kind.value]
        for index in range(count):
            name, place = pool[index % len(pool)]
            name += "" if index < len(pool) else f" {index}"
            city = _city_of(name, place, rng.choice(CITIES))
            themes = rng.sample(theme_codes, rng.randint(1, 3))
            expertise = rng.sample(KIND_SKILLS[kind.value], rng.randint(2, 3))
            needs = [
                s for s in rng.sample(KIND_NEEDS[kind.value], rng.randint(1, 3))
                if s not in expertise
            ]  # fmt: skip
            summary_fr, summary_en = _summary(kind.value, themes, city)
            slug = service.slugify(name)
            while slug in used_slugs:
                slug += "-2"
            used_slugs.add(slug)
            org = Organisation(
                slug=slug,
                name=name,
                kind=kind.value,
                city=city,
                website=f"https://{slug}.example",
                summary_fr=summary_fr,
                summary_en=summary_en,
                description_html=_description(expertise, needs),
                themes=themes,
                expertise=expertise,
                needs=needs,
                contact_email=f"contact@{slug}.example",
                phone=f"+33 {AREA_CODE.get(city, 1)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                headcount=rng.randint(3, 40) * KIND_WEIGHT[kind.value],
                founded_year=rng.randint(1960 if kind != "startup" else 2012, 2025),
            )
            org.search_text = service.organisation_search_text(org)
            orgs.append(org)
    session.add_all(orgs)
    session.flush()
    return orgs


def _people(
    session: Session, rng: random.Random, orgs: list[Organisation]
) -> tuple[list[Person], list[Membership]]:
    weights = [KIND_WEIGHT[o.kind] for o in orgs]
    accounts: list[Account] = []
    people: list[Person] = []
    memberships: list[Membership] = []
    grants: list[RoleGrant] = []
    first_of: set[str] = set()
    skill_codes = list(SKILLS)
    for index in range(PEOPLE):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # Every organisation gets at least one person (its admin), then by weight.
        org = orgs[index] if index < len(orgs) else rng.choices(orgs, weights)[0]
        role = OrgRole.ADMIN if org.id not in first_of else OrgRole.MEMBER
        first_of.add(org.id)
        local = search.fold(f"{first}.{last}").replace(" ", "-")
        email = f"{local}.{index:04d}@{org.slug}.example"
        account = Account(
            id=new_id(),
            email=email,
            name=f"{first} {last}",
            language="fr" if rng.random() < 0.85 else "en",
            password_hash=None,
            email_verified=True,
        )
        accounts.append(account)
        competences = rng.sample(KIND_SKILLS[org.kind], rng.randint(1, 2))
        if rng.random() < 0.3:
            competences.append(rng.choice(skill_codes))
        needs = rng.sample(KIND_NEEDS[org.kind], 1) if rng.random() < 0.4 else []
        person = Person(
            display_name=f"{first} {last}",
            job_title=rng.choice(JOB_TITLES[org.kind])[0 if first in FEMININE_FIRST_NAMES else -1],
            city=org.city,
            competences=sorted(set(competences)),
            expertise=[],
            needs=[n for n in needs if n not in competences],
            contact_email=email,
            visible=rng.random() < 0.95,
            account_id=account.id,
        )
        person.search_text = service.person_search_text(person, [org.name])
        people.append(person)
        memberships.append(Membership(person=person, organisation=org, role=role))
    for account, membership in zip(accounts, memberships, strict=True):
        grants.append(RoleGrant(account_id=account.id, role=Role.MEMBER, granted_by="demo"))
        if membership.role == OrgRole.ADMIN:
            grants.append(
                RoleGrant(
                    account_id=account.id,
                    role=Role.ORG_ADMIN,
                    scope_type=ScopeType.ORGANISATION,
                    scope_id=membership.organisation.id,
                    granted_by="demo",
                )
            )
    session.add_all(accounts)
    session.add_all(people)
    session.add_all(memberships)
    session.add_all(grants)
    session.flush()
    return people, memberships


def _impact(
    session: Session, rng: random.Random, orgs: list[Organisation], reference: dt.date
) -> int:
    hospitals = [o for o in orgs if o.kind in ("hospital", "clinic")]
    partners = [o for o in orgs if o.kind in ("company", "research_lab", "founding_member")]
    companies = [o for o in orgs if o.kind == "company"]
    records: list[ImpactRecord] = []

    def when() -> dt.date:
        return reference - dt.timedelta(days=rng.randint(0, 364))

    def status() -> tuple[str, str]:
        draw = rng.random()
        if draw < 0.85:
            return ImpactStatus.VALIDATED, ""
        if draw < 0.95:
            return ImpactStatus.SUBMITTED, ""
        return ImpactStatus.REJECTED, "Justificatif manquant\u00a0: joignez le communiqué."

    for org in orgs:
        if org.kind != "startup":
            continue
        for _ in range(rng.choice((0, 1, 1, 2))):
            round_ = rng.choice(("pre_seed", "seed", "seed", "series_a", "series_b"))
            base = {"pre_seed": 300, "seed": 1500, "series_a": 8000, "series_b": 25000}[round_]
            state, note = status()
            records.append(
                ImpactRecord(
                    organisation_id=org.id,
                    kind="fundraising",
                    title=ROUND_TITLES[round_],
                    occurred_on=when(),
                    amount=Decimal(base * rng.randint(60, 140)) * 10,
                    currency="EUR" if rng.random() < 0.9 else "USD",
                    round=round_,
                    investors=rng.sample(INVESTORS, rng.randint(1, 3)),
                    status=state,
                    decision_note=note,
                    submitted_by="demo",
                )
            )
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            hospital = rng.choice(hospitals)
            state, note = status()
            records.append(
                ImpactRecord(
                    organisation_id=org.id,
                    kind="contract",
                    title=f"Contrat de déploiement\u00a0: {hospital.name}",
                    occurred_on=when(),
                    amount=Decimal(rng.randint(20, 400) * 1000),
                    currency="EUR",
                    counterpart=hospital.name,
                    counterpart_kind=hospital.kind,
                    status=state,
                    decision_note=note,
                    submitted_by="demo",
                )
            )
        if rng.random() < 0.45:
            partner = rng.choice(partners)
            state, note = status()
            records.append(
                ImpactRecord(
                    organisation_id=org.id,
                    kind="partnership",
                    title=f"Partenariat avec {partner.name}",
                    occurred_on=when(),
                    counterpart=partner.name,
                    counterpart_kind="company" if partner.kind == "company" else "other",
                    status=state,
                    decision_note=note,
                    submitted_by="demo",
                )
            )
        if rng.random() < 0.3:
            state, note = status()
            records.append(
                ImpactRecord(
                    organisation_id=org.id,
                    kind="product_launch",
                    title=f"Lancement {de(org.name)} 2",
                    occurred_on=when(),
                    status=state,
                    decision_note=note,
                    submitted_by="demo",
                )
            )
        if rng.random() < 0.04:
            buyer = rng.choice(companies)
            records.append(
                ImpactRecord(
                    organisation_id=org.id,
                    kind="acquisition",
                    title=f"Rachat par {buyer.name}",
                    occurred_on=when(),
                    counterpart=buyer.name,
                    counterpart_kind="company",
                    status=ImpactStatus.VALIDATED,
                    submitted_by="demo",
                )
            )
    for record in records:
        if record.status != ImpactStatus.SUBMITTED:
            record.decided_by = "demo"
    session.add_all(records)
    session.flush()
    return len(records)


def _link_demo_accounts(session: Session, orgs: list[Organisation], password: str) -> None:
    for email, name, org_index, role in DEMO_LINKS:
        account = auth.find_account(session, email)
        if account is None:
            account = auth.create_account(
                session, email=email, name=name, password=password, email_verified=True
            )
        person = service.ensure_person(session, account)
        org = orgs[min(org_index, len(orgs) - 1)]
        service.add_member(session, org, person, role=role, by=SYSTEM)
    membre = auth.find_account(session, "membre@campus.example")
    if membre is not None:
        person = service.ensure_person(session, membre)
        service.update_person(
            session,
            person,
            {
                "job_title": "cheffe de projet santé numérique",
                "competences": ["software_engineering", "ux_design"],
                "expertise": ["software_engineering"],
                "needs": ["clinical_trials", "regulatory_affairs"],
            },
            by=SYSTEM,
        )


def generate(
    session: Session,
    *,
    seed: int = SEED,
    reference: dt.date | None = None,
    demo_password: str | None = None,
) -> DemoSummary:
    """Fill an empty directory with the demo campus; refuses to run twice."""
    if session.scalar(select(func.count()).select_from(Organisation)):
        raise RuntimeError("the directory already holds organisations: load the demo once")
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
    reference = reference or dt.date.today()
    orgs = _organisations(session, rng)
    people, memberships = _people(session, rng, orgs)
    impact_count = _impact(session, rng, orgs, reference)
    if demo_password:
        _link_demo_accounts(session, orgs, demo_password)
    summary = DemoSummary(len(orgs), len(people), len(memberships), impact_count)
    audit.record(
        session,
        actor="system",
        action="demo.ecosystem_loaded",
        details={
            "organisations": summary.organisations,
            "people": summary.people,
            "impact_records": summary.impact_records,
            "seed": seed,
        },
    )
    return summary


def load(settings: Settings, db: Database) -> None:
    """The `campus demo` loader of the directory, people and impact records."""
    from campus.demo_password import DEMO_PASSWORD

    with db.session() as session:
        if session.scalar(select(func.count()).select_from(Organisation)):
            return
        generate(session, demo_password=DEMO_PASSWORD)


# --- for the other demo loaders (events, trainings, programmes) ----------------------------------


def pick_organisations(
    session: Session, n: int, *, kinds: tuple[str, ...] = (), seed: int = 0
) -> list[Organisation]:
    """n organisations (of the given kinds), chosen deterministically from a seed."""
    query = select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.slug)
    if kinds:
        query = query.where(Organisation.kind.in_(kinds))
    pool = list(session.scalars(query))
    rng = random.Random(seed)  # noqa: S311 - a deterministic pick, not a secret
    return rng.sample(pool, min(n, len(pool)))


def pick_people(
    session: Session, n: int, *, seed: int = 0, with_account: bool = True
) -> list[Person]:
    """n people (with a linked account by default), chosen deterministically from a seed."""
    query = select(Person).order_by(Person.id)
    if with_account:
        query = query.where(Person.account_id.is_not(None))
    pool = sorted(session.scalars(query), key=lambda p: (p.display_name, p.id))
    rng = random.Random(seed)  # noqa: S311 - a deterministic pick, not a secret
    return rng.sample(pool, min(n, len(pool)))
