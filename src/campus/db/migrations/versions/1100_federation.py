"""federation: hospital nodes, their credentials, federated datasets, jobs and signed tasks

Revision ID: 1100_federation
Revises:
Create Date: 2026-12-07 05:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "1100_federation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("federation",)
# A federated job lives inside a data project's approval, next to ordinary analysis jobs.
depends_on: str | Sequence[str] | None = ("0700_governance", "0800_analysis")

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
WHEN = campus.db.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "fed_nodes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_nodes")),
        sa.UniqueConstraint("name", name=op.f("uq_fed_nodes_name")),
    )
    op.create_table(
        "fed_credentials",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        _fk("fed_credentials", "node_id", "fed_nodes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_credentials")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_fed_credentials_token_hash")),
    )
    op.create_index(op.f("ix_fed_credentials_node_id"), "fed_credentials", ["node_id"])
    op.create_table(
        "fed_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("members", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_fed_datasets_name")),
    )
    op.create_table(
        "fed_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("approval_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("release_status", sa.String(length=20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("pooled_at", WHEN, nullable=True),
        sa.Column("released_at", WHEN, nullable=True),
        _fk("fed_jobs", "approval_id", "gov_approvals"),
        _fk("fed_jobs", "project_id", "gov_projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_jobs")),
    )
    op.create_index(op.f("ix_fed_jobs_project_id"), "fed_jobs", ["project_id"])
    op.create_table(
        "fed_tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answer", JSON, nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        _fk("fed_tasks", "job_id", "fed_jobs"),
        _fk("fed_tasks", "node_id", "fed_nodes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_tasks")),
        sa.UniqueConstraint("job_id", "node_id", name=op.f("uq_fed_tasks_job_id")),
    )
    op.create_index(op.f("ix_fed_tasks_job_id"), "fed_tasks", ["job_id"])
    op.create_index(op.f("ix_fed_tasks_node_id"), "fed_tasks", ["node_id"])
    op.create_table(
        "fed_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("checker_id", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        _fk("fed_checks", "job_id", "fed_jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_checks")),
        sa.UniqueConstraint("job_id", "checker_id", name=op.f("uq_fed_checks_job_id")),
    )


def downgrade() -> None:
    op.drop_table("fed_checks")
    op.drop_table("fed_tasks")
    op.drop_table("fed_jobs")
    op.drop_table("fed_datasets")
    op.drop_index(op.f("ix_fed_credentials_node_id"), table_name="fed_credentials")
    op.drop_table("fed_credentials")
    op.drop_table("fed_nodes")
