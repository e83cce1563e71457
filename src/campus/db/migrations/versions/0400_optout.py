"""optout: the opt-out registry (keyed hashes of identifiers only)

Revision ID: 0400_optout
Revises:
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0400_optout"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("optout",)
depends_on: str | Sequence[str] | None = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "optout_entries",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("receipt", sa.String(length=24), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_optout_entries")),
        sa.UniqueConstraint("receipt", name=op.f("uq_optout_entries_receipt")),
    )


def downgrade() -> None:
    op.drop_table("optout_entries")
