"""Catalogue statistics of a version: counts, patients, dates, top codes, completeness.

Computed once, at publish time, with small counts already masked (`<10` for a threshold of
10), so the file can be shown as is: the public summary shows counts and dates, members see
codes and completeness too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

TOP_CODES = 10
COMPLETENESS_SAMPLE = 100_000


def mask(count: int, threshold: int) -> int | str:
    """A count as shown: itself, or `<threshold` when under it (0 stays 0)."""
    return count if count == 0 or count >= threshold else f"<{threshold}"


def compute(con: duckdb.DuckDBPyConnection, real: Path, threshold: int) -> dict[str, Any]:
    types: dict[str, Any] = {}
    first, last = None, None
    patients = 0
    for table in sorted(real.glob("*.parquet")):
        source = f"read_parquet('{table}')"
        count, with_patient, n_patients, low, high = con.execute(
            f"SELECT count(*), count(patient), count(DISTINCT patient), "
            f"min(substr(effective, 1, 10)), max(substr(effective, 1, 10)) FROM {source}"
        ).fetchone()
        if table.stem == "Patient":
            patients = count
        elif low is not None:
            first = low if first is None or low < first else first
            last = high if last is None or high > last else last
        codes: dict[str, list[dict[str, Any]]] = {}
        rows = con.execute(
            "SELECT system, code, n FROM (SELECT split_part(code, '|', 1) AS system, "
            "split_part(code, '|', 2) AS code, count(*) AS n, row_number() OVER "
            "(PARTITION BY split_part(code, '|', 1) ORDER BY count(*) DESC, "
            f"split_part(code, '|', 2)) AS rank FROM {source} WHERE code IS NOT NULL "
            f"GROUP BY 1, 2) WHERE rank <= {TOP_CODES} ORDER BY system, n DESC, code"
        ).fetchall()
        for system, code, n in rows:
            codes.setdefault(system or "(no system)", []).append(
                {"code": code, "count": mask(int(n), threshold)}
            )
        sample = min(count, COMPLETENESS_SAMPLE)
        elements = con.execute(
            "SELECT k, count(*) FROM (SELECT unnest(json_keys(resource)) AS k FROM "
            f"(SELECT resource FROM {source} LIMIT {sample})) GROUP BY k ORDER BY k"
        ).fetchall()
        completeness = {
            k: round(n / sample, 3) for k, n in elements if k not in ("resourceType", "id")
        }
        types[table.stem] = {
            "count": mask(int(count), threshold),
            "patients": mask(int(n_patients), threshold),
            "with_patient": round(with_patient / count, 3) if count else 0,
            "first": low,
            "last": high,
            "top_codes": codes,
            "completeness": completeness,
            "completeness_sample": sample,
        }
    return {
        "threshold": threshold,
        "patients": mask(patients, threshold),
        "first": first,
        "last": last,
        "types": types,
    }


def public(catalogue: dict[str, Any]) -> dict[str, Any]:
    """The part any visitor may read: counts per type, patients, date range."""
    return {
        "threshold": catalogue["threshold"],
        "patients": catalogue["patients"],
        "first": catalogue["first"],
        "last": catalogue["last"],
        "types": {name: {"count": t["count"]} for name, t in catalogue["types"].items()},
    }
