"""evaluation: benchmarks, submitted ONNX models and the output checks of their metrics

Revision ID: 1000_evaluation
Revises:
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "1000_evaluation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("evaluation",)
# A benchmark lives inside a data project's approval (governance), next to its analyses.
depends_on: str | Sequence[str] | None = ("0800_analysis",)

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
WHEN = campus.db.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "eval_benchmarks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("approval_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("eval_benchmarks", "approval_id", "gov_approvals"),
        _fk("eval_benchmarks", "project_id", "gov_projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_benchmarks")),
    )
    op.create_index(op.f("ix_eval_benchmarks_project_id"), "eval_benchmarks", ["project_id"])
    op.create_table(
        "eval_submissions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("benchmark_id", sa.String(length=32), nullable=False),
        sa.Column("submitter_id", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=80), nullable=False),
        sa.Column("card", JSON, nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("model_digest", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("dummy_metrics", JSON, nullable=True),
        sa.Column("metrics", JSON, nullable=True),
        sa.Column("release_status", sa.String(length=20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("released_at", WHEN, nullable=True),
        _fk("eval_submissions", "benchmark_id", "eval_benchmarks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_submissions")),
    )
    op.create_index(op.f("ix_eval_submissions_benchmark_id"), "eval_submissions", ["benchmark_id"])
    op.create_index(op.f("ix_eval_submissions_status"), "eval_submissions", ["status"])
    op.create_index(op.f("ix_eval_submissions_submitter_id"), "eval_submissions", ["submitter_id"])
    op.create_table(
        "eval_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("checker_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        _fk("eval_checks", "submission_id", "eval_submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_checks")),
        sa.UniqueConstraint(
            "submission_id", "checker_id", name=op.f("uq_eval_checks_submission_id")
        ),
    )
    op.create_index(op.f("ix_eval_checks_submission_id"), "eval_checks", ["submission_id"])


def downgrade() -> None:
    op.drop_table("eval_checks")
    op.drop_table("eval_submissions")
    op.drop_table("eval_benchmarks")
