"""Catalogue statistics of a version: counts, patients, dates, top codes, completeness.

Computed once, at publish time, with small counts already masked (`<10` for a threshold of
10), so the file can be shown as is: the public summary shows counts and dates, members see
codes and completeness too.

A share is a count divided by another: it must not give back a masked count. A type with fewer
resources than the threshold has no completeness and no share with a patient (its sample size
would be its count); an element present in fewer resources of the sample than the threshold
shows `<10` instead of its share. `member` applies the same rule to catalogues written before
it, when they are read.

The catalogue follows the dummy twin's rule (`campus.warehouse.dummy`), since it is open to
every member without an approval: a code seen fewer times than the threshold is not listed
at all (not even as `<10`), the counts of the codes listed are rounded to the rounding base,
and dates are months seen at least threshold times (the first and last such month), never
one record's day. `member` applies the rule to catalogues written before it, too.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb

from campus.warehouse import layout

TOP_CODES = 10
COMPLETENESS_SAMPLE = 100_000


def mask(count: int, threshold: int) -> int | str:
    """A count as shown: itself, or `<threshold` when under it (0 stays 0)."""
    return count if count == 0 or count >= threshold else f"<{threshold}"


def share(n: int, total: int, threshold: int) -> float | str:
    """n / total as shown: `<threshold` when n is under it, since total is shown too."""
    return round(n / total, 3) if n == 0 or n >= threshold else f"<{threshold}"


def _unmasked(count: Any) -> bool:
    return isinstance(count, int)


def _protect(entry: dict[str, Any], threshold: int) -> dict[str, Any]:
    """One type's entry with no share that could reveal a masked count."""
    sample = entry.get("completeness_sample")
    if _unmasked(sample):
        entry = {**entry, "completeness_sample": mask(sample, threshold)}
    if not _unmasked(entry["count"]):
        # The dates of fewer resources than the threshold are theirs: not shown either.
        return {**entry, "with_patient": None, "completeness": {}, "first": None, "last": None}
    return entry


def compute(con: duckdb.DuckDBPyConnection, real: Path, threshold: int) -> dict[str, Any]:
    types: dict[str, Any] = {}
    first, last = None, None
    patients = 0
    for name, table in layout.tables_in(real).items():
        source = layout.scan(table)
        count, with_patient, n_patients = con.execute(
            f"SELECT count(*), count(patient), count(DISTINCT patient) FROM {source}"
        ).fetchone()
        # The first and last month seen at least threshold times, as the twin draws them.
        low, high = con.execute(
            "SELECT min(m), max(m) FROM (SELECT substr(effective, 1, 7) AS m FROM "
            f"{source} WHERE effective IS NOT NULL GROUP BY 1 HAVING count(*) >= {threshold})"
        ).fetchone()
        if name == "Patient":
            patients = count
        elif low is not None and count >= threshold:  # no small type sets the dataset's range
            first = low if first is None or low < first else first
            last = high if last is None or high > last else last
        codes: dict[str, list[dict[str, Any]]] = {}
        rows = con.execute(
            "SELECT system, code, n FROM (SELECT split_part(code, '|', 1) AS system, "
            "split_part(code, '|', 2) AS code, count(*) AS n, row_number() OVER "
            "(PARTITION BY split_part(code, '|', 1) ORDER BY count(*) DESC, "
            f"split_part(code, '|', 2)) AS rank FROM {source} WHERE code IS NOT NULL "
            f"GROUP BY 1, 2 HAVING count(*) >= {threshold}) "  # rare codes are not listed
            f"WHERE rank <= {TOP_CODES} ORDER BY system, n DESC, code"
        ).fetchall()
        for system, code, n in rows:
            codes.setdefault(system or "(no system)", []).append(
                {"code": code, "count": mask(int(n), threshold)}
            )
        sample = min(int(count), COMPLETENESS_SAMPLE)
        entry = {
            "count": mask(int(count), threshold),
            "patients": mask(int(n_patients), threshold),
            "first": low,
            "last": high,
            "top_codes": codes,
            "completeness_sample": sample,
        }
        if _unmasked(entry["count"]):
            elements = con.execute(
                "SELECT k, count(*) FROM (SELECT unnest(json_keys(resource)) AS k FROM "
                f"(SELECT resource FROM {source} LIMIT {sample})) GROUP BY k ORDER BY k"
            ).fetchall()
            entry["with_patient"] = share(int(with_patient), int(count), threshold)
            entry["completeness"] = {
                k: share(int(n), sample, threshold)
                for k, n in elements
                if k not in ("resourceType", "id")
            }
        types[name] = _protect(entry, threshold)
    return {
        "threshold": threshold,
        "patients": mask(patients, threshold),
        "first": first,
        "last": last,
        "types": types,
    }


def member(catalogue: dict[str, Any], rounding_base: int = 5) -> dict[str, Any]:
    """What members see: everything, under the twin's rule (no rare code, code counts
    rounded, months), with the shares of older catalogues masked as `compute` masks them
    (they were written with exact shares)."""
    threshold = catalogue["threshold"]
    types = {}
    for name, entry in catalogue["types"].items():
        entry = _protect(entry, threshold)
        entry = {
            **entry,
            "top_codes": _frequent_codes(entry.get("top_codes") or {}, threshold, rounding_base),
            "first": _month(entry.get("first")),
            "last": _month(entry.get("last")),
        }
        sample = entry.get("completeness_sample")
        if _unmasked(sample) and sample:
            entry = {
                **entry,
                "with_patient": _reshare(entry.get("with_patient"), int(entry["count"]), threshold),
                "completeness": {
                    k: _reshare(v, sample, threshold) for k, v in entry["completeness"].items()
                },
            }
        types[name] = entry
    return {
        **catalogue,
        "first": _month(catalogue.get("first")),
        "last": _month(catalogue.get("last")),
        "types": types,
    }


def _frequent_codes(
    codes: dict[str, list[dict[str, Any]]], threshold: int, base: int
) -> dict[str, list[dict[str, Any]]]:
    """The codes seen at least threshold times, their counts rounded; a system left with no
    code is not named either."""
    shown = {}
    for system, entries in codes.items():
        kept = [
            {**c, "count": rounded(c["count"], base)}
            for c in entries
            if _unmasked(c["count"]) and c["count"] >= threshold
        ]
        if kept:
            shown[system] = kept
    return shown


def rounded(count: int, base: int) -> int:
    """A count rounded to the nearest multiple of `base` (halves up), as analyses round."""
    base = max(base, 1)
    return base * math.floor(count / base + 0.5)


def _month(date: Any) -> Any:
    return date[:7] if isinstance(date, str) else date


def _reshare(value: Any, total: int, threshold: int) -> Any:
    if not isinstance(value, float | int) or isinstance(value, bool):
        return value
    return share(round(value * total), total, threshold) if value else value


def public(catalogue: dict[str, Any]) -> dict[str, Any]:
    """The part any visitor may read: counts per type, patients, date range (months)."""
    return {
        "threshold": catalogue["threshold"],
        "patients": catalogue["patients"],
        "first": _month(catalogue["first"]),
        "last": _month(catalogue["last"]),
        "types": {name: {"count": t["count"]} for name, t in catalogue["types"].items()},
    }
