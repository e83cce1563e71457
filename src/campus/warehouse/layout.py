"""Where dataset versions live on disk: the contract between the warehouse and its readers.

```
<warehouse>/<dataset>/versions/<version>/manifest.json         the version's manifest
<warehouse>/<dataset>/versions/<version>/real/<Type>.parquet   pseudonymised resources
<warehouse>/<dataset>/versions/<version>/dummy/<Type>.parquet  the dummy twin, same schema
<warehouse>/<dataset>/versions/<version>/optout_keys.parquet   (optout_key, patient)
<warehouse>/<dataset>/staging/<random>/                          a version being written
```

Every resource table has the columns `id` (pseudonymised resource id), `patient`
(pseudonym of the patient it belongs to, null when none), `effective` (main date as ISO
text, null when none), `code` (main code as `system|code`, null when none) and `resource`
(the pseudonymised resource as JSON text). References inside `resource` use the
pseudonymised ids (`Patient/<pseudonym>`), so joins keep working.

`optout_keys.parquet` maps the keyed hash of each identifier of each patient (the same hash
the opt-out registry stores) to the patient's pseudonym, so that an objection filed after
ingest is honoured at once by jobs on existing versions.

A version folder appears under `versions/` only when complete (atomic rename from
`staging/`); its name is `v` and a zero-padded sequence number, the latest being the highest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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
        """Resource type -> Parquet file of this version (or of its dummy twin)."""
        folder = self.path / kind
        return {p.stem: p for p in sorted(folder.glob("*.parquet"))} if folder.is_dir() else {}

    @property
    def optout_keys(self) -> Path:
        return self.path / "optout_keys.parquet"


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
