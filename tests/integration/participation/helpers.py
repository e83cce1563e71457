"""Factories for participation tests: consultations in a chosen phase, citizens, proposals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from campus.auth import service as auth
from campus.db.base import utcnow
from campus.db.engine import Database
from campus.participation import charter, service
from campus.participation.models import Consultation
from campus.settings import Settings
from tests.helpers import make_account

DAY = dt.timedelta(days=1)
PHASE_OFFSETS = {
    # (opens, contributions, voting, results) relative to now, in days
    "information": (-1, 1, 2, 3),
    "contributions": (-2, -1, 1, 2),
    "voting": (-3, -2, -1, 1),
    "results": (-4, -3, -2, -1),
}


def dates(phase: str) -> dict[str, dt.datetime]:
    now = utcnow()
    names = ("opens_at", "contributions_at", "voting_at", "results_at")
    return {n: now + d * DAY for n, d in zip(names, PHASE_OFFSETS[phase], strict=True)}


def make_consultation(db: Database, phase: str = "contributions", **overrides) -> str:
    with db.session() as session:
        staff = auth.find_account(session, "staff@example.org")
        if staff is None:
            staff_id = make_account(db, "staff@example.org", "staff", name="Sam Staff")
            staff = auth.get_account(session, staff_id)
        actor = auth.actor_for(staff, "session")
        fields = service.ConsultationFields(
            title=overrides.pop("title", "Post-stroke care pathway data"),
            summary=overrides.pop(
                "summary", "<p>How should the campus use post-stroke care data?</p>"
            ),
            subject_type="data_project",
            subject_id="demo-project",
            subject_title="Parcours de soins post-AVC",
            **dates(phase),
            **overrides,
        )
        return service.create_consultation(session, actor, fields).id


def set_phase(db: Database, consultation_id: str, phase: str) -> None:
    with db.session() as session:
        session.execute(
            update(Consultation).where(Consultation.id == consultation_id).values(**dates(phase))
        )


def citizen(db: Database, email: str, *, accept_charter: bool = True, verified: bool = True):
    account_id = make_account(db, email, name=email.split("@")[0].title(), verified=verified)
    with db.session() as session:
        account = auth.get_account(session, account_id)
        actor = auth.actor_for(account, "session")
        if accept_charter and verified:
            charter.accept(session, actor)
    return actor


def body(words: int = 8) -> str:
    return "<p>" + " ".join(["proposal"] * words) + "</p>"


def proposal_with_comment(db: Database, phase: str = "voting") -> tuple[str, str]:
    """A consultation (left in `phase`) with one proposal and one comment on it by two
    citizens; returns the consultation's and the proposal's ids."""
    consultation_id = make_consultation(db, "contributions", title="Dummy twin for patients")
    author = citizen(db, "proposer@example.org")
    commenter = citizen(db, "commenter@example.org")
    with db.session() as session:
        consultation = service.get_consultation(session, consultation_id)
        proposal = service.create_proposal(
            session, Settings(env="test"), author, consultation, title="Open it", body=body()
        )
        service.add_comment(
            session,
            Settings(env="test"),
            commenter,
            consultation,
            proposal,
            body="Agreed",
            stance="for",
        )
        proposal_id = proposal.id
    set_phase(db, consultation_id, phase)
    return consultation_id, proposal_id
