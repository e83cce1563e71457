"""warehouse: error tolerance and Bulk Data source of a dataset

Revision ID: 0210_warehouse_pull
Revises: 0200_warehouse
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0210_warehouse_pull"
down_revision: str | None = "0200_warehouse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("warehouse_datasets") as batch:
        batch.add_column(
            sa.Column("error_tolerance", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("pull_source", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warehouse_datasets") as batch:
        batch.drop_column("pull_source")
        batch.drop_column("error_tolerance")
