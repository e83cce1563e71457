"""The dummy twin of a version: synthetic records with the real schema, codes and frequencies.

Each synthetic record is drawn afresh: a random id, a synthetic patient, a code drawn from the
real distribution of codes seen at least `threshold` times (rare codes never appear), a date
drawn from the real months seen at least `threshold` times, and for measurements a value drawn
between the real 10th and 90th percentiles of its code. No real record is copied.
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from campus.warehouse import layout
from campus.warehouse.layout import KEY_COLUMNS
from campus.warehouse.worker import EFFECTIVE_PATHS, PATIENT_KEYS, code_of

DUMMY_TAG = {"system": "https://campus.example/fhir/tags", "code": "synthetic"}
MAX_ROWS = 20_000
SCHEMA = pa.schema([(name, pa.string()) for name in KEY_COLUMNS])
_SHAPE_SAMPLE = 500
# Observation values: their 10th and 90th percentiles per code are read on about this many
# resources (all of them below), one in `step` chosen by a hash of the id, rather than parsing
# the value out of every Observation of a large version.
_VALUE_SAMPLE = 200_000


def _weighted(con, query: str) -> tuple[list[Any], list[int]]:
    """Values and their cumulative weights (for `Random.choices(cum_weights=...)`)."""
    rows = con.execute(query).fetchall()
    return [r[0] for r in rows], list(itertools.accumulate(int(r[1]) for r in rows))


# The time of day and day of month of a synthetic date: drawn whole, one draw a record.
_MOMENTS = [
    f"-{day:02d}T{hour:02d}:{minute:02d}:00Z"
    for day in range(1, 29)
    for hour in range(24)
    for minute in range(60)
]


class _Draws:
    """A type's random columns, drawn at once (`Random.choices(k=n)`: one Python call a
    column, not several a record)."""

    def __init__(self, rng: random.Random, n: int, codes, code_weights, months, month_weights):
        self.rng = rng
        self.n = n
        self.codes = rng.choices(codes, cum_weights=code_weights, k=n) if codes else [None] * n
        self.months = rng.choices(months, cum_weights=month_weights, k=n) if months else [None] * n
        self.moments = rng.choices(_MOMENTS, k=n)

    def pick(self, values: list) -> list:
        """n values drawn uniformly from `values` (n None when there are none)."""
        return self.rng.choices(values, k=self.n) if values else [None] * self.n


def _records(
    type_name: str,
    shape: _Shape,
    patients: list[str],
    draws: _Draws,
    values: dict[str, tuple[float, float, str]],
) -> dict[str, list]:
    """The twin's rows of one type, as columns."""
    is_patient = type_name == "Patient"
    # A synthetic patient's id is the one the other records refer to: joins work.
    ids = patients if is_patient else _token_ids(draws.n)
    owners = patients if is_patient else draws.pick(patients)
    statuses = draws.pick(shape.statuses)
    genders = draws.pick(shape.genders) if is_patient else [None] * draws.n
    uniform = draws.rng.random
    concepts: dict[str, Any] = {}  # code -> its element, shared by the records that have it
    subjects: dict[str, dict] = {}  # patient -> {"reference": "Patient/<id>"}
    rows: dict[str, list] = {name: [] for name in KEY_COLUMNS}
    meta = {"tag": [DUMMY_TAG]}
    for record_id, patient, status, code, month, moment, gender in zip(
        ids, owners, statuses, draws.codes, draws.months, draws.moments, genders, strict=True
    ):
        resource: dict[str, Any] = {"resourceType": type_name, "id": record_id, "meta": meta}
        if status is not None:
            resource["status"] = status
        if code is not None and shape.code_key:
            concept = concepts.get(code)
            if concept is None:
                concept = concepts[code] = _concept(code, shape)
            resource[shape.code_key] = concept
        effective = (month + moment if len(month) >= 7 else month) if month else None
        if is_patient:
            if gender is not None:
                resource["gender"] = gender
            if effective:
                effective = resource["birthDate"] = effective[:7]
            patient_ref = patient
        else:
            patient_ref = patient if shape.patient_key else None
            if shape.patient_key:
                subject = subjects.get(patient)
                if subject is None:
                    subject = subjects[patient] = {"reference": f"Patient/{patient}"}
                resource[shape.patient_key] = subject
            if effective and shape.effective:
                _put(resource, shape.effective, effective)
        if code in values:
            low, high, unit = values[code]
            quantity = {"value": round(low + (high - low) * uniform(), 1)}
            if unit:
                quantity["unit"] = unit
            resource["valueQuantity"] = quantity
        rows["id"].append(record_id)
        rows["patient"].append(patient_ref)
        rows["effective"].append(effective)
        rows["code"].append(code if shape.code_key else None)
        rows["resource"].append(orjson.dumps(resource).decode())
    return rows


def _concept(code: str, shape: _Shape) -> Any:
    """The element a `system|code` takes in the type's records (a Coding, a CodeableConcept,
    or a list of one)."""
    system, _, value = code.partition("|")
    coding = {"system": system, "code": value} if system else {"code": value}
    concept: Any = coding if shape.code_is_coding else {"coding": [coding]}
    return [concept] if shape.code_is_list else concept


