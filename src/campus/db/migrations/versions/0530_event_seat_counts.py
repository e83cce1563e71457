"""ecosystem: seat counts and the queue's end kept on each event

Revision ID: 0530_event_seat_counts
Revises: 0520_ecosystem_programmes
Create Date: 2026-12-05 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0530_event_seat_counts"
down_revision: str | None = "0520_ecosystem_programmes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("registered_count", "waitlisted_count", "checked_in_count")


def upgrade() -> None:
    for name in COUNTS:
        op.add_column("events", sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "events", sa.Column("queue_tail", campus.db.base.UTCDateTime(timezone=True), nullable=True)
    )
    # Counted once from the registrations already there (campus.ecosystem.events.service,
    # recount_seats, does the same).
    op.execute(
        "UPDATE events SET "
        "registered_count = (SELECT count(*) FROM event_registrations r "
        "WHERE r.event_id = events.id AND r.status = 'registered'), "
        "waitlisted_count = (SELECT count(*) FROM event_registrations r "
        "WHERE r.event_id = events.id AND r.status = 'waitlisted'), "
        "checked_in_count = (SELECT count(*) FROM event_registrations r "
        "WHERE r.event_id = events.id AND r.status = 'registered' "
        "AND r.checked_in_at IS NOT NULL), "
        "queue_tail = (SELECT max(r.queued_at) FROM event_registrations r "
        "WHERE r.event_id = events.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for name in (*COUNTS, "queue_tail"):
            batch.drop_column(name)
