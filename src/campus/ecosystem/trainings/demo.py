"""Demo training catalogue: a dozen trainings of a digital-health campus and their competences.

Their sessions are events: the events demo links part of its year of events to them.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campus.ecosystem.trainings.models import Training

# slug, French title, English title, level, hours, competences
CATALOGUE: list[tuple[str, str, str, str, int, list[str]]] = [
    ("fhir-premiers-pas", "FHIR : premiers pas", "FHIR: first steps", "introductory", 7,
     ["FHIR", "Interopérabilité"]),
    ("sql-on-fhir", "Requêter FHIR avec SQL on FHIR", "Querying FHIR with SQL on FHIR",
     "intermediate", 4, ["FHIR", "SQL", "Analyse de données"]),
    ("rgpd-sante", "RGPD et données de santé", "GDPR and health data", "introductory", 3,
     ["RGPD", "Protection des données"]),
    ("pseudonymisation", "Pseudonymiser un entrepôt de données", "Pseudonymising a data warehouse",
     "advanced", 6, ["Pseudonymisation", "Protection des données", "Sécurité"]),
    ("hds-certification", "Hébergement de données de santé (HDS)", "Health data hosting (HDS)",
     "intermediate", 4, ["HDS", "Sécurité", "Conformité"]),
    ("marquage-ce-dm", "Marquage CE des logiciels dispositifs médicaux",
     "CE marking of medical-device software", "intermediate", 7,
     ["Réglementation DM", "Conformité"]),
    ("ia-clinique", "IA en clinique : évaluer un modèle", "Clinical AI: evaluating a model",
     "advanced", 7, ["Intelligence artificielle", "Évaluation clinique", "Statistiques"]),
    ("essais-cliniques", "Concevoir un essai clinique", "Designing a clinical trial",
     "intermediate", 14, ["Essais cliniques", "Statistiques", "Éthique"]),
    ("financement-amorcage", "Financer une startup en santé", "Funding a health startup",
     "introductory", 3, ["Financement", "Stratégie"]),
    ("acces-remboursement", "Accès au marché et remboursement", "Market access and reimbursement",
     "intermediate", 4, ["Accès au marché", "Économie de la santé"]),
    ("design-patient", "Conception centrée patient", "Patient-centred design", "introductory", 4,
     ["UX design", "Participation des patients"]),
    ("cybersecurite-hopital", "Cybersécurité à l'hôpital", "Cybersecurity in hospitals",
     "intermediate", 7, ["Sécurité", "Gestion de crise"]),
]  # fmt: skip

SUMMARY_FR = (
    "Une formation du campus : {title}. Sessions en petits groupes, "
    "cas pratiques issus des structures membres."
)
SUMMARY_EN = (
    "A campus training: {title}. Small-group sessions with case studies from member organisations."
)


def load_catalogue(session: Session) -> list[Training]:
    """Add the catalogue once; returns the trainings in catalogue order."""
    if session.scalar(select(func.count()).select_from(Training)):
        return list(session.scalars(select(Training).order_by(Training.slug)))
    trainings = [
        Training(
            slug=slug,
            title_fr=title_fr,
            title_en=title_en,
            summary_fr=SUMMARY_FR.format(title=title_fr),
            summary_en=SUMMARY_EN.format(title=title_en),
            level=level,
            duration_hours=hours,
            competences=competences,
        )
        for slug, title_fr, title_en, level, hours, competences in CATALOGUE
    ]
    session.add_all(trainings)
    session.flush()
    return trainings
