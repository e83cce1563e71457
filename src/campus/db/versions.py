"""Data versions: one counter per group of tables, moved by database triggers on every write.

Whatever is cached from a group's tables (a rendered directory page, say) is keyed by the
group's version: a write anywhere, by any process, through the ORM or raw SQL, moves the
version, and the cached copy is never served again. The triggers are created by migration
0003_data_versions from the groups listed there (migrations are frozen); `GROUPS` below
says the same for readers of the code, and a test checks that both agree with the triggers.

On PostgreSQL the triggers are deferred to the commit: the version row is locked only for
the last instant of a writing transaction, so writers of different rows do not queue for it
while they work. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campus.db.base import Base
from campus.db.engine import read
from campus.db.prepared import prepare

GROUPS: dict[str, tuple[str, ...]] = {
    # What the directory search reads.
    "directory": ("organisations", "people", "memberships"),
}


class DataVersion(Base):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


_CURRENT = prepare(select(DataVersion.version).where(DataVersion.name == bindparam("name")))


def current(session: Session, group: str) -> int:
    """The group's version as this transaction sees it (committed writes only)."""
    if group not in GROUPS:
        raise KeyError(f"no data version group {group!r}")
    return read(session, _CURRENT, {"name": group}).scalar() or 0


def stamp(session: Session, group: str) -> tuple[str, int]:
    """What identifies the group's data for a cache: the database and the group's version
    (a process may serve, or a test suite use, more than one database)."""
    return str(session.get_bind().url), current(session, group)
