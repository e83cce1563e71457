"""Run compiled queries on DuckDB and turn their aggregates into checked output tables.

Nothing leaves this module without disclosure control: grouped counts are protected as a
grid with margins (`disclosure.protect`), quantiles are shown only for groups of at least
the threshold, and Kaplan-Meier curves are computed from rounded cumulative counts and cut
where fewer than the threshold remain at risk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from campus.analysis import disclosure
from campus.analysis.compiler import Compiled, Query
from campus.analysis.disclosure import ALL
from campus.errors import BadRequest
from campus.i18n import N_

Noise = Callable[[int], int]


@dataclass(frozen=True)
class Controls:
    threshold: int = 10
    base: int = 5
    noise: Noise | None = None  # differential privacy on counts, when asked


def _label(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cells(rows: list[tuple], width: int) -> dict[tuple, float]:
    return {tuple(_label(v) for v in row[:width]): float(row[width]) for row in rows}


def _refuse_row_level(query: Query, cells: dict[tuple, float], cohort: int) -> None:
    if query.dims and len(cells) >= 2 and cohort >= 2 and max(cells.values()) <= 1:
        raise BadRequest(
            f"output {query.output!r} has one person per group: it would be a row-level "
            "table; group by a coarser column or band it (width, part)",
            code="row_level_output",
            where=query.output,
        )


def _noisy(cells: dict[tuple, float], noise: Noise | None) -> dict[tuple, float]:
    if noise is None:
        return cells
    return {key: float(max(noise(int(value)), 0)) for key, value in cells.items()}


def grouped_table(query: Query, rows: list[tuple], cohort: int, controls: Controls) -> dict:
    """Counts, cross-tabulations and histograms: protected grid with its margins."""
    width = len(query.dims)
    cells = _cells(rows, width)
    _refuse_row_level(query, cells, cohort)
    cells = _noisy(cells, controls.noise)
    if width == 0:
        value = cells.get((), 0.0)
        cells = {(ALL,): value}
        width = 1
    levels = None
    if query.levels:
        observed = [sorted({k[d] for k in cells}, key=disclosure._sort_key) for d in range(width)]
        levels = [query.levels.get(d, observed[d]) for d in range(width)]
    if query.kind == "counts" and query.dims and query.dims[-1] == "event":
        levels = [
            sorted({k[d] for k in cells}, key=disclosure._sort_key) for d in range(width - 1)
        ] + [["false", "true"]]
    published, report = disclosure.protect(
        cells, threshold=controls.threshold, base=controls.base, levels=levels
    )
    if query.kind == "counts" and query.dims and query.dims[-1] == "event":
        return _rate_table(query, published, report)
    columns = [*query.dims, "count"] if query.dims else ["count"]
    out_rows = []
    for key, value in published.items():
        if not query.dims and key != (ALL,):
            continue
        out_rows.append([*key, value] if query.dims else [value])
    return {
        "name": query.output,
        "kind": query.kind,
        "columns": columns,
        "rows": out_rows,
        "disclosure": report.as_json() | {"noise": controls.noise is not None},
    }


def _rate_table(query: Query, published: dict, report: disclosure.Report) -> dict:
    groups = query.dims[:-1]
    rows = []
    for key, total in published.items():
        if key[-1] != ALL:
            continue
        events = published.get((*key[:-1], "true"))
        rate = round(events / total, 4) if events is not None and total else None
        rows.append([*key[:-1], total, events, rate])
    return {
        "name": query.output,
        "kind": "rate",
        "columns": [*groups, "count", "events", "rate"],
        "rows": rows,
        "disclosure": report.as_json(),
    }


def quantile_table(query: Query, rows: list[tuple], controls: Controls) -> dict:
    """Quantiles by group, shown only where the group has at least `threshold` values."""
    width = len(query.dims)
    out_rows, hidden = [], 0
    for row in rows:
        key, n, values = row[:width], row[width], row[width + 1]
        if n < controls.threshold:
            hidden += 1
            out_rows.append([*(_label(v) for v in key), None, None])
            continue
        shown = [round(float(v), 2) for v in values]
        out_rows.append([*(_label(v) for v in key), disclosure.round_to(n, controls.base), shown])
    notes = [f"{hidden} group(s) under {controls.threshold} values hidden"] if hidden else []
    return {
        "name": query.output,
        "kind": "quantiles",
        "columns": [*query.dims, "count", "quantiles"],
        "rows": out_rows,
        "disclosure": {"threshold": controls.threshold, "notes": notes},
    }


def survival_table(query: Query, rows: list[tuple], interval: int, controls: Controls) -> dict:
    """Kaplan-Meier from rounded cumulative events and censorings, cut at small risk sets."""
    width = len(query.dims)
    per_group: dict[tuple, dict[int, list[int]]] = {}
    for row in rows:
        key, t, observed, n = (
            tuple(_label(v) for v in row[:width]),
            row[width],
            row[width + 1],
            row[width + 2],
        )
        slot = per_group.setdefault(key, {}).setdefault(int(t), [0, 0])
        slot[0 if observed else 1] += int(n)
    base, threshold = controls.base, controls.threshold
    out_rows, notes = [], []
    for key in sorted(per_group, key=lambda k: tuple(disclosure._sort_key(v) for v in k)):
        times = per_group[key]
        total = sum(a + b for a, b in times.values())
        if total < threshold:
            notes.append(f"a group under {threshold} people hidden")
            continue
        start = disclosure.round_to(total, base)
        cum_events = cum_censored = 0
        survival = 1.0
        for t in range(0, max(times) + 1):
            at_risk = start - cum_events - cum_censored
            if at_risk < threshold:
                notes.append("curve cut where fewer than the threshold remain at risk")
                break
            new_events = disclosure.round_to(_raw_cum(times, t, 0), base)
            new_censored = disclosure.round_to(_raw_cum(times, t, 1), base)
            d = max(new_events - cum_events, 0)
            survival *= max(1 - d / at_risk, 0.0)
            out_rows.append([*key, t * interval, at_risk, d, round(survival, 4)])
            cum_events, cum_censored = new_events, new_censored
    return {
        "name": query.output,
        "kind": "time_to_event",
        "columns": [*query.dims, "day", "at_risk", "events", "survival"],
        "rows": out_rows,
        "disclosure": {
            "threshold": threshold,
            "rounding_base": base,
            "notes": [*sorted(set(notes)), f"cumulative counts rounded to multiples of {base}"],
        },
    }


def _raw_cum(times: dict[int, list[int]], upto: int, index: int) -> int:
    return sum(v[index] for t, v in times.items() if t <= upto)


def run(
    connection: duckdb.DuckDBPyConnection,
    compiled: Compiled,
    controls: Controls,
    intervals: dict[str, int] | None = None,
) -> dict:
    """Execute the cohort and every output query; return only checked aggregates."""
    for statement in compiled.setup:
        connection.execute(statement)
    cohort = int(connection.execute(compiled.cohort_count).fetchone()[0])  # type: ignore[index]
    if cohort == 0:
        raise BadRequest(
            N_(
                "the cohort is empty: no patient meets the inclusion criteria without meeting "
                "an exclusion criterion; loosen the criteria"
            ),
            code="empty_cohort",
            where="cohort",
        )
    tables = []
    for query in compiled.queries:
        rows = connection.execute(query.sql).fetchall()
        if query.kind == "quantiles":
            tables.append(quantile_table(query, rows, controls))
        elif query.kind == "time_to_event":
            interval = (intervals or {}).get(query.output, 30)
            tables.append(survival_table(query, rows, interval, controls))
        else:
            tables.append(grouped_table(query, rows, cohort, controls))
    shown = disclosure.round_to(cohort, controls.base) if cohort >= controls.threshold else None
    return {"cohort": shown, "tables": tables}
