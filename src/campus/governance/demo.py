"""Demo data of the trusted research environment, on the warehouse's `hopital-synthea`:
the project "Parcours de soins post-AVC" (id `demo-project`) with an approved request and a
request pending review; and a second project whose request was refused. Its released job
is analysis's demo (`campus.analysis.demo`, loaded after this one)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.engine import Database
from campus.governance import service
from campus.governance.models import DataProject
from campus.settings import Settings

DATASET = "hopital-synthea"
PROJECT_ID = "demo-project"
RESEARCHER = "chercheuse@campus.example"
REVIEWERS = ("ethique1@campus.example", "ethique2@campus.example")
# The demo's output checkers, who release the demo project's jobs (analysis's, evaluation's).
CHECKERS = ("checker1@campus.example", "checker2@campus.example")


def demo_actor(session: Session, email: str) -> Actor:
    """A demo account as the actor it signs in as (the demos of the project's jobs too)."""
    account = auth.find_account(session, email)
    if account is None:
        raise RuntimeError(f"demo account {email} is missing: load the accounts first")
    return auth.actor_for(account, "session")


def _project(session: Session, researcher: Actor, **fields) -> DataProject:
    existing = session.get(DataProject, fields.get("id") or "")
    if existing is not None:
        return existing
    return service.create_project(session, researcher, service.ProjectIn(**fields))


def load(settings: Settings, db: Database) -> None:
    """Create the demo projects and their decisions."""
    with db.session() as session:
        if session.get(DataProject, PROJECT_ID) is not None:
            return  # already loaded
        researcher = demo_actor(session, RESEARCHER)
        project = _project(
            session,
            researcher,
            id=PROJECT_ID,
            title="Parcours de soins post-AVC",
            lead_org_id="chu-paris-demo",
            lead_org_name="CHU de Paris (démo)",
            partners=(("labo-epidemio-demo", "Laboratoire d'épidémiologie (démo)"),),
            purpose=(
                "Décrire les parcours de soins des patients après un accident vasculaire "
                "cérébral pour réduire les ruptures de suivi."
            ),
            summary_fr=(
                "Nous étudions, à partir de données pseudonymisées, ce qui se passe pour les "
                "patients dans l'année qui suit un AVC : consultations, rééducation, "
                "réhospitalisations."
            ),
            summary_en=(
                "From pseudonymised data, we study what happens to patients in the year "
                "after a stroke: visits, rehabilitation, readmissions."
            ),
            legal_basis="mr-004",
            expected_benefits="Un suivi plus régulier et moins de réhospitalisations évitables.",
            data_controller="CHU de Paris (démo)",
            starts_on=dt.date(2026, 1, 5),
            ends_on=dt.date(2027, 12, 31),
            cnil_number="MR004-2026-0142",
        )
        approved = service.create_request(
            session,
            researcher,
            project,
            datasets=[DATASET],
            views=["patient_demographics", "conditions"],
            duration_days=365,
            justification="Décrire la population et les diagnostics du parcours post-AVC.",
        )
        service.submit_request(session, settings, researcher, approved)
        approved_id = approved.id
    for email in REVIEWERS:
        with db.session() as session:
            service.decide(
                session,
                settings,
                demo_actor(session, email),
                service.get_request(session, approved_id),
                decision="approve",
                comment="Finalité claire, données minimisées.",
                conditions="Pas de croisement avec d'autres sources.",
            )
    with db.session() as session:
        researcher = demo_actor(session, RESEARCHER)
        project = service.get_project(session, PROJECT_ID)
        pending = service.create_request(
            session,
            researcher,
            project,
            datasets=[DATASET],
            views=["encounters", "procedures"],
            duration_days=180,
            justification="Ajouter les séjours et actes pour mesurer la rééducation.",
        )
        service.submit_request(session, settings, researcher, pending)
        other = _project(
            session,
            researcher,
            id="demo-readmissions",
            title="Prédiction des réhospitalisations",
            lead_org_id="startup-demo",
            lead_org_name="Start-up IA (démo)",
            purpose="Entraîner un modèle de prédiction des réhospitalisations.",
            summary_fr="Un modèle prédit le risque de réhospitalisation à 30 jours.",
            summary_en="A model predicts the 30-day readmission risk.",
            legal_basis="cnil-cesrees",
            starts_on=dt.date(2026, 9, 1),
            cesrees_number="CESREES-2026-318",
            expected_benefits="Anticiper les sorties d'hôpital fragiles.",
        )
        refused = service.create_request(
            session,
            researcher,
            other,
            datasets=[DATASET],
            views=["patient_demographics", "encounters", "observations", "conditions"],
            duration_days=1095,
            justification="Toutes les données disponibles pour entraîner le modèle.",
        )
        service.submit_request(session, settings, researcher, refused)
        refused_id = refused.id
    for email in REVIEWERS:
        with db.session() as session:
            service.decide(
                session,
                settings,
                demo_actor(session, email),
                service.get_request(session, refused_id),
                decision="refuse",
                comment="Demande trop large : aucune minimisation, durée excessive.",
            )
