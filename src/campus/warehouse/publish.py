"""From staged parts to a published version: dedupe, opt-out filter, checks, atomic publish.

Everything is written inside the staging folder; the version appears under `versions/` by one
rename, made under the dataset's lock, after the manifest is written and flushed. A crash at any
moment leaves at most a staging folder, which the next ingest removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from campus.warehouse import layout, messages
from campus.warehouse.parts import IDKEYS_SCHEMA, OPTOUT_SCHEMA
from campus.warehouse.problems import Problem

DETAIL_LIMIT = 200
# How many ids of a type sent several times with different content are located one by one.
CONFLICT_IDS = 5
# The reference check's passes hold at most this many ids each (about 100 MB of hash table):
# its memory stays the same from one million resources to many.
IDS_PER_PASS = 1_000_000
# The options of a published table that finalise rewrites (parts.TABLE_OPTIONS are those of the
# tables it publishes as written). Small row groups: rows hold whole resources, and a row
# group is buffered before it is written. zstd at level 1: on the benchmark's tables, smaller
# and a fifth faster than the default level. No dictionary encoding: the resource texts and ids
# are unique, so building their dictionaries was wasted work (the files came out no larger).
PARQUET = (
    "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, DICTIONARY_SIZE_LIMIT 1, "
    "ROW_GROUP_SIZE 16384, ROW_GROUP_SIZE_BYTES '32MB'"
)


@dataclass
class Finalised:
    counts: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    dropped_optout: int = 0
    problems: list[Problem] = field(default_factory=list)  # conflicts
    conflicts: int = 0
    unresolved: int = 0
    references: list[Problem] = field(default_factory=list)  # the first unresolved ones


def connect(temp: Path, memory: str = "512MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with bounded memory that spills to `temp`."""
    connection = duckdb.connect()
    temp.mkdir(parents=True, exist_ok=True)
    connection.execute(f"SET memory_limit='{memory}'")
    connection.execute(f"SET temp_directory='{temp}'")
    connection.execute("SET preserve_insertion_order=false")
    connection.execute(f"SET threads={max(1, min(2, os.cpu_count() or 1))}")
    return connection


def finalise(
    staging: Path,
    registry: set[str],
    line_offsets: dict[int, int] | None = None,
    places: dict[int, tuple[str, bool]] | None = None,
) -> Finalised:
    """Write real/<Type>/ and optout_keys.parquet from the parts; report conflicts. The
    staged references stay for `check_references`, which reads the published tables.

    `line_offsets` maps a task's index to the lines of its file before it (a chunk of a large
    NDJSON counts its lines from its own start): reported lines are the file's. `places` maps
    a task's index to its file's label and whether it is NDJSON, to locate conflicting copies.
    """
    out = Finalised()
    real = staging / "real"
    real.mkdir()
    con = connect(staging / "tmp")
    con.register("registry_keys", pa.table({"k": pa.array(sorted(registry), pa.string())}))
    offsets = line_offsets or {}
    places = places or {}
    optout_dir = staging / "optout"
    has_optout = optout_dir.is_dir() and any(optout_dir.glob("*.parquet"))
    if has_optout:
        con.execute(
            "CREATE TEMP TABLE opted AS SELECT DISTINCT patient FROM "
            f"read_parquet({_literal(optout_dir / '*.parquet')})"
            " WHERE optout_key IN (SELECT k FROM registry_keys)"
        )
        con.execute(
            "COPY (SELECT DISTINCT optout_key, patient FROM "
            f"read_parquet({_literal(optout_dir / '*.parquet')}) "
            "WHERE patient NOT IN (SELECT patient FROM opted)) "
            f"TO {_literal(staging / 'optout_keys.parquet')} "
            f"({PARQUET})"
        )
    else:
        con.execute("CREATE TEMP TABLE opted (patient VARCHAR)")
        pq.write_table(OPTOUT_SCHEMA.empty_table(), staging / "optout_keys.parquet")
    # The indexed types' conditional keys are kept with the version: an incremental ingest
    # built on it resolves against them what its export names but did not export again.
    idkeys_dir = staging / "idkeys"
    if idkeys_dir.is_dir() and any(idkeys_dir.glob("*.parquet")):
        con.execute(
            "COPY (SELECT DISTINCT conditional_key, type, pseudonym FROM "
            f"read_parquet({_literal(idkeys_dir / '*.parquet')})) "
            f"TO {_literal(staging / 'idkeys.parquet')} ({PARQUET})"
        )
    else:
        pq.write_table(IDKEYS_SCHEMA.empty_table(), staging / "idkeys.parquet")
    parts = staging / "parts"
    late_optout = con.execute("SELECT count(*) FROM opted").fetchone()[0] > 0
    for folder in sorted(parts.iterdir()) if parts.is_dir() else ():
        _finalise_type(con, staging, folder, late_optout, offsets, places, out)
    con.close()
    for scratch in ("parts", "order", "optout", "idkeys", "base_keys"):
        shutil.rmtree(staging / scratch, ignore_errors=True)
    return out


