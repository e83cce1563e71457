"""warehouse: scheduled pulls queued by the job worker

Revision ID: 0220_warehouse_pull_runs
Revises: 0210_warehouse_pull
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "0220_warehouse_pull_runs"
down_revision: str | None = "0210_warehouse_pull"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = campus.db.base.UTCDateTime(timezone=True)
ACTIVE = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table(
        "warehouse_pull_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("slot", WHEN, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("outcome", JSON, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["warehouse_datasets.id"],
            name=op.f("fk_warehouse_pull_runs_dataset_id_warehouse_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_pull_runs")),
        sa.UniqueConstraint("dataset_id", "slot", name=op.f("uq_warehouse_pull_runs_dataset_id")),
    )
    op.create_index(
        op.f("ix_warehouse_pull_runs_dataset_id"), "warehouse_pull_runs", ["dataset_id"]
    )
    op.create_index(
        "ix_warehouse_pull_runs_active",
        "warehouse_pull_runs",
        ["dataset_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_warehouse_pull_runs_active", table_name="warehouse_pull_runs")
    op.drop_index(op.f("ix_warehouse_pull_runs_dataset_id"), table_name="warehouse_pull_runs")
    op.drop_table("warehouse_pull_runs")
