"""Shared fixtures: one parametrised database fixture runs DB tests on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, inspect, text

from campus.db.engine import Database
from campus.db.migrate import upgrade
from campus.governance.config import governance_settings
from campus.optout.config import optout_settings
from campus.settings import Settings, get_settings
from campus.site.models import metadata

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CAMPUS_SHARED", ROOT.parent / "shared"))
PG_ADMIN_URL = os.environ.get(
    "CAMPUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-" + "x" * 40


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def pytest_collection_modifyitems(config, items):
    """Browser tests carry the `e2e` marker (`-m "not e2e"` skips them). `make test` runs
    with `--dist loadfile`: a file's tests share one worker, so a module that gathers both
    engines' conformance rows compares them in one process."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _fresh_process_settings() -> Iterator[None]:
    """Settings are read once per process (`get_settings`, `governance_settings`,
    `optout_settings`); a test
    that sets CAMPUS_* variables must not see what an earlier test of the same worker
    resolved, whichever file ran before it."""
    get_settings.cache_clear()
    governance_settings.cache_clear()
    optout_settings.cache_clear()
    yield
    get_settings.cache_clear()
    governance_settings.cache_clear()
    optout_settings.cache_clear()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder of test inputs (the Synthea sample, the official SQL on FHIR suite).
    Absent on a fresh clone: its tests are skipped, unless CAMPUS_REQUIRE_SHARED=1 (CI)."""
    if not SHARED.is_dir():
        message = f"the shared folder is absent: {SHARED} (set CAMPUS_SHARED)"
        if os.environ.get("CAMPUS_REQUIRE_SHARED") == "1":
            pytest.fail(message + "; CAMPUS_REQUIRE_SHARED=1 requires it")
        pytest.skip(message)
    return SHARED


@pytest.fixture(scope="session")
def hospital_bundles(tmp_path_factory) -> list[Path]:
    """FHIR R4 Bundles of the synthetic hospital Campus generates (40 patients), for tests
    that need some realistic FHIR data but not the Synthea sample itself."""
    from campus.warehouse import synthetic

    return synthetic.write(tmp_path_factory.mktemp("hospital"), 40)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[str]:
    # Unique per test run and worker, so that concurrent runs never share a database.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:10]
    name = f"campus_t_{run}_{worker_id}".replace("-", "_").lower()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty database: SQLite file or the real PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "campus.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        url = request.getfixturevalue("pg_database")
        database = Database(url)
        with database.engine.begin() as connection:
            existing = set(inspect(connection).get_table_names())
            # Data versions are kept: they only ever grow, so caches keyed by them (per
            # database) never mistake one test's data for another's.
            kept = existing - {"data_versions"}
            tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name in kept)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # A tampering test may have dropped the append-only guard: put it back.
            connection.execute(
                text(
                    "CREATE OR REPLACE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE "
                    "ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
                )
            )
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path, db: Database) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        database_url=db.url,
        secret_key=SecretStr(TEST_SECRET),
        pseudonym_key=SecretStr(TEST_SECRET + "p"),
        optout_key=SecretStr(TEST_SECRET + "o"),
    ).resolve()


@pytest.fixture
def app(settings: Settings, db: Database):
    from campus.site.app import create_app

    return create_app(settings, db)


@pytest.fixture
def client(app):
    from tests.helpers import CampusClient

    with CampusClient(app) as test_client:
        yield test_client


@pytest.fixture
def mailbox(caplog):
    """The mail delivered to the console during the test (see tests.helpers.Mailbox)."""
    import logging

    from tests.helpers import Mailbox

    caplog.set_level(logging.INFO, logger="campus.mail")
    return Mailbox(caplog)
