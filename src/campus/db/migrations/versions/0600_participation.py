"""participation: consultations, proposals, comments, supports, reports, charter

Revision ID: 0600_participation
Revises:
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import campus.db.base

revision: str = "0600_participation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("participation",)
depends_on: str | Sequence[str] | None = "0001_foundation"


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("subject_title", sa.String(length=300), nullable=False),
        sa.Column("opens_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contributions_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voting_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("results_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", campus.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("supports_per_person", sa.Integer(), nullable=False),
        sa.Column("report_threshold", sa.Integer(), nullable=False),
        sa.Column("proposals_per_hour", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "opens_at <= contributions_at AND contributions_at <= voting_at "
            "AND voting_at < results_at",
            name=op.f("ck_consultations_phase_order"),
        ),
        sa.CheckConstraint(
            "report_threshold >= 1", name=op.f("ck_consultations_threshold_positive")
        ),
        sa.CheckConstraint(
            "supports_per_person >= 1", name=op.f("ck_consultations_supports_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_table(
        "consultation_charter_acceptances",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("accepted_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_charter_acceptances_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_consultation_charter_acceptances")),
    )
    op.create_table(
        "consultation_participants",
        sa.Column("consultation_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("supports_used", sa.Integer(), nullable=False),
        sa.Column("joined_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_participants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_participants_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "account_id", name=op.f("pk_consultation_participants")
        ),
    )
    op.create_table(
        "consultation_proposals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("consultation_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", campus.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("moderation", sa.String(length=10), nullable=False),
        sa.Column("moderation_reason", sa.Text(), nullable=False),
        sa.Column("moderated_at", campus.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_proposals_author_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_proposals_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_proposals")),
    )
    with op.batch_alter_table("consultation_proposals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_proposals_author_created", ["author_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_proposals_consultation_id"),
            ["consultation_id"],
            unique=False,
        )

    op.create_table(
        "consultation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("consultation_id", sa.String(length=32), nullable=False),
        sa.Column("reporter_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_reports_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_reports_reporter_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_reports")),
        sa.UniqueConstraint(
            "target_type",
            "target_id",
            "reporter_id",
            name=op.f("uq_consultation_reports_target_type"),
        ),
    )
    with op.batch_alter_table("consultation_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_reports_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            "ix_consultation_reports_reporter_created", ["reporter_id", "created_at"], unique=False
        )

    op.create_table(
        "consultation_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("proposal_id", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("stance", sa.String(length=10), nullable=False),
        sa.Column("moderation", sa.String(length=10), nullable=False),
        sa.Column("moderation_reason", sa.Text(), nullable=False),
        sa.Column("moderated_at", campus.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_comments_author_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["consultation_comments.id"],
            name=op.f("fk_consultation_comments_parent_id_consultation_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["consultation_proposals.id"],
            name=op.f("fk_consultation_comments_proposal_id_consultation_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_comments")),
    )
    with op.batch_alter_table("consultation_comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_comments_author_created", ["author_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_comments_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "consultation_supports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.String(length=32), nullable=False),
        sa.Column("proposal_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", campus.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_supports_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_supports_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["consultation_proposals.id"],
            name=op.f("fk_consultation_supports_proposal_id_consultation_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_supports")),
        sa.UniqueConstraint(
            "proposal_id", "account_id", name=op.f("uq_consultation_supports_proposal_id")
        ),
    )
    with op.batch_alter_table("consultation_supports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_supports_consultation_id"),
            ["consultation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_supports_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consultation_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_supports_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_supports_consultation_id"))

    op.drop_table("consultation_supports")
    with op.batch_alter_table("consultation_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_comments_proposal_id"))
        batch_op.drop_index("ix_consultation_comments_author_created")

    op.drop_table("consultation_comments")
    with op.batch_alter_table("consultation_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_reports_reporter_created")
        batch_op.drop_index(batch_op.f("ix_consultation_reports_consultation_id"))

    op.drop_table("consultation_reports")
    with op.batch_alter_table("consultation_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_proposals_consultation_id"))
        batch_op.drop_index("ix_consultation_proposals_author_created")

    op.drop_table("consultation_proposals")
    op.drop_table("consultation_participants")
    op.drop_table("consultation_charter_acceptances")
    op.drop_table("consultations")
