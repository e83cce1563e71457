"""Alembic environment: migrations run against the URL given by campus.db.migrate."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from campus.site.models import metadata

config = context.config


def run() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