def _finalise_type(
    con,
    staging: Path,
    folder: Path,
    late_optout: bool,
    offsets: dict[int, int],
    places: dict[int, tuple[str, bool]],
    out: Finalised,
) -> None:
    """Publish one type's parts as real/<Type>/: as they are, or rewritten into one file
    when the type has duplicates (the last copy wins) or rows of a patient opted out late."""
    type_name = folder.name
    files = sorted(folder.glob("*.parquet"))
    source = "read_parquet([" + ", ".join(_literal(f) for f in files) + "])"
    # A part's rows with their input order, read from its order file row for row.
    staged = " UNION ALL ".join(
        f"SELECT * FROM read_parquet({_literal(f)}) POSITIONAL JOIN "
        f"read_parquet({_literal(staging / 'order' / type_name / f.name)})"
        for f in files
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dups AS SELECT id, count(*) AS n "
        f"FROM {source} GROUP BY id HAVING count(*) > 1"
    )
    (n_dups,) = con.execute("SELECT coalesce(sum(n - 1), 0) FROM dups").fetchone()
    n_dups = int(n_dups)
    out.duplicates += n_dups
    if n_dups:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE dups AS SELECT p.id, max(p._o) AS keep, "
            f"min(p._o) AS first FROM ({staged}) p SEMI JOIN dups d ON p.id = d.id GROUP BY p.id"
        )
        _report_conflicts(con, type_name, staged, offsets, places, out)
    opted_rows = 0
    if late_optout:
        (opted_rows,) = con.execute(
            f"SELECT count(*) FROM {source} WHERE patient IN (SELECT patient FROM opted)"
        ).fetchone()
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    target = staging / "real" / type_name
    target.mkdir()
    if n_dups or opted_rows:
        upsert = "LEFT JOIN dups d ON p.id = d.id " if n_dups else ""
        last = "(d.id IS NULL OR p._o = d.keep) AND " if n_dups else ""
        con.execute(
            "COPY (SELECT p.id, p.patient, p.effective, p.code, p.resource "
            f"FROM ({staged}) p {upsert}"
            f"WHERE {last}(p.patient IS NULL OR p.patient NOT IN (SELECT patient FROM opted))) "
            f"TO {_literal(target / 'part-0.parquet')} ({PARQUET})"
        )
    else:
        for number, part in enumerate(files):
            os.rename(part, target / f"part-{number}.parquet")
    count = layout.rows(target)
    out.dropped_optout += total - n_dups - count  # distinct ids staged, less those kept
    if count:
        out.counts[type_name] = count
    else:
        shutil.rmtree(target)


