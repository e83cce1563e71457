"""The participant row: created on first action, locked while a person's supports, proposals or
reports change, so that per-person limits hold under concurrent requests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from campus.participation.models import Participant


def lock(session: Session, consultation_id: str, account_id: str) -> Participant:
    """Create the row if missing and lock it until the transaction ends.

    PostgreSQL: `INSERT ... ON CONFLICT DO NOTHING` then `SELECT ... FOR UPDATE`, so two
    requests of one person queue here. SQLite: the insert takes the database write lock,
    which serialises writers just the same.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(Participant)
        .values(consultation_id=consultation_id, account_id=account_id, supports_used=0)
        .on_conflict_do_nothing()
    )
    participant = session.scalar(
        select(Participant)
        .where(
            Participant.consultation_id == consultation_id,
            Participant.account_id == account_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert participant is not None
    return participant
