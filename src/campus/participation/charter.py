"""The participation charter: shown, and accepted once per version, before a first contribution."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import Conflict
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.participation.models import CharterAcceptance

VERSION = "2026-11"
ARTICLES = (
    N_("Speak about ideas, not people: no insults, threats or harassment."),
    N_(
        "Never publish health information about yourself or anyone else: no names, "
        "diagnoses, record numbers or dates of care."
    ),
    N_("Stay on the consultation's subject and keep proposals concrete."),
    N_("No advertising, no links to unrelated sites, no copied content you do not own."),
    N_(
        "Anyone signed in can report a contribution. Past a threshold it is hidden until a "
        "moderator decides; the author sees the moderator's reason."
    ),
    N_(
        "Your name is shown with your contributions. Your supports are counted; who "
        "supported what is not published."
    ),
)


def articles() -> list[str]:
    return [_(article) for article in ARTICLES]


def has_accepted(session: Session, account_id: str | None) -> bool:
    if not account_id:
        return False
    row = session.get(CharterAcceptance, account_id)
    return row is not None and row.version == VERSION


def accept(session: Session, actor: Actor) -> CharterAcceptance:
    """Record that the actor accepted the current charter (idempotent)."""
    assert actor.account_id
    row = session.get(CharterAcceptance, actor.account_id)
    if row is not None and row.version == VERSION:
        return row
    if row is None:
        row = CharterAcceptance(account_id=actor.account_id, version=VERSION)
        session.add(row)
    else:
        row.version, row.accepted_at = VERSION, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="charter.accepted",
        object_type="account",
        object_id=actor.account_id,
        details={"version": VERSION},
    )
    return row


def require(session: Session, actor: Actor) -> None:
    """Refuse a contribution until the current charter is accepted."""
    if not has_accepted(session, actor.account_id):
        raise Conflict(
            _("accept the participation charter before your first contribution"),
            code="charter_not_accepted",
        )
