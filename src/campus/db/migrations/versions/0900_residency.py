"""residency: residencies, renewals, waiting list, sponsorships and their meetings

Revision ID: 0900_residency
Revises:
Create Date: 2026-12-07 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "0900_residency"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("residency",)
# Residencies belong to organisations and name the hosting application that admitted them.
depends_on: str | Sequence[str] | None = ("0500_ecosystem_directory", "0520_ecosystem_programmes")

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
WHEN = campus.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "residencies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("contract_ref", sa.String(length=80), nullable=False),
        sa.Column("monthly_fee_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("exited_on", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(length=30), nullable=False),
        sa.Column("exit_note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_residencies_dates")),
        sa.CheckConstraint("monthly_fee_cents >= 0", name=op.f("ck_residencies_fee")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["programme_applications.id"],
            name=op.f("fk_residencies_application_id_programme_applications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_residencies_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residencies")),
        sa.UniqueConstraint("application_id", name=op.f("uq_residencies_application_id")),
    )
    for column in ("exited_on", "organisation_id", "starts_on", "status"):
        op.create_index(op.f(f"ix_residencies_{column}"), "residencies", [column])
    op.create_table(
        "residency_renewals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("residency_id", sa.String(length=32), nullable=False),
        sa.Column("previous_ends_on", sa.Date(), nullable=False),
        sa.Column("new_ends_on", sa.Date(), nullable=False),
        sa.Column("monthly_fee_cents", sa.Integer(), nullable=False),
        sa.Column("contract_ref", sa.String(length=80), nullable=False),
        sa.Column("renewed_by", sa.String(length=200), nullable=False),
        sa.Column("renewed_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["residency_id"],
            ["residencies.id"],
            name=op.f("fk_residency_renewals_residency_id_residencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residency_renewals")),
    )
    op.create_index(
        op.f("ix_residency_renewals_residency_id"), "residency_renewals", ["residency_id"]
    )
    op.create_table(
        "residency_waiting_list",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("desks_needed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["programme_applications.id"],
            name=op.f("fk_residency_waiting_list_application_id_programme_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_residency_waiting_list_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residency_waiting_list")),
        sa.UniqueConstraint(
            "application_id", name=op.f("uq_residency_waiting_list_application_id")
        ),
    )
    for column in ("organisation_id", "status"):
        op.create_index(
            op.f(f"ix_residency_waiting_list_{column}"), "residency_waiting_list", [column]
        )
    op.create_table(
        "sponsorships",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("startup_id", sa.String(length=32), nullable=False),
        sa.Column("sponsor_id", sa.String(length=32), nullable=False),
        sa.Column("mentor_account_id", sa.String(length=32), nullable=True),
        sa.Column("mentor_name", sa.String(length=200), nullable=False),
        sa.Column("objectives", JSON, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcomes", JSON, nullable=False),
        sa.Column("startup_rating", sa.Integer(), nullable=True),
        sa.Column("startup_comment", sa.Text(), nullable=False),
        sa.Column("sponsor_rating", sa.Integer(), nullable=True),
        sa.Column("sponsor_comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "sponsor_rating IS NULL OR sponsor_rating BETWEEN 1 AND 5",
            name=op.f("ck_sponsorships_pr"),
        ),
        sa.CheckConstraint("startup_id <> sponsor_id", name=op.f("ck_sponsorships_two_sides")),
        sa.CheckConstraint(
            "startup_rating IS NULL OR startup_rating BETWEEN 1 AND 5",
            name=op.f("ck_sponsorships_sr"),
        ),
        sa.ForeignKeyConstraint(
            ["mentor_account_id"],
            ["accounts.id"],
            name=op.f("fk_sponsorships_mentor_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sponsor_id"],
            ["organisations.id"],
            name=op.f("fk_sponsorships_sponsor_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["startup_id"],
            ["organisations.id"],
            name=op.f("fk_sponsorships_startup_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorships")),
    )
    for column in ("mentor_account_id", "sponsor_id", "startup_id", "status"):
        op.create_index(op.f(f"ix_sponsorships_{column}"), "sponsorships", [column])
    op.create_table(
        "sponsorship_meetings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sponsorship_id", sa.String(length=32), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("logged_by", sa.String(length=200), nullable=False),
        sa.Column("logged_side", sa.String(length=20), nullable=False),
        sa.Column("logged_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["sponsorship_id"],
            ["sponsorships.id"],
            name=op.f("fk_sponsorship_meetings_sponsorship_id_sponsorships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorship_meetings")),
    )
    op.create_index(
        op.f("ix_sponsorship_meetings_sponsorship_id"), "sponsorship_meetings", ["sponsorship_id"]
    )


def downgrade() -> None:
    for table in (
        "sponsorship_meetings",
        "sponsorships",
        "residency_waiting_list",
        "residency_renewals",
        "residencies",
    ):
        op.drop_table(table)
