"""Operational database: SQLAlchemy models and Alembic migrations."""
