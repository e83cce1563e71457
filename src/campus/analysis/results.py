"""Run compiled queries on DuckDB or Spark and turn their aggregates into checked output tables.

Nothing leaves this module without disclosure control: a cohort under the threshold (empty
included) publishes every table withheld, the same whatever its size; grouped counts are
protected as a grid with margins (`disclosure.protect`); quantiles are means of disjoint
windows of `threshold` values, for groups of at least the threshold; Kaplan-Meier curves
are computed from rounded cumulative counts and cut where fewer than the threshold remain
at risk. Under differential privacy the cohort size and every cell are noised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from campus.analysis import disclosure
from campus.analysis.compiler import Compiled, Query
from campus.analysis.disclosure import ALL
from campus.analysis.engines import Backend, DuckDBBackend

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


def _row_level(query: Query, cells: dict[tuple, float], cohort: int) -> bool:
    return bool(query.dims) and len(cells) >= 2 and cohort >= 2 and max(cells.values()) <= 1


def _noisy(cells: dict[tuple, float], noise: Noise | None) -> dict[tuple, float]:
    if noise is None:
        return cells
    return {key: float(max(noise(int(value)), 0)) for key, value in cells.items()}


def _is_rate(query: Query) -> bool:
    return query.kind == "counts" and bool(query.dims) and query.dims[-1] == "event"


def shape(query: Query) -> tuple[str, list[str]]:
    """The kind and columns a query's table has, whatever the data (for withheld tables)."""
    if query.kind == "quantiles":
        return "quantiles", [*query.dims, "count", "quantiles"]
    if query.kind == "time_to_event":
        return "time_to_event", [*query.dims, "day", "at_risk", "events", "survival"]
    if _is_rate(query):
        return "rate", [*query.dims[:-1], "count", "events", "rate"]
    return query.kind, [*query.dims, "count"] if query.dims else ["count"]


def withheld(query: Query, controls: Controls, note: str) -> dict:
    """A table published without any row: same shape whatever made it withheld."""
    kind, columns = shape(query)
    return {
        "name": query.output,
        "kind": kind,
        "columns": columns,
        "rows": [],
        "disclosure": {"threshold": controls.threshold, "withheld": True, "notes": [note]},
    }


def _levels(query: Query, cells: dict[tuple, float], width: int) -> list[list] | None:
    """Each dimension's levels: declared ones (histogram bins, event) or those observed."""
    if not query.levels and not _is_rate(query):
        return None
    observed = [sorted({k[d] for k in cells}, key=disclosure._sort_key) for d in range(width)]
    levels = [query.levels.get(d, observed[d]) for d in range(width)]
    if _is_rate(query):
        levels[-1] = ["false", "true"]
    return levels


def grouped_table(query: Query, rows: list[tuple], cohort: int, controls: Controls) -> dict:
    """Counts, cross-tabulations and histograms: protected grid with its margins.

    Under differential privacy every cell of the completed grid is noised, empty cells
    included, before suppression and rounding (which are then post-processing).
    """
    width = len(query.dims)
    cells = _cells(rows, width)
    if controls.noise is None and _row_level(query, cells, cohort):
        return withheld(
            query,
            controls,
            "one person per group: withheld as a row-level table; group by a coarser column "
            "or band it (width, part)",
        )
    if width == 0:
        cells = {(ALL,): cells.get((), 0.0)}
        width = 1
    levels = _levels(query, cells, width)
    if controls.noise is not None:
        cells = _noisy(disclosure.complete_grid(cells, levels), controls.noise)
    published, report = disclosure.protect(
        cells, threshold=controls.threshold, base=controls.base, levels=levels
    )
    if _is_rate(query):
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


def quantile_windows(n: int, quantiles: list[float], k: int) -> list[tuple[int, int] | None]:
    """Which order statistics each quantile averages, or None where it is withheld.

    A quantile q of n sorted values is the mean of the k values nearest to its position
    (n - 1) q, k being the disclosure threshold; the windows of one group never overlap (in
    order of q, a window that would overlap an earlier one is withheld). Each released number
    is then the mean of k people disjoint from the others': no equation between them isolates
    one value, and the minimum and maximum are never released on their own.
    """
    out: list[tuple[int, int] | None] = [None] * len(quantiles)
    if k < 1 or n < k:
        return out
    taken = 0
    for i in sorted(range(len(quantiles)), key=lambda j: quantiles[j]):
        start = round((n - 1) * quantiles[i] - (k - 1) / 2)
        start = min(max(start, 0), n - k)
        if start < taken:
            continue
        out[i] = (start, start + k)
        taken = start + k
    return out


def quantile_table(query: Query, rows: list[tuple], controls: Controls) -> dict:
    """Quantiles by group as means of k disjoint order statistics (see `quantile_windows`),
    only for groups of at least the threshold."""
    width = len(query.dims)
    k = max(controls.threshold, 2)
    out_rows, hidden, partial = [], 0, 0
    for row in rows:
        key, n, values = row[:width], int(row[width]), row[width + 1]
        labels = [_label(v) for v in key]
        if n < controls.threshold:
            hidden += 1
            out_rows.append([*labels, None, None])
            continue
        windows = quantile_windows(n, list(query.quantiles), k)
        partial += any(w is None for w in windows)
        shown = [
            None if w is None else round(sum(float(v) for v in values[w[0] : w[1]]) / k, 2)
            for w in windows
        ]
        out_rows.append([*labels, disclosure.round_to(n, controls.base), shown])
    notes = [f"each quantile is the mean of the {k} values around it; min and max never shown"]
    if hidden:
        notes.append(f"{hidden} group(s) under {controls.threshold} values hidden")
    if partial:
        notes.append(f"quantiles whose {k} values would overlap another's withheld")
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
    connection: duckdb.DuckDBPyConnection | Backend,
    compiled: Compiled,
    controls: Controls,
    intervals: dict[str, int] | None = None,
) -> dict:
    """Execute the cohort and every output query on an engine (a DuckDB connection, or a
    backend of `campus.analysis.engines`); return only checked aggregates."""
    engine = (
        DuckDBBackend(connection)
        if isinstance(connection, duckdb.DuckDBPyConnection)
        else connection
    )
    for statement in compiled.setup:
        engine.execute(statement)
    cohort = int(engine.rows(compiled.cohort_count)[0][0])
    if controls.noise is not None:
        cohort = max(int(controls.noise(cohort)), 0)  # the cohort size is a release too
    if cohort < controls.threshold:
        # Empty or tiny: a normal result, the same whatever the size under the threshold.
        note = f"the cohort has fewer than {controls.threshold} people: nothing is shown"
        return {"cohort": None, "tables": [withheld(q, controls, note) for q in compiled.queries]}
    tables = []
    for query in compiled.queries:
        rows = engine.rows(query.sql)
        if query.kind == "quantiles":
            tables.append(quantile_table(query, rows, controls))
        elif query.kind == "time_to_event":
            interval = (intervals or {}).get(query.output, 30)
            tables.append(survival_table(query, rows, interval, controls))
        else:
            tables.append(grouped_table(query, rows, cohort, controls))
    return {"cohort": disclosure.round_to(cohort, controls.base), "tables": tables}