def _report_conflicts(
    con,
    type_name: str,
    staged: str,
    offsets: dict[int, int],
    places: dict[int, tuple[str, bool]],
    out: Finalised,
) -> None:
    """Report the ids sent several times with different contents (identical copies are
    not a problem): the first few located one by one, the others counted."""
    conflicting = [
        row[0]
        for row in con.execute(
            f"SELECT p.id FROM ({staged}) p JOIN dups d ON p.id = d.id GROUP BY p.id "
            "HAVING min(hash(p.resource)) <> max(hash(p.resource)) ORDER BY min(d.first)"
        ).fetchall()
    ]
    out.conflicts += len(conflicting)
    for pseudonym in conflicting[:CONFLICT_IDS]:
        copies = [
            row[0]
            for row in con.execute(
                f"SELECT _o FROM ({staged}) WHERE id = ? ORDER BY _o", [pseudonym]
            ).fetchall()
        ]
        out.problems.append(_conflict(type_name, copies, offsets, places))
    if len(conflicting) > CONFLICT_IDS:
        out.problems.append(
            Problem(
                "warning",
                "(dataset)",
                messages.MORE_CONFLICTS.format(
                    count=len(conflicting) - CONFLICT_IDS, type_name=type_name
                ),
                resource_type=type_name,
            )
        )


def _literal(path: Path | str) -> str:
    """A path as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _place(
    order: int, line_offsets: dict[int, int], places: dict[int, tuple[str, bool]]
) -> tuple[str, int | None, int | None]:
    """File, line (NDJSON) and entry (Bundle) of a staged row, from its order: the task's
    index in the high 32 bits, the item's rank in the task (from 1) in the low ones."""
    task, position = order >> 32, order & 0xFFFFFFFF
    label, ndjson = places.get(task, ("(dataset)", False))
    if ndjson:
        return label, position + line_offsets.get(task, 0), None
    return label, None, position - 1


def _conflict(
    type_name: str,
    copies: list[int],
    line_offsets: dict[int, int],
    places: dict[int, tuple[str, bool]],
) -> Problem:
    """One id sent with different contents: located at its first copy, naming the kept one."""
    file, line, entry = _place(copies[0], line_offsets, places)
    kept_file, kept_line, kept_entry = _place(copies[-1], line_offsets, places)
    template = messages.CONFLICT_AT_LINE if kept_line is not None else messages.CONFLICT_AT_ENTRY
    message = template.format(
        type_name=type_name, count=len(copies), file=kept_file, line=kept_line, entry=kept_entry
    )
    return Problem(
        "warning",
        file,
        message,
        line=line,
        entry=entry,
        resource_type=type_name,
    )


def check_references(
    con, staging: Path, out: Finalised, line_offsets: dict[int, int] | None = None
) -> None:
    """Report `Type/id` targets missing from the version (lines shifted by `line_offsets`),
    into `out.unresolved` and `out.references`; the staged references are removed.

    The anti join holds the ids it checks against in a hash table. So that memory does not
    grow with the version, targets and ids are split by a hash of the id into passes of at
    most `IDS_PER_PASS` ids: a target can only be found among the ids of its own pass, so
    each pass checks its share of the references exactly."""
    refs = staging / "refs"
    try:
        if refs.is_dir() and any(refs.glob("*.parquet")):
            _check_references(con, staging, out, line_offsets or {})
    finally:
        shutil.rmtree(refs, ignore_errors=True)


