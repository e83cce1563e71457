"""Demo data: a consultation on the data project "Parcours de soins post-AVC" in its voting
phase, with proposals, threaded comments, supports and a pending report; and a closed one with
published results and the campus's answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.participation import charter, moderation, results, service, votes
from campus.participation.models import Consultation
from campus.settings import Settings

STAFF_EMAIL = "admin@campus.example"
CITIZENS = [
    ("citoyen@campus.example", "Chloé Citoyenne"),
    ("patient.avc@campus.example", "Paul Patient"),
    ("aidante@campus.example", "Anne Aidante"),
    ("asso.avc@campus.example", "Association des patients AVC"),
    ("etudiant@campus.example", "Éric Étudiant"),
]
OPEN_TITLE = "Données du parcours de soins post-AVC : vos priorités"
CLOSED_TITLE = "Quelles règles pour la réutilisation des données du campus ?"
DAY = dt.timedelta(days=1)


def _citizens(session: Session) -> list[Actor]:
    actors = []
    for email, name in CITIZENS:
        account = auth.find_account(session, email)
        if account is None:
            account = auth.create_account(
                session, email=email, name=name, password=None, email_verified=True
            )
        actor = auth.actor_for(account, "session")
        charter.accept(session, actor)
        actors.append(actor)
    return actors


def _shift(consultation: Consultation, phase: str) -> None:
    """Move a demo consultation's dates so that it is in `phase` now."""
    now = utcnow()
    offsets = {"contributions": (-20, -10, 5, 20), "voting": (-20, -10, -2, 12)}[phase]
    (
        consultation.opens_at,
        consultation.contributions_at,
        consultation.voting_at,
        consultation.results_at,
    ) = (now + d * DAY for d in offsets)


def _consultation(session: Session, staff: Actor, *, title: str, summary: str, subject: tuple):
    now = utcnow()
    fields = service.ConsultationFields(
        title=title,
        summary=summary,
        subject_type=subject[0],
        subject_id=subject[1],
        subject_title=subject[2],
        opens_at=now - 20 * DAY,
        contributions_at=now - 10 * DAY,
        voting_at=now + 5 * DAY,
        results_at=now + 20 * DAY,
        supports_per_person=3,
        report_threshold=3,
    )
    return service.create_consultation(session, staff, fields)


def _open_consultation(session: Session, settings: Settings, staff: Actor, people: list[Actor]):
    chloe, paul, anne, asso, eric = people
    consultation = _consultation(
        session,
        staff,
        title=OPEN_TITLE,
        summary=(
            "<p>Des hôpitaux du campus veulent étudier le parcours des patients après un "
            "accident vasculaire cérébral (AVC) à partir de données pseudonymisées.</p>"
            "<p>Dites-nous ce qui compte pour vous : quelles questions étudier, quelles "
            "garanties exiger, comment vous tenir informés.</p>"
        ),
        subject=("data_project", "demo-project", "Parcours de soins post-AVC"),
    )
    texts = [
        (
            paul,
            "Étudier le délai entre la sortie de l'hôpital et la rééducation",
            "<p>Beaucoup de patients attendent des semaines avant une place en rééducation. "
            "Mesurer ce délai selon les territoires aiderait à le réduire.</p>",
        ),
        (
            anne,
            "Associer les aidants aux questions de recherche",
            "<p>Les aidants vivent le parcours au quotidien. Un comité d'aidants pourrait "
            "relire les questions de l'étude et ses résultats.</p>",
        ),
        (
            asso,
            "Publier les résultats en langage clair",
            "<p>Chaque résultat publié devrait avoir un résumé <strong>compréhensible par "
            "tous</strong>, diffusé par les associations de patients.</p>",
        ),
        (
            chloe,
            "Rappeler comment s'opposer à l'usage de ses données",
            "<p>Un rappel simple du droit d'opposition, dans les services de neurologie, "
            "avant le début de l'étude.</p>",
        ),
    ]
    proposals = [
        service.create_proposal(session, settings, author, consultation, title=t, body=b)
        for author, t, b in texts
    ]
    first = service.add_comment(
        session,
        settings,
        chloe,
        consultation,
        proposals[0],
        body="Oui, et comparer aussi l'accès à l'orthophonie.",
        stance="for",
    )
    service.add_comment(
        session,
        settings,
        paul,
        consultation,
        proposals[0],
        body="Bonne idée, l'orthophonie est souvent le plus long.",
        stance="for",
        parent_id=first.id,
    )
    service.add_comment(
        session,
        settings,
        eric,
        consultation,
        proposals[1],
        body="Comment choisir les aidants du comité de façon équitable ?",
        stance="neutral",
    )
    rude = service.add_comment(
        session,
        settings,
        eric,
        consultation,
        proposals[2],
        body="Inutile, personne ne lira ces résumés.",
        stance="against",
    )
    moderation.report(
        session,
        settings,
        anne,
        target_type="comment",
        target_id=rude.id,
        reason="Ton méprisant envers les associations.",
    )
    _shift(consultation, "voting")
    session.flush()
    for voter, picks in (
        (chloe, [0, 2]),
        (anne, [1, 2]),
        (asso, [2, 0]),
        (eric, [0]),
    ):
        for index in picks:
            votes.support(session, voter, consultation, proposals[index].id)


