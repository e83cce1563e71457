"""A small dataset version on disk, per the warehouse layout contract, for hermetic tests.

The real version holds a marker code (`REAL-ONLY-MARKER`) that its dummy twin never has,
so a test can prove that no real value reaches a response that should not hold it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from campus.optout import service as optout
from campus.settings import Settings

MARKER = "REAL-ONLY-MARKER"
DATASET = "hopital-test"

VIEWS = {
    "patient_demographics": {
        "resourceType": "ViewDefinition",
        "resource": "Patient",
        "status": "active",
        "name": "patient_demographics",
        "select": [
            {
                "column": [
                    {"name": "patient_id", "path": "getResourceKey()"},
                    {"name": "gender", "path": "gender"},
                    {"name": "birth_date", "path": "birthDate"},
                    {"name": "deceased", "path": "deceased.ofType(dateTime)"},
                ]
            }
        ],
    },
    "conditions": {
        "resourceType": "ViewDefinition",
        "resource": "Condition",
        "status": "active",
        "name": "conditions",
        "select": [
            {
                "column": [
                    {"name": "patient_id", "path": "subject.getReferenceKey(Patient)"},
                    {"name": "code", "path": "code.coding.first().code"},
                    {"name": "onset", "path": "onset.ofType(dateTime)"},
                ]
            }
        ],
    },
}


def write_library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, view in VIEWS.items():
        (folder / f"{name}.json").write_text(json.dumps(view))
    return folder


def identifier(i: int) -> str:
    return f"urn:oid:1.2.250.1.71.4.2.7|IPP{i:05d}"


def _patients(prefix: str, count: int, marker: bool):
    patients, conditions = [], []
    for i in range(count):
        pid = f"{prefix}{i:03d}"
        resource = {
            "resourceType": "Patient",
            "id": pid,
            "gender": "female" if i % 2 else "male",
            "birthDate": f"{1940 + i % 40}-{1 + i % 12:02d}",
        }
        if i % 4 == 0:
            resource["deceasedDateTime"] = f"2021-{1 + i % 12:02d}-10"
        patients.append((pid, pid, None, None, json.dumps(resource)))
        codes = ["230690007"] if i % 3 else ["230690007", "44054006"]
        if marker and i < 24:
            codes.append(MARKER)
        for j, code in enumerate(codes):
            cid = f"{pid}-c{j}"
            condition = {
                "resourceType": "Condition",
                "id": cid,
                "subject": {"reference": f"Patient/{pid}"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
                # The marker comes first in time, so a cohort indexed on the first condition
                # groups those patients under it without the analysis naming it.
                "onsetDateTime": "2017-01-01"
                if code == MARKER
                else f"2018-{1 + (i + j) % 12:02d}-0{1 + j}",
            }
            conditions.append((cid, pid, condition["onsetDateTime"], code, json.dumps(condition)))
    return patients, conditions


def _write(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 5
    table = pa.table(
        {
            name: pa.array(list(col), pa.string())
            for name, col in zip(
                ("id", "patient", "effective", "code", "resource"), columns, strict=True
            )
        }
    )
    pq.write_table(table, path)


def build_version(
    root: Path, settings: Settings, *, patients: int = 60, version: str = "v0001"
) -> Path:
    """A published version: real tables with the marker, a dummy twin without, opt-out keys."""
    folder = root / DATASET / "versions" / version
    real_p, real_c = _patients("rp", patients, marker=True)
    dummy_p, dummy_c = _patients("dp", patients, marker=False)
    _write(folder / "real" / "Patient.parquet", real_p)
    _write(folder / "real" / "Condition.parquet", real_c)
    _write(folder / "dummy" / "Patient.parquet", dummy_p)
    _write(folder / "dummy" / "Condition.parquet", dummy_c)
    keys = [
        optout.optout_key(settings, optout.normalise_identifier("system", identifier(i)))
        for i in range(patients)
    ]
    pq.write_table(
        pa.table({"optout_key": keys, "patient": [p[0] for p in real_p]}),
        folder / "optout_keys.parquet",
    )
    (folder / "manifest.json").write_text(json.dumps({"dataset": DATASET, "version": version}))
    return folder


MARKER_ANALYSIS = {
    "title": "Conditions by code",
    "dataset": DATASET,
    "views": {
        "patients": {"library": "patient_demographics"},
        "conditions": {"library": "conditions"},
    },
    "cohort": {
        "view": "conditions",
        "index_date": "onset",
    },
    "outputs": [{"type": "counts", "name": "by_code", "group_by": ["code"]}],
}

STROKE_ANALYSIS = {
    "title": "Stroke patients by sex",
    "dataset": DATASET,
    "views": {
        "patients": {"library": "patient_demographics"},
        "conditions": {"library": "conditions"},
    },
    "cohort": {
        "view": "patients",
        "index_date": {"view": "conditions", "column": "onset"},
        "birth_date": "birth_date",
        "include": [{"view": "conditions", "column": "code", "op": "eq", "value": "230690007"}],
    },
    "outputs": [
        {"type": "counts", "name": "by_sex", "group_by": ["gender"]},
        {
            "type": "time_to_event",
            "name": "survival",
            "event": {"view": "patients", "column": "deceased"},
            "censor": "2023-12-31",
            "interval_days": 180,
        },
    ],
}

DP_ANALYSIS = dict(
    MARKER_ANALYSIS,
    outputs=[
        {
            "type": "counts",
            "name": "by_code",
            "group_by": [{"column": "code", "levels": ["230690007", "44054006"]}],
        }
    ],
    privacy={"epsilon": 0.6, "mechanism": "laplace"},
)
