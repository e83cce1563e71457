"""The restore drill: back up, wipe, restore; the audit chain verifies and every version's
files match, on SQLite and on PostgreSQL (pg_dump and pg_restore on the machine)."""

import hashlib
import json
import os
import shutil
import time

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from campus.audit import service as audit
from campus.db.engine import Database
from campus.ops import backup
from campus.settings import Settings
from tests.conftest import PG_ADMIN_URL, TEST_SECRET, _pg_url
from tests.helpers import audit_events, run_cli
from tests.integration.analysis.setup import approve


def _hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def empty_target(db, tmp_path):
    """Where the drill restores: an empty database of the same kind and an empty var/."""
    if db.url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'campus.db'}"
        return
    name = f"campus_drill_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.slow
def test_restore_drill_backup_wipe_restore_then_audit_verifies_and_versions_match(
    db, settings, world, empty_target, tmp_path, monkeypatch, capsys
):
    approve(db, settings, world)
    logo = settings.var_dir / "uploads" / "logos" / "org-chu.png"
    logo.parent.mkdir(parents=True)
    logo.write_bytes(b"\x89PNG logo")
    events = len(audit_events(db))
    assert events > 5
    warehouse_before = _hashes(settings.warehouse_path)
    assert any(name.endswith("optout_keys.parquet") for name in warehouse_before)

    started = time.monotonic()
    made = run_cli(monkeypatch, settings, "backup", str(tmp_path / "backup"))
    backup_seconds = time.monotonic() - started
    assert made.exit_code == 0, made.output
    folder = tmp_path / "backup"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (
        manifest["versions"] and manifest["database"]["kind"] == db.url.split(":")[0].split("+")[0]
    )
    assert "CAMPUS_PSEUDONYM_KEY" in manifest["keep_elsewhere"]
    # No key in the backup: neither var/secrets nor any key's value in any file.
    assert not any("secrets" in name for name in manifest["files"])
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert TEST_SECRET.encode() not in content
    assert all(not (p.stat().st_mode & 0o077) for p in [folder, *folder.rglob("*")])

    # Wipe: a new, empty database and var/ folder, the same keys.
    restored = Settings(
        env="test",
        var_dir=tmp_path / "restored",
        database_url=empty_target,
        secret_key=settings.secret_key,
        pseudonym_key=settings.pseudonym_key,
        optout_key=settings.optout_key,
    ).resolve()
    shutil.rmtree(settings.warehouse_path)
    started = time.monotonic()
    done = run_cli(monkeypatch, restored, "restore", str(folder))
    restore_seconds = time.monotonic() - started
    assert done.exit_code == 0, done.output

    verified = run_cli(monkeypatch, restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"{events} events verified" in verified.output
    assert _hashes(restored.warehouse_path) == warehouse_before
    assert (restored.var_dir / "uploads" / "logos" / "org-chu.png").read_bytes() == b"\x89PNG logo"
    with capsys.disabled():
        print(
            f"\n[drill {db.url.split(':')[0]}] {events} audit events, "
            f"{len(manifest['versions'])} version(s), {len(manifest['files'])} files: "
            f"backup {backup_seconds:.2f} s, restore {restore_seconds:.2f} s"
        )

    # The restored database is a working one: it takes new audited writes on the chain.
    database = Database(empty_target)
    try:
        with database.session() as session:
            audit.record(session, actor="system", action="drill.done")
        with database.session() as session:
            assert audit.verify(session).checked == events + 1
    finally:
        database.dispose()


def test_restore_refuses_a_backup_whose_files_changed_and_touches_nothing(
    db, settings, tmp_path, monkeypatch
):
    made = run_cli(monkeypatch, settings, "backup", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    changed = manifest["database"]["file"]
    with (tmp_path / "backup" / changed).open("ab") as handle:
        handle.write(b"\0")
    target = Settings(
        env="test",
        var_dir=tmp_path / "elsewhere",
        database_url=f"sqlite:///{tmp_path / 'elsewhere' / 'campus.db'}",
        secret_key=SecretStr(TEST_SECRET),
        pseudonym_key=SecretStr(TEST_SECRET + "p"),
        optout_key=SecretStr(TEST_SECRET + "o"),
    ).resolve()
    refused = run_cli(monkeypatch, target, "restore", str(tmp_path / "backup"))
    assert refused.exit_code == 1
    assert f"{changed}: content differs from the manifest" in refused.output
    assert not (tmp_path / "elsewhere" / "campus.db").exists()
    assert not target.warehouse_path.exists() or not any(target.warehouse_path.iterdir())


def test_restore_refuses_a_database_that_holds_data_without_replace(
    db, settings, tmp_path, monkeypatch
):
    made = run_cli(monkeypatch, settings, "backup", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.output
    refused = run_cli(monkeypatch, settings, "restore", str(tmp_path / "backup"))
    assert refused.exit_code == 1
    assert "--replace" in refused.output
    again = run_cli(monkeypatch, settings, "backup", str(tmp_path / "backup"))
    assert again.exit_code == 1 and "not empty" in again.output
    assert backup.verify(tmp_path / "backup") == []


def test_restore_with_replace_brings_an_embedded_database_back_to_the_backup(
    tmp_path, monkeypatch, sqlite_template
):
    path = tmp_path / "var" / "campus.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    settings = Settings(
        env="test",
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{path}",
        secret_key=SecretStr(TEST_SECRET),
        pseudonym_key=SecretStr(TEST_SECRET + "p"),
        optout_key=SecretStr(TEST_SECRET + "o"),
    ).resolve()
    database = Database(settings.db_url)
    try:
        with database.session() as session:
            audit.record(session, actor="system", action="before.backup")
        assert run_cli(monkeypatch, settings, "backup", str(tmp_path / "b")).exit_code == 0
        with database.session() as session:
            audit.record(session, actor="system", action="after.backup")
        database.dispose()
        done = run_cli(monkeypatch, settings, "restore", "--replace", str(tmp_path / "b"))
        assert done.exit_code == 0, done.output
        with database.session() as session:
            kept = [e.action for e in audit.recent(session)]
            assert kept == ["before.backup"]
            assert audit.verify(session).ok
    finally:
        database.dispose()