def _closed_consultation(session: Session, settings: Settings, staff: Actor, people: list[Actor]):
    chloe, paul, anne, asso, eric = people
    consultation = _consultation(
        session,
        staff,
        title=CLOSED_TITLE,
        summary=(
            "<p>Avant d'ouvrir son environnement de données, le campus a demandé aux "
            "citoyens quelles règles lui semblaient indispensables.</p>"
        ),
        subject=("", "", ""),
    )
    texts = [
        (
            asso,
            "Un registre public de tous les projets",
            "<p>Chaque projet, avec son but, "
            "ses partenaires et ses résultats, doit être listé publiquement.</p>",
        ),
        (
            paul,
            "Aucune donnée individuelle ne sort",
            "<p>Seuls des résultats agrégés et "
            "vérifiés doivent quitter l'environnement sécurisé.</p>",
        ),
        (
            eric,
            "Ouvrir les données brutes aux étudiants",
            "<p>Les étudiants devraient pouvoir "
            "s'entraîner sur les vraies données pour apprendre.</p>",
        ),
    ]
    proposals = [
        service.create_proposal(session, settings, author, consultation, title=t, body=b)
        for author, t, b in texts
    ]
    _shift(consultation, "voting")
    session.flush()
    for voter, picks in ((chloe, [0, 1]), (anne, [0, 1]), (asso, [0]), (paul, [1, 2])):
        for index in picks:
            votes.support(session, voter, consultation, proposals[index].id)
    service.close_early(session, staff, consultation)
    answers = [
        ("accepted", "<p>Le registre public est en ligne : chaque projet y figure.</p>"),
        (
            "accepted",
            "<p>Toute sortie passe par un contrôle du secret statistique et deux "
            "vérificateurs.</p>",
        ),
        (
            "rejected",
            "<p>Les étudiants travaillent sur des jumeaux synthétiques : aucune donnée "
            "réelle ne leur est confiée.</p>",
        ),
    ]
    for proposal, (status, text) in zip(proposals, answers, strict=True):
        results.answer(session, staff, consultation, proposal, status=status, answer_text=text)


def load(settings: Settings, db: Database) -> None:
    """Add the participation demo data (skipped when it is already there)."""
    with db.session() as session:
        if session.scalar(select(Consultation.id).where(Consultation.title == OPEN_TITLE)):
            return
        staff_account = auth.find_account(session, STAFF_EMAIL)
        if staff_account is None:
            raise RuntimeError(f"the demo needs the staff account {STAFF_EMAIL}")
        staff = auth.actor_for(staff_account, "session")
        people = _citizens(session)
        _closed_consultation(session, settings, staff, people)
        _open_consultation(session, settings, staff, people)
