"""data versions: a counter per group of tables, moved by triggers, for caches

Revision ID: 0003_data_versions
Revises: 0002_audit_pending
Create Date: 2026-11-29 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_data_versions"
down_revision: str | None = "0002_audit_pending"
branch_labels: str | Sequence[str] | None = None
# The triggers sit on the directory's tables.
depends_on: str | Sequence[str] | None = ("0500_ecosystem_directory",)

GROUPS = {"directory": ("organisations", "people", "memberships")}
OPERATIONS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    for group in GROUPS:
        op.execute(f"INSERT INTO data_versions (name, version) VALUES ('{group}', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION campus_bump_data_version() RETURNS trigger AS $$
            BEGIN
                UPDATE data_versions SET version = version + 1 WHERE name = TG_ARGV[0];
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """
        )
        for group, tables in GROUPS.items():
            for table in tables:
                # Deferred to the commit: the version row is locked only at the very end.
                op.execute(
                    f"CREATE CONSTRAINT TRIGGER {table}_bumps_{group} "
                    f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    f"EXECUTE FUNCTION campus_bump_data_version('{group}')"
                )
                # Constraint triggers do not see TRUNCATE: a statement trigger does.
                op.execute(
                    f"CREATE TRIGGER {table}_truncate_bumps_{group} AFTER TRUNCATE ON {table} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION campus_bump_data_version('{group}')"
                )
    else:
        for group, tables in GROUPS.items():
            for table in tables:
                for operation in OPERATIONS:
                    op.execute(
                        f"CREATE TRIGGER {table}_{operation}_bumps_{group} "
                        f"AFTER {operation.upper()} ON {table} FOR EACH ROW BEGIN "
                        "UPDATE data_versions SET version = version + 1 "
                        f"WHERE name = '{group}'; END"
                    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for group, tables in GROUPS.items():
        for table in tables:
            if postgresql:
                op.execute(f"DROP TRIGGER {table}_bumps_{group} ON {table}")
                op.execute(f"DROP TRIGGER {table}_truncate_bumps_{group} ON {table}")
            else:
                for operation in OPERATIONS:
                    op.execute(f"DROP TRIGGER {table}_{operation}_bumps_{group}")
    if postgresql:
        op.execute("DROP FUNCTION campus_bump_data_version()")
    op.drop_table("data_versions")
