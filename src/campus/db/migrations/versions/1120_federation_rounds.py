"""federation: a task's round (the iterations of a federated logistic regression)

Revision ID: 1120_federation_rounds
Revises: 1110_federation_deadlines
Create Date: 2026-12-07 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1120_federation_rounds"
down_revision: str | None = "1110_federation_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fed_tasks") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_fed_tasks_job_id", type_="unique")
        batch.create_unique_constraint("uq_fed_tasks_job_id", ["job_id", "node_id", "round"])


def downgrade() -> None:
    with op.batch_alter_table("fed_tasks") as batch:
        batch.drop_constraint("uq_fed_tasks_job_id", type_="unique")
        batch.create_unique_constraint("uq_fed_tasks_job_id", ["job_id", "node_id"])
        batch.drop_column("round")
