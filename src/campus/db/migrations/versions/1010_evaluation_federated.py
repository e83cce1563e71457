"""evaluation: a submission evaluated at a federated dataset's nodes (the federated job that
carries it)

Revision ID: 1010_evaluation_federated
Revises: 1000_evaluation
Create Date: 2026-12-07 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1010_evaluation_federated"
down_revision: str | None = "1000_evaluation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("eval_submissions") as batch:
        batch.add_column(
            sa.Column("federated_dataset", sa.String(length=64), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("federated_job_id", sa.String(length=32), server_default="", nullable=False)
        )
        batch.create_index(
            batch.f("ix_eval_submissions_federated_job_id"), ["federated_job_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("eval_submissions") as batch:
        batch.drop_index(batch.f("ix_eval_submissions_federated_job_id"))
        batch.drop_column("federated_job_id")
        batch.drop_column("federated_dataset")
