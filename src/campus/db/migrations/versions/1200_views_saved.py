"""views: saved custom views (a researcher's ViewDefinition under a name, never changed)

Revision ID: 1200_views_saved
Revises:
Create Date: 2026-12-07 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "1200_views_saved"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("views",)
depends_on: str | Sequence[str] | None = "0001_foundation"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "views_saved",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_views_saved")),
        sa.UniqueConstraint("key", name=op.f("uq_views_saved_key")),
    )
    op.create_index(op.f("ix_views_saved_owner_id"), "views_saved", ["owner_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_views_saved_owner_id"), table_name="views_saved")
    op.drop_table("views_saved")
