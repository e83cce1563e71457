"""Where dataset versions live on disk: the contract between the warehouse and its readers.

```
<warehouse>/<dataset>/versions/<version>/manifest.json             the version's manifest
<warehouse>/<dataset>/versions/<version>/real/<Type>/part-<n>.parquet  pseudonymised resources
<warehouse>/<dataset>/versions/<version>/dummy/<Type>.parquet      the dummy twin, same schema
<warehouse>/<dataset>/versions/<version>/optout_keys.parquet       (optout_key, patient)
<warehouse>/<dataset>/versions/<version>/idkeys.parquet            (conditional_key, type, pseud.)
<warehouse>/<dataset>/staging/<random>/                              a version being written
```

A table is a folder of Parquet files of the same schema (one per ingest worker, as they were
written) or a single `<Type>.parquet` file (the dummy twin, and versions written before
December 2026): `tables_in` finds both, `scan` gives the DuckDB expression that reads one, and
Spark and pyarrow read either path as it is.

Every resource table has the columns `id` (pseudonymised resource id), `patient`
(pseudonym of the patient it belongs to, null when none), `effective` (main date as ISO
text, null when none), `code` (main code as `system|code`, null when none) and `resource`
(the pseudonymised resource as JSON text). References inside `resource` use the
pseudonymised ids (`Patient/<pseudonym>`), so joins keep working.

`optout_keys.parquet` maps the keyed hash of each identifier of each patient (the same hash
the opt-out registry stores) to the patient's pseudonym, so that an objection filed after
ingest is honoured at once by jobs on existing versions.

`idkeys.parquet` maps the keyed hash of each conditional reference text that names a
Practitioner, PractitionerRole, Organization or Location of the version
(`Practitioner?identifier=system|value`) to its pseudonym: an incremental ingest built on the
version resolves with it, and with `optout_keys.parquet` for patients, what its export names
by identifier without exporting it again. Neither file holds an identifier in clear.

A version folder appears under `versions/` only when complete (atomic rename from
`staging/`); its name is `v` and a zero-padded sequence number, the latest being the highest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")
VERSION_NAME = re.compile(r"^v\d{4,}\Z")
KEY_COLUMNS = ("id", "patient", "effective", "code", "resource")
Kind = Literal["real", "dummy"]


@dataclass(frozen=True)
class DatasetVersion:
    """One published, immutable version of a dataset."""

    dataset: str
    version: str
    path: Path

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "manifest.json").read_text())

    def tables(self, kind: Kind = "real") -> dict[str, Path]:
        """Resource type -> table (Parquet folder or file) of this version or of its twin."""
        return tables_in(self.path / kind)

    @property
    def optout_keys(self) -> Path:
        return self.path / "optout_keys.parquet"


def tables_in(folder: Path) -> dict[str, Path]:
    """Resource type -> table in `folder`: `<Type>/` holding Parquet files, or `<Type>.parquet`."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir() and any(path.glob("*.parquet")):
            found[path.name] = path
        elif path.suffix == ".parquet" and path.is_file():
            found[path.stem] = path
    return found


def files(table: Path) -> list[Path]:
    """The Parquet files of a table, in order."""
    return sorted(table.glob("*.parquet")) if table.is_dir() else [table]


def pattern(table: Path) -> str:
    """What DuckDB's read_parquet reads for a table: the file, or a glob of the folder's files."""
    return str(table / "*.parquet") if table.is_dir() else str(table)


def scan(table: Path) -> str:
    """The DuckDB expression that reads a table: `read_parquet('<pattern>')`."""
    return "read_parquet('" + pattern(table).replace("'", "''") + "')"


def rows(table: Path) -> int:
    """A table's row count, from the files' footers."""
    return sum(pq.ParquetFile(path).metadata.num_rows for path in files(table))


def dataset_dir(root: Path, dataset: str) -> Path:
    if not DATASET_NAME.match(dataset):
        raise ValueError(
            f"dataset name {dataset!r} must be 1-63 lowercase letters, digits, '-' or '_'"
        )
    return root / dataset


def versions(root: Path, dataset: str) -> list[DatasetVersion]:
    """The published versions of a dataset, oldest first."""
    folder = dataset_dir(root, dataset) / "versions"
    if not folder.is_dir():
        return []
    names = sorted(
        (p.name for p in folder.iterdir() if VERSION_NAME.match(p.name)),
        key=lambda name: int(name[1:]),
    )
    return [DatasetVersion(dataset, name, folder / name) for name in names]


def resolve(root: Path, dataset: str, version: str | None = None) -> DatasetVersion:
    """A published version (the latest when `version` is None); ValueError says what is wrong."""
    published = versions(root, dataset)
    if not published:
        raise ValueError(f"dataset {dataset!r} has no published version")
    if version is None:
        return published[-1]
    for each in published:
        if each.version == version:
            return each
    raise ValueError(
        f"dataset {dataset!r} has no version {version!r} "
        f"(published: {', '.join(v.version for v in published)})"
    )
