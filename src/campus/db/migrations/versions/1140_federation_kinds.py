"""federation: a federated job's kind (analysis, or another capability's task such as an
evaluation)

Revision ID: 1140_federation_kinds
Revises: 1130_federation_partial
Create Date: 2026-12-07 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1140_federation_kinds"
down_revision: str | None = "1130_federation_partial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fed_jobs") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=40), server_default="analysis", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("fed_jobs") as batch:
        batch.drop_column("kind")
