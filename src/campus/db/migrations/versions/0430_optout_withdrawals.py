"""optout: receipts withdrawn by their holder (the receipt and its dates, no identifier key)

Revision ID: 0430_optout_withdrawals
Revises: 0420_optout_throttle
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0430_optout_withdrawals"
down_revision: str | None = "0420_optout_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "optout_withdrawals",
        sa.Column("receipt", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("filed_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("receipt", name=op.f("pk_optout_withdrawals")),
    )


def downgrade() -> None:
    op.drop_table("optout_withdrawals")
