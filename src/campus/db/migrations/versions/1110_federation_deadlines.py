"""federation: node deadlines, a minimum of nodes, the epsilon charged, nodes' catalogues

Revision ID: 1110_federation_deadlines
Revises: 1100_federation
Create Date: 2026-12-07 08:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "1110_federation_deadlines"
down_revision: str | None = "1100_federation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
WHEN = campus.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("fed_jobs") as batch:
        batch.add_column(sa.Column("deadline_at", WHEN, nullable=True))
        batch.add_column(sa.Column("min_nodes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("epsilon", sa.Float(), nullable=False, server_default="0"))
    op.create_table(
        "fed_catalogues",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("catalogue", JSON, nullable=False),
        sa.Column("twin", JSON, nullable=False),
        sa.Column("posted_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["fed_nodes.id"],
            name=op.f("fk_fed_catalogues_node_id_fed_nodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_catalogues")),
        sa.UniqueConstraint("node_id", "dataset", name=op.f("uq_fed_catalogues_node_id")),
    )


def downgrade() -> None:
    op.drop_table("fed_catalogues")
    with op.batch_alter_table("fed_jobs") as batch:
        batch.drop_column("epsilon")
        batch.drop_column("min_nodes")
        batch.drop_column("deadline_at")
