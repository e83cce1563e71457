"""ecosystem: an event's kind, theme, organiser and speakers; its door's short codes that missed;
reminders sent (one a registration); when a waitlisted registration was told its rank

Revision ID: 0540_event_programme
Revises: 0530_event_seat_counts
Create Date: 2026-12-07 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0540_event_programme"
down_revision: str | None = "0530_event_seat_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column("kind", sa.String(length=20), server_default="conference", nullable=False),
    )
    op.add_column(
        "events", sa.Column("theme", sa.String(length=40), server_default="", nullable=False)
    )
    op.add_column(
        "events", sa.Column("organiser", sa.String(length=200), server_default="", nullable=False)
    )
    op.add_column("events", sa.Column("speakers", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "events", sa.Column("code_misses", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "events",
        sa.Column("code_misses_since", campus.db.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "event_registrations",
        sa.Column("waitlist_mailed_at", campus.db.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "event_reminders",
        sa.Column("registration_id", sa.String(length=32), nullable=False),
        sa.Column("sent_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["event_registrations.id"],
            name=op.f("fk_event_reminders_registration_id_event_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_event_reminders")),
    )


def downgrade() -> None:
    op.drop_table("event_reminders")
    with op.batch_alter_table("event_registrations") as batch:
        batch.drop_column("waitlist_mailed_at")
    with op.batch_alter_table("events") as batch:
        for name in (
            "code_misses_since",
            "code_misses",
            "speakers",
            "organiser",
            "theme",
            "kind",
        ):
            batch.drop_column(name)
