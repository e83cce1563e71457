"""optout: the public form's throttle, per client address (keyed hash) and global

Revision ID: 0420_optout_throttle
Revises: 0410_optout_receipts
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0420_optout_throttle"
down_revision: str | None = "0410_optout_receipts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "optout_throttle",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_optout_throttle")),
    )


def downgrade() -> None:
    op.drop_table("optout_throttle")