def _token_ids(n: int) -> list[str]:
    """n random ids of 32 hex characters, from one call to the system's random source."""
    text = secrets.token_hex(16 * n)
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


class _Shape:
    """How a type's records look, learnt from a sample: keys used and frequent statuses."""

    def __init__(self, resources: list[dict], threshold: int):
        self.patient_key = _most_common(
            [k for r in resources for k in PATIENT_KEYS if isinstance(r.get(k), dict)]
        )
        self.code_key = _most_common(
            [
                k
                for r in resources
                for k in ("code", "vaccineCode", "medicationCodeableConcept", "type", "class")
                if k in r and code_of({k: r[k]})
            ]
        )
        self.code_is_list = any(isinstance(r.get(self.code_key), list) for r in resources)
        self.code_is_coding = self.code_key == "class"
        self.effective = _most_common(
            [p for r in resources for p in EFFECTIVE_PATHS[:1] + EFFECTIVE_PATHS[1:] if _has(r, p)][
                : len(resources) * 1
            ]
        )
        statuses = Counter(r["status"] for r in resources if isinstance(r.get("status"), str))
        self.statuses = [s for s, n in statuses.items() if n >= min(threshold, len(resources))]
        genders = Counter(r["gender"] for r in resources if isinstance(r.get("gender"), str))
        self.genders = [g for g, n in genders.items() if n >= min(threshold, len(resources))]


def _has(resource: dict, path: tuple[str, ...]) -> bool:
    value: Any = resource
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return isinstance(value, str)


def _most_common(values: list) -> Any:
    return Counter(values).most_common(1)[0][0] if values else None


def build(
    con: duckdb.DuckDBPyConnection, real: Path, out: Path, threshold: int, max_rows: int = MAX_ROWS
) -> dict[str, int]:
    """Write out/<Type>.parquet for every table of `real`; returns the row counts."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(secrets.randbits(64))  # noqa: S311 - synthetic values, not secrets
    tables = layout.tables_in(real)
    n_patients = 0
    if "Patient" in tables:
        n_patients = min(layout.rows(tables["Patient"]), max_rows)
    patients = _token_ids(max(n_patients, 1))
    counts = {}
    for type_name, table in tables.items():
        source = layout.scan(table)
        total = layout.rows(table)
        shape = _Shape(_shape_sample(table, rng), threshold)
        codes, code_weights = _weighted(
            con,
            f"SELECT code, count(*) FROM {source} WHERE code IS NOT NULL GROUP BY code "
            f"HAVING count(*) >= {threshold}",
        )
        months, month_weights = _weighted(
            con,
            f"SELECT substr(effective, 1, 7), count(*) FROM {source} WHERE effective IS NOT NULL "
            f"GROUP BY 1 HAVING count(*) >= {threshold}",
        )
        values = (
            _value_ranges(con, source, threshold, -(-total // _VALUE_SAMPLE))
            if type_name == "Observation"
            else {}
        )
        n = len(patients) if type_name == "Patient" else min(total, max_rows)
        draws = _Draws(rng, n, codes, code_weights, months, month_weights)
        rows = _records(type_name, shape, patients, draws, values)
        pq.write_table(
            pa.table(rows, schema=SCHEMA), out / f"{type_name}.parquet", compression="zstd"
        )
        counts[type_name] = n
    return counts


def _shape_sample(table: Path, rng: random.Random, size: int = _SHAPE_SAMPLE) -> list[dict]:
    """Up to `size` resources of a table, drawn from row groups taken at random until four
    times as many are at hand: the shape is learnt without reading and decompressing every
    resource of a large table (a reservoir sample reads them all: 1.9 s at 4M resources)."""
    files = [pq.ParquetFile(path) for path in layout.files(table)]
    groups = [(parquet, group) for parquet in files for group in range(parquet.num_row_groups)]
    rng.shuffle(groups)
    texts: list[str] = []
    for parquet, group in groups:
        texts.extend(parquet.read_row_group(group, columns=["resource"]).column(0).to_pylist())
        if len(texts) >= 4 * size:
            break
    return [orjson.loads(text) for text in rng.sample(texts, min(size, len(texts)))]


def _value_ranges(
    con, source: str, threshold: int, step: int = 1
) -> dict[str, tuple[float, float, str]]:
    """Per code: the 10th and 90th percentiles of the Observations' values and their most
    frequent unit, on one resource in `step` (chosen by a hash of its id)."""
    sampled = f"hash(id) % {step} = 0 AND " if step > 1 else ""
    # Both paths from one parse of each resource.
    rows = con.execute(
        "SELECT code, quantile_cont(v, 0.1), quantile_cont(v, 0.9), mode(u) FROM ("
        "SELECT code, TRY_CAST(q[1] AS DOUBLE) AS v, q[2] AS u FROM (SELECT code, "
        "json_extract_string(resource, ['$.valueQuantity.value', '$.valueQuantity.unit']) AS q "
        f"FROM {source} WHERE {sampled}code IS NOT NULL)) WHERE v IS NOT NULL GROUP BY code "
        f"HAVING count(*) >= {threshold}"
    ).fetchall()
    return {code: (float(low), float(high), unit) for code, low, high, unit in rows}


def _put(resource: dict, path: tuple[str, ...], value: str) -> None:
    target = resource
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
