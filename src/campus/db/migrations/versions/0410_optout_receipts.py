"""optout: one receipt per filing, so a receipt never tells whether an objection existed

Revision ID: 0410_optout_receipts
Revises: 0400_optout
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0410_optout_receipts"
down_revision: str | None = "0400_optout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "optout_receipts",
        sa.Column("receipt", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key"],
            ["optout_entries.key"],
            name=op.f("fk_optout_receipts_key_optout_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("receipt", name=op.f("pk_optout_receipts")),
    )
    # Every existing objection keeps its first receipt.
    op.execute(
        "INSERT INTO optout_receipts (receipt, key, created_at) "
        "SELECT receipt, key, created_at FROM optout_entries"
    )


def downgrade() -> None:
    op.drop_table("optout_receipts")
