"""spaces: buildings, floors, rooms, allocations and bookings, never a room given twice

Revision ID: 0910_spaces
Revises:
Create Date: 2026-12-07 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import campus.db.base

revision: str = "0910_spaces"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("spaces",)
# Allocations are given to residencies; a booking may name the event that reserved its room.
depends_on: str | Sequence[str] | None = ("0900_residency", "0510_ecosystem_events")

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
WHEN = campus.db.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "space_buildings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("opens_minute", sa.Integer(), nullable=False),
        sa.Column("closes_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "opens_minute < closes_minute", name=op.f("ck_space_buildings_opening_hours")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space_buildings")),
        sa.UniqueConstraint("code", name=op.f("uq_space_buildings_code")),
    )
    op.create_table(
        "space_floors",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("building_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _fk("space_floors", "building_id", "space_buildings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space_floors")),
    )
    op.create_index(op.f("ix_space_floors_building_id"), "space_floors", ["building_id"])
    op.create_table(
        "space_rooms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("floor_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("equipment", JSON, nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("booking_roles", JSON, nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=False),
        sa.Column("max_days_ahead", sa.Integer(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("partner_price_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_space_rooms_capacity")),
        _fk("space_rooms", "floor_id", "space_floors", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space_rooms")),
        sa.UniqueConstraint("code", name=op.f("uq_space_rooms_code")),
    )
    op.create_index(op.f("ix_space_rooms_floor_id"), "space_rooms", ["floor_id"])
    op.create_index(op.f("ix_space_rooms_kind"), "space_rooms", ["kind"])
    op.create_table(
        "space_allocations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("residency_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("desks", sa.Integer(), nullable=False),
        sa.Column("whole_room", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("desks > 0", name=op.f("ck_space_allocations_desks")),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on > starts_on", name=op.f("ck_space_allocations_dates")
        ),
        _fk("space_allocations", "organisation_id", "organisations", "CASCADE"),
        _fk("space_allocations", "residency_id", "residencies", "CASCADE"),
        _fk("space_allocations", "room_id", "space_rooms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space_allocations")),
    )
    for column in ("organisation_id", "residency_id"):
        op.create_index(op.f(f"ix_space_allocations_{column}"), "space_allocations", [column])
    op.create_index(
        "ix_space_allocations_room_dates", "space_allocations", ["room_id", "starts_on"]
    )
    op.create_table(
        "space_bookings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("series_id", sa.String(length=32), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_space_bookings_times")),
        sa.CheckConstraint("people >= 1", name=op.f("ck_space_bookings_people")),
        _fk("space_bookings", "account_id", "accounts", "SET NULL"),
        _fk("space_bookings", "event_id", "events", "SET NULL"),
        _fk("space_bookings", "organisation_id", "organisations", "SET NULL"),
        _fk("space_bookings", "room_id", "space_rooms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space_bookings")),
    )
    for column in ("account_id", "event_id", "organisation_id", "series_id"):
        op.create_index(op.f(f"ix_space_bookings_{column}"), "space_bookings", [column])
    op.create_index("ix_space_bookings_room_start", "space_bookings", ["room_id", "starts_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Never a room given twice, decided by the database whatever the caller does: two
        # live bookings of one room may not overlap in time ([start, end): back to back is
        # fine), nor two allocations of a whole room in dates. `btree_gist` lets a GiST
        # index compare the room's id with `=` beside the range's `&&`.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE space_bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
            "(room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('confirmed', 'pending'))"
        )
        op.execute(
            "ALTER TABLE space_allocations ADD CONSTRAINT space_allocations_no_overlap "
            "EXCLUDE USING gist (room_id WITH =, "
            "daterange(starts_on, ends_on, '[)') WITH &&) WHERE (whole_room)"
        )


def downgrade() -> None:
    for table in ("space_bookings", "space_allocations", "space_rooms", "space_floors"):
        op.drop_table(table)
    op.drop_table("space_buildings")
