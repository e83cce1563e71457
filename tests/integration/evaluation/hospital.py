"""A generated hospital for the evaluation tests: who has diabetes within a year of the index
date depends on age and hypertension, so a logistic model scores better than chance.

The real and dummy versions are drawn with different seeds (the dummy twin holds no real
record); the test knows every real row, so it computes the reference metrics itself.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DATASET = "hopital-eval"
INDEX = "2018-01-01"
DIABETES = "44054006"
HYPERTENSION = "38341003"


@dataclass
class Person:
    pid: str
    female: bool
    born: int  # year; born on 1 July, so age at index = 2017 - born
    hypertension: bool
    diabetes: bool

    @property
    def features(self) -> list[float]:
        return [float(2017 - self.born), 1.0 if self.female else 0.0, float(self.hypertension)]


def people(prefix: str, count: int, seed: int, *, oldest: int = 1930) -> list[Person]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        born = rng.randint(oldest, 2000)
        htn = rng.random() < 0.3
        z = -3.0 + 0.05 * ((2017 - born) - 50) + 1.5 * htn
        out.append(
            Person(
                f"{prefix}{i:04d}",
                rng.random() < 0.5,
                born,
                htn,
                rng.random() < 1 / (1 + math.exp(-z)),
            )
        )
    return out


def _rows(persons: list[Person]):
    patients, conditions = [], []
    for p in persons:
        resource = {
            "resourceType": "Patient",
            "id": p.pid,
            "gender": "female" if p.female else "male",
            "birthDate": f"{p.born}-07-01",
        }
        patients.append((p.pid, p.pid, None, None, json.dumps(resource)))
        dated = []
        if p.hypertension:
            dated.append((HYPERTENSION, "2015-03-01"))
        if p.diabetes:
            dated.append((DIABETES, "2018-06-15"))
        for j, (code, onset) in enumerate(dated):
            cid = f"{p.pid}-c{j}"
            condition = {
                "resourceType": "Condition",
                "id": cid,
                "subject": {"reference": f"Patient/{p.pid}"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
                "onsetDateTime": onset,
            }
            conditions.append((cid, p.pid, onset, code, json.dumps(condition)))
    return patients, conditions


def _write(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = ("id", "patient", "effective", "code", "resource")
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 5
    pq.write_table(
        pa.table({n: pa.array(list(c), pa.string()) for n, c in zip(names, columns, strict=True)}),
        path,
    )


def build(root: Path, real: list[Person], dummy: list[Person], version: str = "v0001") -> Path:
    folder = root / DATASET / "versions" / version
    for kind, persons in (("real", real), ("dummy", dummy)):
        patients, conditions = _rows(persons)
        _write(folder / kind / "Patient.parquet", patients)
        _write(folder / kind / "Condition.parquet", conditions)
    pq.write_table(
        pa.table({"optout_key": pa.array([], pa.string()), "patient": pa.array([], pa.string())}),
        folder / "optout_keys.parquet",
    )
    (folder / "manifest.json").write_text(json.dumps({"dataset": DATASET, "version": version}))
    return folder


def benchmark(**changes) -> dict:
    definition = {
        "title": "Diabète de type 2 dans l'année",
        "description": "Predict a type 2 diabetes diagnosis within 12 months of 1 January 2018.",
        "dataset": DATASET,
        "views": {
            "patients": {"library": "patient_demographics"},
            "conditions": {"library": "conditions"},
        },
        "cohort": {"view": "patients", "index_date": INDEX, "birth_date": "birth_date"},
        "label": [
            {
                "view": "conditions",
                "column": "code",
                "op": "eq",
                "value": DIABETES,
                "date_column": "onset",
                "within_days": [1, 365],
            }
        ],
        "label_description": "type 2 diabetes diagnosed within 12 months after the index date",
        "features": [
            {"name": "age", "column": "age_at_index"},
            {"name": "female", "column": "gender", "op": "eq", "value": "female"},
            {
                "name": "hypertension",
                "criterion": {
                    "view": "conditions",
                    "column": "code",
                    "op": "eq",
                    "value": HYPERTENSION,
                    "date_column": "onset",
                    "within_days": [-3650, 0],
                },
            },
        ],
        "subgroups": [
            {"name": "sex", "column": "gender"},
            {"name": "age_band", "column": "age_at_index", "width": 30},
        ],
        "min_subgroup": 20,
        "limits": {"time_limit_seconds": 2, "memory_mb": 1024, "max_model_bytes": 100_000},
    }
    return definition | changes
