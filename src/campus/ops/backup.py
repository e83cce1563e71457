"""`campus backup DEST` and `campus restore SRC`: the database, every warehouse version, files.

A backup is a folder (owner-only) holding:

    manifest.json            what is inside, each file's SHA-256 and size, and what to keep
                             elsewhere (the keys: named, never copied)
    database.dump            PostgreSQL: `pg_dump --format=custom` (a consistent snapshot)
    database.sqlite          SQLite: the online backup API (a consistent copy while it runs)
    warehouse/<dataset>/versions/<version>/...   every published version, as written
    files/...                the rest of var/ that is data (organisations' logos)

Keys are never in it: `var/secrets/` and every `CAMPUS_*_KEY` stay out, since a backup with
the pseudonym key beside the pseudonymised data would undo the pseudonymisation. The
manifest lists them, to be kept in the secret store and backed up apart.

`restore` checks every hash of the backup before it touches anything, refuses a database that
holds data (or a warehouse that holds versions) unless told `--replace`, then loads the
database, copies the versions back and checks every restored file against the manifest and
every version against its own manifest's sizes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from campus import __version__
from campus.errors import BadRequest, Conflict
from campus.settings import SECRET_NAMES, Settings

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite"
WAREHOUSE = "warehouse"
FILES = "files"
# Under var/: not data (secrets are kept apart; the rest is made again or transient).
NOT_DATA = frozenset({"secrets", "metrics", "log", "logs", "warehouse", "demo-hospital"})
KEPT_UPLOADS = frozenset({"logos"})  # under var/uploads, the rest are staged ingests
KEPT_ELSEWHERE = [
    *(f"CAMPUS_{name.upper()}" for name in SECRET_NAMES),
    "CAMPUS_OIDC_CLIENT_SECRET",
    "CAMPUS_SMTP_PASSWORD",
    "CAMPUS_METRICS_TOKEN",
    "the .env file or the unit's environment (every CAMPUS_* setting)",
    "the TLS certificates and the reverse proxy's configuration",
]


@dataclass
class Report:
    folder: Path
    files: int = 0
    bytes: int = 0
    versions: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _files_under(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump and pg_restore take it (no +driver, no password: the password goes
    in PGPASSWORD, since a command line is visible to every account of the machine)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BadRequest("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise BadRequest(
            f"{command[0]} is not installed: install the PostgreSQL client of the server's "
            "major version (Debian: postgresql-client)"
        )
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)  # noqa: S603
    if done.returncode != 0:
        # pg_* messages name objects, never row values; the URL is not in them.
        raise BadRequest(f"{what} failed: {done.stderr.strip()[-800:]}")


def _timed(report: Report, name: str, started: float) -> None:
    report.seconds[name] = round(time.monotonic() - started, 3)


def backup(settings: Settings, destination: Path) -> Report:
    """Write a backup folder at `destination` (new or empty); see the module docstring."""
    if destination.exists() and any(destination.iterdir()):
        raise Conflict(f"{destination} is not empty: give a new folder for each backup")
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(destination, 0o700)
    report = Report(destination)
    url = settings.db_url
    started = time.monotonic()
    if url.startswith("postgresql"):
        database = {"kind": "postgresql", "file": PG_DUMP}
        target_url, env = _libpq(url)
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={destination / PG_DUMP}",
                f"--dbname={target_url}",
            ],
            "pg_dump",
            env,
        )
    elif url.startswith("sqlite"):
        database = {"kind": "sqlite", "file": SQLITE_COPY}
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(destination / SQLITE_COPY)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        raise BadRequest(f"no backup method for the database {make_url(url).drivername}")
    _timed(report, "database", started)

    started = time.monotonic()
    warehouse = settings.warehouse_path
    if warehouse.is_dir():
        for dataset in sorted(p for p in warehouse.iterdir() if p.is_dir()):
            versions = dataset / "versions"
            if not versions.is_dir():
                continue
            for version in sorted(p for p in versions.iterdir() if p.is_dir()):
                target = destination / WAREHOUSE / dataset.name / "versions" / version.name
                shutil.copytree(version, target, copy_function=shutil.copy2)
                report.versions.append(f"{dataset.name}/{version.name}")
    _timed(report, "warehouse", started)

    started = time.monotonic()
    for path in _data_files(settings):
        relative = path.relative_to(settings.var_dir.resolve())
        target = destination / FILES / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copy2(path, target)
    _timed(report, "files", started)

    started = time.monotonic()
    listed = {}
    for path in _files_under(destination):
        relative = str(path.relative_to(destination))
        size = path.stat().st_size
        listed[relative] = {"sha256": _digest(path), "bytes": size}
        report.files += 1
        report.bytes += size
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "campus_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": database,
        "migrations": _recorded_revisions(url),
        "versions": report.versions,
        "files": listed,
        "keep_elsewhere": KEPT_ELSEWHERE,
        "note": (
            "No key is in this backup. Restoring it needs the same CAMPUS_PSEUDONYM_KEY, "
            "CAMPUS_OPTOUT_KEY and CAMPUS_SECRET_KEY, kept in the secret store and backed up "
            "apart from it."
        ),
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    _timed(report, "hashes", started)
    return report


def _data_files(settings: Settings) -> Iterator[Path]:
    var = settings.var_dir.resolve()
    database = (
        _sqlite_path(settings.db_url).resolve() if settings.db_url.startswith("sqlite") else None
    )
    skipped = {database, *(Path(f"{database}{s}") for s in ("-wal", "-shm", "-journal"))}
    if not var.is_dir():
        return
    for top in sorted(var.iterdir()):
        if top.name in NOT_DATA or top.resolve() == settings.warehouse_path:
            continue
        if top.name == "uploads" and top.is_dir():
            for kept in sorted(top.iterdir()):
                if kept.name in KEPT_UPLOADS and kept.is_dir():
                    yield from _files_under(kept)
            continue
        if top.is_dir():
            yield from _files_under(top)
        elif top.is_file() and top.resolve() not in skipped:
            yield top


def _recorded_revisions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            from alembic.runtime.migration import MigrationContext

            return sorted(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise BadRequest(f"{source} holds no {MANIFEST}: not a Campus backup")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as error:
        raise BadRequest(f"{path} is not valid JSON ({error})") from None
    if manifest.get("format") != FORMAT:
        raise BadRequest(f"{path}: backup format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def verify(source: Path, manifest: dict[str, Any] | None = None) -> list[str]:
    """Every file of a backup against its manifest: missing, changed, or not listed."""
    manifest = manifest or read_manifest(source)
    problems = []
    listed = manifest["files"]
    for relative, expected in sorted(listed.items()):
        path = source / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.stat().st_size != expected["bytes"] or _digest(path) != expected["sha256"]:
            problems.append(f"{relative}: content differs from the manifest")
    for path in _files_under(source):
        relative = str(path.relative_to(source))
        if relative != MANIFEST and relative not in listed:
            problems.append(f"{relative}: not in the manifest")
    return problems


def version_problems(warehouse: Path, versions: list[str], manifest: dict[str, Any]) -> list[str]:
    """Each restored version against the backup's hashes and its own manifest's sizes."""
    problems = []
    for name in versions:
        folder = warehouse / name.split("/")[0] / "versions" / name.split("/")[1]
        prefix = f"{WAREHOUSE}/{name.split('/')[0]}/versions/{name.split('/')[1]}/"
        for relative, expected in manifest["files"].items():
            if not relative.startswith(prefix):
                continue
            path = folder / relative[len(prefix) :]
            if not path.is_file() or _digest(path) != expected["sha256"]:
                problems.append(f"{name}: {relative[len(prefix) :]} differs from the backup")
        own = json.loads((folder / "manifest.json").read_text()).get("sizes", {})
        for relative, size in own.items():
            path = folder / relative
            if not path.is_file() or path.stat().st_size != size:
                problems.append(f"{name}: {relative} does not match the version's manifest")
    return problems


def _database_holds_data(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return bool(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def restore(settings: Settings, source: Path, *, replace: bool = False) -> Report:
    """Load a backup into the configured database and warehouse; see the module docstring."""
    manifest = read_manifest(source)
    report = Report(source, versions=list(manifest["versions"]))
    started = time.monotonic()
    problems = verify(source, manifest)
    if problems:
        raise BadRequest(
            "the backup does not match its manifest, nothing was restored: "
            + "; ".join(problems[:10])
        )
    _timed(report, "verify", started)
    url = settings.db_url
    kind = manifest["database"]["kind"]
    if not url.startswith(kind):
        raise BadRequest(
            f"the backup holds a {kind} database and CAMPUS_DATABASE_URL is "
            f"{make_url(url).get_backend_name()}: restore into the same kind"
        )
    warehouse = settings.warehouse_path
    present = [
        name
        for name in manifest["versions"]
        if (warehouse / name.split("/")[0] / "versions" / name.split("/")[1]).exists()
    ]
    if not replace and (_database_holds_data(url) or present):
        raise Conflict(
            "the database holds tables or the warehouse holds versions of this backup: restore "
            "into an empty database and warehouse, or give --replace to overwrite them"
        )

    started = time.monotonic()
    if kind == "postgresql":
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
        if replace:
            command += ["--clean", "--if-exists"]
        target_url, env = _libpq(url)
        _run([*command, f"--dbname={target_url}", str(source / PG_DUMP)], "pg_restore", env)
    else:
        path = _sqlite_path(url)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        source_db = sqlite3.connect(source / SQLITE_COPY)
        target_db = sqlite3.connect(path)
        try:
            with target_db:
                source_db.backup(target_db)
        finally:
            target_db.close()
            source_db.close()
    _timed(report, "database", started)

    started = time.monotonic()
    for name in manifest["versions"]:
        dataset, version = name.split("/")
        target = warehouse / dataset / "versions" / version
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copytree(source / WAREHOUSE / dataset / "versions" / version, target)
    var = settings.var_dir.resolve()
    for relative in manifest["files"]:
        if relative.startswith(FILES + "/"):
            target = var / relative[len(FILES) + 1 :]
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy2(source / relative, target)
    _timed(report, "warehouse", started)

    started = time.monotonic()
    problems = version_problems(warehouse, manifest["versions"], manifest)
    if problems:
        raise BadRequest("restored versions differ from the backup: " + "; ".join(problems[:10]))
    _timed(report, "check", started)
    report.files = len(manifest["files"])
    return report
