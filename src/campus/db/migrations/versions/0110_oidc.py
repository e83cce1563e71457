"""oidc: identities at OpenID Connect providers linked to local accounts

Revision ID: 0110_oidc
Revises:
Create Date: 2026-11-29 13:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0110_oidc"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("oidc",)
depends_on: str | Sequence[str] | None = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", campus.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_identities_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_identities_issuer")),
    )
    op.create_index(
        op.f("ix_oidc_identities_account_id"), "oidc_identities", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_oidc_identities_account_id"), table_name="oidc_identities")
    op.drop_table("oidc_identities")
