"""Data versions move with every committed write to their tables, whatever writes it, and
the directory's cached result table follows them."""

import re

from sqlalchemy import inspect, text

from campus.auth.actor import SYSTEM
from campus.db import versions
from campus.ecosystem.directory import pages as directory_pages
from campus.ecosystem.directory import service
from tests.helpers import make_account


def _version(db) -> int:
    with db.session() as session:
        return versions.current(session, "directory")


def test_every_table_of_a_group_has_its_version_triggers(db):
    with db.engine.connect() as connection:
        if db.is_postgresql:
            rows = connection.execute(
                text(
                    "SELECT event_object_table FROM information_schema.triggers "
                    "WHERE trigger_name LIKE '%bumps_directory'"
                )
            )
        else:
            rows = connection.execute(
                text("SELECT tbl_name FROM sqlite_master WHERE name LIKE '%bumps_directory'")
            )
        tables = {row[0] for row in rows}
        assert tables == set(versions.GROUPS["directory"])
        assert set(versions.GROUPS["directory"]) <= set(inspect(connection).get_table_names())


def test_a_committed_write_moves_the_version_and_a_rolled_back_one_does_not(db):
    before = _version(db)
    with db.session() as session:
        data = {"name": "Cardiolab", "kind": "startup"}
        org = service.create_organisation(session, data, by=SYSTEM)
        if db.is_postgresql:  # the trigger waits for the commit
            assert versions.current(session, "directory") == before
    after_insert = _version(db)
    assert after_insert > before
    try:
        with db.session() as session:
            session.execute(text("UPDATE organisations SET city = 'Lyon'"))
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert _version(db) == after_insert
    with db.engine.begin() as connection:  # raw SQL, outside the ORM, moves it too
        connection.execute(
            text("UPDATE organisations SET city = 'Lyon' WHERE id = :id"), {"id": org.id}
        )
    after_update = _version(db)
    assert after_update > after_insert
    if db.is_postgresql:  # TRUNCATE empties the tables without a row trigger: it moves too
        with db.engine.begin() as connection:
            connection.execute(text("TRUNCATE organisations CASCADE"))
        assert _version(db) > after_update


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/organisations/[^"]+">([^<]+)</a>', page)


def test_the_directory_result_table_is_rendered_once_and_redrawn_after_a_write(client, db):
    with db.session() as session:
        service.create_organisation(session, {"name": "Cardiolab", "kind": "startup"}, by=SYSTEM)
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")
    cache = directory_pages.RESULTS
    renders = cache.renders
    first = client.get("/directory?q=cardio")
    assert first.status_code == 200 and _names(first.text) == ["Cardiolab"]
    again = client.get("/directory?q=cardio")
    assert _names(again.text) == ["Cardiolab"] and cache.renders == renders + 1
    english = client.get("/directory?q=cardio", headers={"accept-language": "en"})
    assert "Results" in english.text and cache.renders == renders + 2  # one per language
    with db.session() as session:
        org = service.search_directory(session, query="cardio").items[0]
        service.update_organisation(
            session,
            service.get_organisation(session, org["slug"]),
            {"name": "Cardiolab Santé"},
            by=SYSTEM,
        )
    changed = client.get("/directory?q=cardio")
    assert _names(changed.text) == ["Cardiolab Santé"] and cache.renders == renders + 3


def test_what_the_cached_table_shows_does_not_depend_on_who_asks(client, db):
    with db.session() as session:
        service.create_organisation(session, {"name": "Cardiolab", "kind": "startup"}, by=SYSTEM)
    make_account(db, "a@example.org", "member", name="Alice Alpha")
    make_account(db, "b@example.org", "staff", name="Bob Beta")
    client.login("a@example.org")
    alice = client.get("/directory?q=cardio").text
    client.login("b@example.org")
    bob = client.get("/directory?q=cardio").text
    assert "Alice Alpha" not in bob
    assert _names(alice) == _names(bob) == ["Cardiolab"]
