"""governance: the register's fields of a project (data controller, dates, CESREES and CNIL
numbers)

Revision ID: 0710_governance_register
Revises: 0700_governance
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0710_governance_register"
down_revision: str | None = "0700_governance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gov_projects") as batch:
        batch.add_column(
            sa.Column("data_controller", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("cesrees_number", sa.String(length=40), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("cnil_number", sa.String(length=40), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("gov_projects") as batch:
        for column in ("cnil_number", "cesrees_number", "ends_on", "starts_on", "data_controller"):
            batch.drop_column(column)
