"""Prepared writes skip the ORM and Core hooks that announce actor changes
(campus.auth.changes): `prepare()` refuses a write to the tables those hooks watch."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update

from campus.auth import changes
from campus.auth.models import Account, ApiToken, RoleGrant, WebSession
from campus.db.prepared import CannotPrepare, prepare
from campus.ecosystem.events.models import Event


@pytest.mark.parametrize(
    "statement",
    [
        update(ApiToken).values(revoked_at=None),
        delete(WebSession),
        insert(RoleGrant).values(account_id="a", role="staff"),
        update(Account).values(active=False),
    ],
    ids=["token", "session", "grant", "account"],
)
def test_a_prepared_write_to_a_table_of_the_actor_is_refused(statement):
    assert statement.table.name in changes.TABLES
    with pytest.raises(CannotPrepare, match="announcement of actor changes"):
        prepare(statement)


def test_reads_of_those_tables_and_writes_elsewhere_are_prepared():
    assert prepare(select(ApiToken.id).where(ApiToken.id == "x")).kind == "read"
    assert prepare(update(Event).values(title="x")).kind == "write"
