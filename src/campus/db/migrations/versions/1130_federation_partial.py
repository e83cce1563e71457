"""federation: an approval's permission to complete federated jobs without every node

Revision ID: 1130_federation_partial
Revises: 1120_federation_rounds
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "1130_federation_partial"
down_revision: str | None = "1120_federation_rounds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = campus.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fed_partial",
        sa.Column("approval_id", sa.String(length=32), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("set_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["gov_approvals.id"],
            name=op.f("fk_fed_partial_approval_id_gov_approvals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("approval_id", name=op.f("pk_fed_partial")),
    )


def downgrade() -> None:
    op.drop_table("fed_partial")