def _check_references(con, staging: Path, out: Finalised, line_offsets: dict[int, int]) -> None:
    con.register(
        "line_offsets",
        pa.table(
            {
                "task": pa.array(list(line_offsets), pa.int64()),
                "shift": pa.array(list(line_offsets.values()), pa.int64()),
            }
        ),
    )
    refs = staging / "refs"
    tables = layout.tables_in(staging / "real")
    passes = max(1, -(-sum(out.counts.values()) // IDS_PER_PASS))
    con.execute(
        "CREATE TEMP TABLE dangling (type VARCHAR, target VARCHAR, file VARCHAR, line BIGINT, "
        "entry BIGINT, source_type VARCHAR)"
    )
    for share in range(passes):
        mine = f"hash({{}}) % {passes} = {share}" if passes > 1 else "true"
        known = (
            " UNION ALL ".join(
                f"SELECT '{name}' AS type, id FROM {layout.scan(table)} WHERE {mine.format('id')}"
                for name, table in tables.items()
            )
            or "SELECT NULL::VARCHAR AS type, NULL::VARCHAR AS id WHERE false"
        )
        # The first place a target was seen: file, line, entry and source type of that one row.
        con.execute(
            "INSERT INTO dangling SELECT type, target, first.file, first.line, first.entry, "
            "first.source_type FROM ("
            "SELECT type, target, min_by({'file': file, 'line': line + coalesce(o.shift, 0), "
            "'entry': entry, 'source_type': source_type}, "
            "_task * 4294967296 + coalesce(line, entry, 0)) AS first "
            f"FROM read_parquet({_literal(refs / '*.parquet')}) r "
            "LEFT JOIN line_offsets o ON o.task = r._task "
            f"WHERE {mine.format('r.target')} AND NOT EXISTS "
            f"(SELECT 1 FROM ({known}) k WHERE k.type = r.type AND k.id = r.target) "
            "GROUP BY type, target)"
        )
    out.unresolved = con.execute("SELECT count(*) FROM dangling").fetchone()[0]
    rows = con.execute(
        "SELECT type, file, line, entry, source_type FROM dangling "
        f"ORDER BY file, line, entry, type, target LIMIT {DETAIL_LIMIT}"
    ).fetchall()
    for type_name, file, line, entry, source_type in rows:
        out.references.append(
            Problem(
                "warning",
                file,
                messages.UNRESOLVED_REFERENCE.format(type_name=type_name),
                line=line,
                entry=entry,
                resource_type=source_type,
            )
        )


@contextlib.contextmanager
def dataset_lock(dataset_dir: Path) -> Iterator[None]:
    """An exclusive lock on a dataset while its versions change (publish, drop)."""
    dataset_dir.mkdir(parents=True, exist_ok=True)
    with open(dataset_dir / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(root: Path, dataset: str, staging: Path, manifest: dict) -> layout.DatasetVersion:
    """Name the version, write its manifest (with the `sizes` of the files kept), and make it
    visible by one atomic rename."""
    folder = layout.dataset_dir(root, dataset)
    with dataset_lock(folder):
        published = layout.versions(root, dataset)
        number = int(published[-1].version[1:]) + 1 if published else 1
        name = f"v{number:04d}"
        for scratch in ("tmp", "owner.json"):
            path = staging / scratch
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        # Sizes of the files the version keeps: measured once the scratch files are gone.
        manifest = {**manifest, "dataset": dataset, "version": name, "sizes": sizes(staging)}
        temporary = staging / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(temporary, staging / "manifest.json")
        _fsync_tree(staging)
        versions_dir = folder / "versions"
        versions_dir.mkdir(exist_ok=True)
        os.rename(staging, versions_dir / name)
        fd = os.open(versions_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return layout.DatasetVersion(dataset, name, versions_dir / name)


def sizes(folder: Path) -> dict[str, int]:
    """Relative path -> bytes of every file of a version folder."""
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def build_on(
    staging: Path,
    base: Path,
    deleted: dict[str, set[str]],
    registry: set[str],
    out: Finalised,
) -> int:
    """Make the staged version an incremental one: each type holds the rows just staged and
    the rows of the version `base` (a published version folder) whose id was not staged
    again (upsert by type and id), not deleted (`deleted`: type -> pseudonyms) and not of a
    patient who has opted out since. The opt-out keys of both are kept for the patients kept.
    Returns how many rows of the base were left out (deleted or opted out)."""
    con = connect(staging / "tmp")
    try:
        base_keys = base / "optout_keys.parquet"
        con.register("registry_keys", pa.table({"k": pa.array(sorted(registry), pa.string())}))
        if base_keys.is_file():
            con.execute(
                "CREATE TEMP TABLE opted_since AS SELECT DISTINCT patient FROM "
                f"read_parquet({_literal(base_keys)}) WHERE optout_key IN "
                "(SELECT k FROM registry_keys)"
            ).fetchall()
            merged_keys = staging / "optout_keys.merged.parquet"
            con.execute(
                f"COPY (SELECT DISTINCT optout_key, patient FROM (SELECT * FROM "
                f"read_parquet({_literal(staging / 'optout_keys.parquet')}) UNION ALL "
                f"SELECT * FROM read_parquet({_literal(base_keys)})) "
                "WHERE patient NOT IN (SELECT patient FROM opted_since)) "
                f"TO {_literal(merged_keys)} ({PARQUET})"
            ).fetchall()
            os.replace(merged_keys, staging / "optout_keys.parquet")
        else:
            con.execute("CREATE TEMP TABLE opted_since (patient VARCHAR)").fetchall()
        base_idkeys = base / "idkeys.parquet"
        if base_idkeys.is_file():  # the base's, less the resources deleted
            gone = [(t, p) for t, pseudonyms in deleted.items() for p in sorted(pseudonyms)]
            con.register(
                "gone_keys",
                pa.table(
                    {
                        "type": pa.array([t for t, _ in gone], pa.string()),
                        "pseudonym": pa.array([p for _, p in gone], pa.string()),
                    }
                ),
            )
            merged_idkeys = staging / "idkeys.merged.parquet"
            con.execute(
                "COPY (SELECT DISTINCT conditional_key, type, pseudonym FROM (SELECT * FROM "
                f"read_parquet({_literal(staging / 'idkeys.parquet')}) UNION ALL SELECT * FROM "
                f"read_parquet({_literal(base_idkeys)})) WHERE (type, pseudonym) NOT IN "
                f"(SELECT type, pseudonym FROM gone_keys)) TO {_literal(merged_idkeys)} ({PARQUET})"
            ).fetchall()
            os.replace(merged_idkeys, staging / "idkeys.parquet")
            con.unregister("gone_keys")
        left_out = 0
        real = staging / "real"
        for type_name, table in layout.tables_in(base / "real").items():
            gone = sorted(deleted.get(type_name, ()))
            con.register("gone", pa.table({"id": pa.array(gone, pa.string())}))
            new = real / type_name
            fresh = (
                f"SELECT id, patient, effective, code, resource FROM {layout.scan(new)}"
                if new.is_dir()
                else None
            )
            kept_base = (
                f"SELECT id, patient, effective, code, resource FROM {layout.scan(table)} b "
                "WHERE b.id NOT IN (SELECT id FROM gone) "
                "AND (b.patient IS NULL OR b.patient NOT IN (SELECT patient FROM opted_since))"
            )
            if fresh is not None:
                kept_base += f" AND b.id NOT IN (SELECT id FROM ({fresh}))"
            query = f"{fresh} UNION ALL {kept_base}" if fresh is not None else kept_base
            target = real / f"{type_name}.merged"
            target.mkdir()
            con.execute(
                f"COPY ({query}) TO {_literal(target / 'part-0.parquet')} ({PARQUET})"
            ).fetchall()
            (base_rows,) = con.execute(f"SELECT count(*) FROM {layout.scan(table)}").fetchall()[0]
            (replaced,) = (
                con.execute(
                    f"SELECT count(*) FROM {layout.scan(table)} WHERE id IN "
                    f"(SELECT id FROM ({fresh}))"
                ).fetchall()[0]
                if fresh is not None
                else (0,)
            )
            if new.is_dir():
                shutil.rmtree(new)
            count = layout.rows(target)
            left_out += base_rows - replaced - (count - out.counts.get(type_name, 0))
            if count:
                target.rename(new)
                out.counts[type_name] = count
            else:
                shutil.rmtree(target)
                out.counts.pop(type_name, None)
            con.unregister("gone")
        return left_out
    finally:
        con.close()
