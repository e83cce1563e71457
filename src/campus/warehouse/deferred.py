"""The second pass: resources that named a resource of another file by identifier.

Bulk NDJSON has no Bundle to look a `Patient?identifier=system|value` reference up in, and the
Patient it names usually sits in another file, read by another worker. Synthea's standard
export, likewise, puts its Practitioners, Organizations and Locations in Bundles of their own
and names them from every patient's Bundle as `Practitioner?identifier=system|value`. So a
worker does not land such a resource (a conditional reference that nothing at hand matches, or
in NDJSON a logical reference: `subject` given by identifier): it stages its source
(`deferred/`; a Bundle entry with the references its Bundle resolved written as `Type/id`),
and once every worker is done, this pass looks the identifier up among the resources landed
and runs the resource through the same worker code. A patient is found by the keyed hashes of
its identifiers that the workers staged for the opt-out (`optout/`): the resource then has its
patient's pseudonym in its reference and in its `patient` column, the patient's own date
offset and the patient's opt-out. A resource of `worker.INDEXED_TYPES` is found by the keyed
hashes of its conditional reference texts (`idkeys/`). An identifier that matches nothing (or
a patient's without a system) is reported or handled as before: an unresolved conditional
reference is refused, a logical reference shifts dates by the identifier's own offset.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from campus.optout.service import identifier_keys
from campus.warehouse import fhir
from campus.warehouse.problems import ProblemLog
from campus.warehouse.pseudonymise import Target
from campus.warehouse.publish import connect
from campus.warehouse.sources import Item, Task
from campus.warehouse.worker import (
    INDEXED_TYPES,
    TASK_PROBLEMS,
    Config,
    Runner,
    TaskResult,
    conditional_key,
)

_CACHE_LIMIT = 100_000
# An incremental ingest's copy of its base version's keys (`stage_base_keys`), and their names
# in a published version: the keyed hashes of patients' identifiers (`optout_keys.parquet`)
# and of the indexed types' conditional reference texts (`idkeys.parquet`).
BASE_KEYS = "base_keys"
OPTOUT_KEYS = "optout_keys.parquet"
IDKEYS = "idkeys.parquet"


def stage_base_keys(staging: Path, base: Path, registry: frozenset[str]) -> None:
    """Make the keys of the version `base` (a published version folder) resolvable by this
    ingest's second pass: a `_since` export names by identifier the Patients, Practitioners or
    Organizations it did not export again, which are in the version built upon. A patient who
    has opted out since (any of their keys in `registry`) is not found: nothing new of theirs
    lands by way of the base."""
    folder = staging / BASE_KEYS
    folder.mkdir(exist_ok=True)
    if (base / IDKEYS).is_file():
        shutil.copyfile(base / IDKEYS, folder / IDKEYS)
    if not (base / OPTOUT_KEYS).is_file():
        return
    con = connect(staging / "tmp-base-keys", memory="256MB")
    try:
        con.register("registry_keys", pa.table({"k": pa.array(sorted(registry), pa.string())}))
        source = _parquet([base / OPTOUT_KEYS])
        target = str(folder / OPTOUT_KEYS).replace("'", "''")
        con.execute(
            f"COPY (SELECT optout_key, patient FROM read_parquet({source}) WHERE patient NOT IN "
            f"(SELECT patient FROM read_parquet({source}) WHERE optout_key IN "
            f"(SELECT k FROM registry_keys))) TO '{target}' (FORMAT parquet)"
        ).fetchall()
    finally:
        con.close()
        shutil.rmtree(staging / "tmp-base-keys", ignore_errors=True)


def _parquet(paths: list[Path]) -> str:
    """A DuckDB list of the Parquet files that exist, or '' when none does."""
    found = [str(p).replace("'", "''") for p in paths if p.is_file()]
    return "[" + ", ".join(f"'{p}'" for p in found) + "]" if found else ""


class ByIdentifier:
    """Pseudonyms by identifier: of Patients, looked up in the staged opt-out keys, of the
    `INDEXED_TYPES`, in the staged conditional keys (DuckDB, with indexes: memory does not
    grow with the number of resources); answers cached, bounded."""

    def __init__(self, staging: Path, secret: bytes, pseudonym_key: bytes):
        self.secret = secret
        self.pseudonym_key = pseudonym_key
        self.cache: dict[str, Target | None] = {}
        self.con = connect(staging / "tmp-deferred", memory="256MB")
        # This ingest's keys, and those of the version an incremental ingest builds on.
        base = staging / BASE_KEYS
        idkeys = _parquet([*(staging / "idkeys").glob("*.parquet"), base / IDKEYS])
        if idkeys:
            self.con.execute(
                "CREATE TABLE idkeys AS SELECT conditional_key, min(type) AS type, "
                f"min(pseudonym) AS pseudonym FROM read_parquet({idkeys}) GROUP BY conditional_key"
            )
        else:
            self.con.execute(
                "CREATE TABLE idkeys (conditional_key VARCHAR, type VARCHAR, pseudonym VARCHAR)"
            )
        self.con.execute("CREATE INDEX idkeys_key ON idkeys (conditional_key)")
        keys = _parquet([*(staging / "optout").glob("*.parquet"), base / OPTOUT_KEYS])
        if keys:
            self.con.execute(
                "CREATE TABLE keys AS SELECT optout_key, min(patient) AS patient "
                f"FROM read_parquet({keys}) GROUP BY optout_key"
            )
        else:  # no Patient landed
            self.con.execute("CREATE TABLE keys (optout_key VARCHAR, patient VARCHAR)")
        self.con.execute("CREATE INDEX keys_key ON keys (optout_key)")

    def close(self) -> None:
        self.con.close()

    def resolve(self, reference: str) -> Target | None:
        """The resource of `Type?identifier=system|value` (a Patient, or one of the
        `INDEXED_TYPES`, also without a system), or None."""
        if reference in self.cache:
            return self.cache[reference]
        found = None
        match = fhir.CONDITIONAL_REFERENCE.match(reference)
        if match is not None and match.group(1) in INDEXED_TYPES:
            row = self.con.execute(
                "SELECT type, pseudonym FROM idkeys WHERE conditional_key = ?",
                [conditional_key(self.pseudonym_key, reference)],
            ).fetchone()
            if row is not None and row[0] == match.group(1):
                found = Target(row[0], "", pseudonym=row[1])
        elif match is not None and match.group(1) == "Patient" and "|" in match.group(2):
            system, _, value = match.group(2).partition("|")
            for key in identifier_keys(self.secret, system, value):
                row = self.con.execute(
                    "SELECT patient FROM keys WHERE optout_key = ?", [key]
                ).fetchone()
                if row is not None:
                    found = Target("Patient", "", pseudonym=row[0])
                    break
        if len(self.cache) > _CACHE_LIMIT:
            self.cache.clear()
        self.cache[reference] = found
        return found


def resolve_deferred(
    config: Config, worker: int, tasks: list[Task], results: dict[int, TaskResult]
) -> None:
    """Run the deferred resources of every task; their counts and problems join the task's."""
    staging = Path(config.staging)
    parts = sorted((staging / "deferred").glob("*.parquet"))
    if not parts:
        return
    by_index = {task.index: task for task in tasks}
    patients = ByIdentifier(staging, config.optout_secret, config.pseudonym_key)
    runner = Runner(config, worker)
    runner.elsewhere = patients.resolve
    logs: dict[int, ProblemLog] = {}
    try:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=1024):
                columns = batch.to_pydict()
                for task_index, line, entry, order, raw in zip(
                    columns["_task"],
                    columns["line"],
                    columns["entry"],
                    columns["_o"],
                    columns["raw"],
                    strict=True,
                ):
                    log = logs.get(task_index)
                    if log is None:
                        log = logs[task_index] = ProblemLog(limit=TASK_PROBLEMS)
                    item = Item(line, entry, orjson.loads(raw))
                    runner.process(
                        by_index[task_index], item, None, order, results[task_index], log
                    )
    finally:
        runner.close()
        patients.close()
        # The source lines hold identifying data: gone as soon as they are read.
        shutil.rmtree(staging / "deferred", ignore_errors=True)
        shutil.rmtree(staging / "tmp-deferred", ignore_errors=True)
    for task_index, log in logs.items():
        result = results[task_index]
        result.problems = result.problems + log.items
        result.errors += log.errors
        result.warnings += log.warnings
