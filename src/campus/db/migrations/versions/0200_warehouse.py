"""warehouse: datasets and their published versions

Revision ID: 0200_warehouse
Revises:
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "0200_warehouse"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("warehouse",)
depends_on: str | Sequence[str] | None = "0001_foundation"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "warehouse_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_org", sa.String(length=64), nullable=False),
        sa.Column("policy", JSON, nullable=False),
        sa.Column("date_shift", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_warehouse_datasets_name")),
    )
    op.create_table(
        "warehouse_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("resources", sa.BigInteger(), nullable=False),
        sa.Column("patients", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["warehouse_datasets.id"],
            name=op.f("fk_warehouse_versions_dataset_id_warehouse_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_versions")),
        sa.UniqueConstraint("dataset_id", "version", name=op.f("uq_warehouse_versions_dataset_id")),
    )
    op.create_index(
        op.f("ix_warehouse_versions_dataset_id"), "warehouse_versions", ["dataset_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_warehouse_versions_dataset_id"), table_name="warehouse_versions")
    op.drop_table("warehouse_versions")
    op.drop_table("warehouse_datasets")
