"""What a node may send, and how the centre pools it (exactly, where the sums are exact).

A node answers a task with the checked output tables of the same engine as a local job,
after its own disclosure control, reduced to sufficient statistics:

- grouped counts (counts, cross-tabulations, fixed-bin histograms) with their margins, and
  the numerators and denominators of rates: suppressed cells as null, every count rounded;
- per distribution, each group's (n, Σx, Σx²), null for groups under the node's threshold
  (and one more of their line, so that none can be recomputed from the total);
- per time-to-event output, the risk-set table of the local Kaplan-Meier (at risk and events
  per interval, from rounded cumulative counts, cut where fewer than the threshold remain).

Nothing else is accepted: the shape of every table is fixed by the definition, before any
data is read, and an answer that differs is refused whole.

Pooling adds the nodes' cells key by key (a key a node does not publish counts zero there;
a cell a node suppressed makes the pooled cell unknown). The pooled table is then protected
again: primary suppression under the centre's threshold, secondary suppression over its
lines (an unknown cell counts as hidden), rounding. Each node's pattern already protects its
lines, so the union of the patterns does too. Means and variances pool exactly from the
sums; Kaplan-Meier from the summed risk sets; quantiles are read from the released pooled
histogram by interpolation within a bin, and said to be approximate.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from campus.analysis import disclosure
from campus.analysis.definition import (
    Analysis,
    Counts,
    Crosstab,
    Distribution,
    Histogram,
    TimeToEvent,
)
from campus.analysis.disclosure import ALL
from campus.errors import BadRequest
from campus.federation.statistics import wants_summary

MAX_ROWS = disclosure.MAX_CELLS
MAX_LABEL = 200
MAX_SUM = 1e15  # a sum of values beyond this is not a statistic of a hospital's patients
UNKNOWN = 0.5  # below any threshold: a cell a node suppressed is hidden in the pool too
WIDTH = {"rate": 3, "summary": 3, "risk_sets": 3}  # value columns after the labels (else 1)


def expected_tables(analysis: Analysis) -> list[tuple[str, str, list[str]]]:
    """(name, kind, columns) of every table a node must send; BadRequest (with where) for
    an output that cannot be pooled from sufficient statistics."""
    tables = []
    for i, output in enumerate(analysis.outputs):
        where = f"outputs[{i}]"
        if isinstance(output, Counts) and output.event is None:
            dims = [g.column for g in output.group_by]
            tables.append((output.name, "counts", [*dims, "count"]))
        elif isinstance(output, Counts):
            dims = [g.column for g in output.group_by]
            tables.append((output.name, "rate", [*dims, "count", "events", "rate"]))
        elif isinstance(output, Crosstab):
            tables.append(
                (output.name, "crosstab", [output.rows.column, output.columns.column, "count"])
            )
        elif isinstance(output, Distribution):
            dims = [g.column for g in output.group_by]
            if not output.histogram:
                raise BadRequest(
                    f"{where}.histogram: a federated distribution needs histogram edges: "
                    "quantiles are read from the pooled fixed-bin histogram, and the outer "
                    "edges bound each value's weight in a mean",
                    code="not_federable",
                    where=f"{where}.histogram",
                )
            if wants_summary(analysis, output):
                tables.append((output.name, "summary", [*dims, "count", "sum", "sum_squares"]))
            tables.append((output.name, "histogram", [*dims, "bin", "count"]))
        elif isinstance(output, TimeToEvent):
            dims = [g.column for g in output.group_by]
            tables.append((output.name, "risk_sets", [*dims, "day", "at_risk", "events"]))
        else:  # pragma: no cover - every output type is handled above
            raise BadRequest(f"{where}: not federated", code="not_federable", where=where)
    return tables


def _fail(where: str, why: str) -> BadRequest:
    return BadRequest(f"{where}: {why}", code="bad_answer", where=where)


def _count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, "a count must be a non-negative integer or null")
    return value


def _sum(value: Any, where: str, *, positive: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > MAX_SUM
        or (positive and value < 0)
    ):
        raise _fail(where, "a sum is a finite number")
    return float(value)


def _values(kind: str, values: list, at: str) -> list:
    """The statistics of one row, checked for its kind."""
    if kind == "rate":
        # The node's own events / count: checked, ignored when pooling (recomputed).
        rate = values[-1]
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1
        ):
            raise _fail(at, "a rate is a number between 0 and 1 or null")
        return [_count(values[0], at), _count(values[1], at), rate]
    if kind == "summary":
        if values == [None, None, None]:
            return values
        n = _count(values[0], at)
        if not n:
            raise _fail(at, "a group's n, sum and sum of squares are all given, or all null")
        return [n, _sum(values[1], at), _sum(values[2], at, positive=True)]
    if kind == "risk_sets":
        day, at_risk, events = (_count(v, at) for v in values)
        if day is None or at_risk is None or events is None or events > at_risk:
            raise _fail(at, "a risk set is a day, those at risk and events among them")
        return [day, at_risk, events]
    return [_count(values[0], at)]


def check_answer(analysis: Analysis, answer: Any) -> dict[str, Any]:
    """The answer reduced to exactly the allowed statistics, or BadRequest saying where."""
    if not isinstance(answer, dict) or set(answer) - {"cohort", "tables"}:
        raise _fail("answer", "only 'cohort' and 'tables' may be sent")
    cohort = _count(answer.get("cohort"), "answer.cohort")
    tables = answer.get("tables")
    expected = expected_tables(analysis)
    if not isinstance(tables, list) or len(tables) != len(expected):
        raise _fail("answer.tables", f"{len(expected)} table(s) expected")
    clean = []
    for i, (table, (name, kind, columns)) in enumerate(zip(tables, expected, strict=True)):
        where = f"answer.tables[{i}]"
        if not isinstance(table, dict) or set(table) - {
            "name",
            "kind",
            "columns",
            "rows",
            "withheld",
        }:
            raise _fail(where, "only name, kind, columns, rows and withheld may be sent")
        if table.get("name") != name or table.get("kind") != kind:
            raise _fail(where, f"expected the {kind} table {name!r}")
        if table.get("columns") != columns:
            raise _fail(where, f"columns must be {columns}")
        rows = table.get("rows")
        if not isinstance(rows, list) or len(rows) > MAX_ROWS:
            raise _fail(f"{where}.rows", f"a list of at most {MAX_ROWS} rows")
        withheld = table.get("withheld", False) is True
        if withheld and rows:
            raise _fail(where, "a withheld table has no rows")
        checked = []
        for j, row in enumerate(rows):
            at = f"{where}.rows[{j}]"
            if not isinstance(row, list) or len(row) != len(columns):
                raise _fail(at, f"a row has {len(columns)} values")
            width = WIDTH.get(kind, 1)
            labels = row[:-width]
            for label in labels:
                if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
                    raise _fail(at, f"group labels are text of at most {MAX_LABEL} characters")
            checked.append([*labels, *_values(kind, row[-width:], at)])
        clean.append(
            {"name": name, "kind": kind, "columns": columns, "rows": checked, "withheld": withheld}
        )
    return {"cohort": cohort, "tables": clean}


def from_result(
    analysis: Analysis, result: dict[str, Any], sums: dict[str, list[list]] | None = None
) -> dict[str, Any]:
    """A node's answer from its local run's checked result and its protected sums
    (`statistics.summaries`): the statistics, nothing else (no dataset version, no
    disclosure notes, no timing, no survival column: the centre recomputes it)."""
    local = {(t["name"], t["kind"]): t for t in result["tables"]}
    cohort = result.get("cohort")
    tables = []
    for name, kind, columns in expected_tables(analysis):
        if kind == "summary":
            rows = (sums or {}).get(name, [])
            withheld = cohort is None
        else:
            table = local[(name, "time_to_event" if kind == "risk_sets" else kind)]
            withheld = bool(table.get("disclosure", {}).get("withheld"))
            rows = [r[:-1] for r in table["rows"]] if kind == "risk_sets" else table["rows"]
        tables.append(
            {
                "name": name,
                "kind": kind,
                "columns": columns,
                "rows": [] if withheld else rows,
                "withheld": withheld,
            }
        )
    return check_answer(analysis, {"cohort": cohort, "tables": tables})


def released_shape(kind: str, columns: list[str]) -> tuple[str, list[str]]:
    """The kind and columns of the pooled table a node's table becomes."""
    if kind == "summary":
        return "summary", [*columns[:-3], "count", "mean", "sd"]
    if kind == "risk_sets":
        return "time_to_event", [*columns, "survival"]
    return kind, columns


def pool(
    analysis: Analysis, answers: list[dict[str, Any]], *, threshold: int, base: int
) -> dict[str, Any]:
    """Add the nodes' answers and protect the pooled tables again."""
    cohorts = [a["cohort"] for a in answers]
    cohort = None if any(c is None for c in cohorts) else sum(cohorts)
    if cohort is not None and cohort < threshold:
        cohort = None
    outputs = {o.name: o for o in analysis.outputs}
    tables = []
    for index, (name, kind, columns) in enumerate(expected_tables(analysis)):
        parts = [a["tables"][index] for a in answers]
        report = {"threshold": threshold, "rounding_base": base, "nodes": len(answers)}
        out_kind, out_columns = released_shape(kind, columns)
        output = outputs[name]
        asks_quantiles = kind == "histogram" and bool(getattr(output, "quantiles", None))
        if cohort is None or any(p["withheld"] for p in parts):
            note = "withheld: the cohort is under the threshold at one node or more, or pooled"
            shapes = [(out_kind, out_columns)]
            if asks_quantiles:
                shapes.insert(0, ("quantiles", [*columns[:-2], "count", "quantiles"]))
            for each_kind, each_columns in shapes:
                tables.append(
                    {
                        "name": name,
                        "kind": each_kind,
                        "columns": each_columns,
                        "rows": [],
                        "disclosure": report | {"withheld": True, "notes": [note]},
                    }
                )
            continue
        if kind == "summary":
            assert isinstance(output, Distribution) and output.histogram is not None
            edges = output.histogram.edges
            rows, notes = _pool_sums(parts, threshold, base, (edges[0], edges[-1]))
        elif kind == "risk_sets":
            rows, notes = _pool_risk_sets(parts, threshold)
        else:
            rows, notes = _pool_counts(kind, parts, threshold, base)
        table = {
            "name": name,
            "kind": out_kind,
            "columns": out_columns,
            "rows": rows,
            "disclosure": report | {"withheld": False, "notes": notes},
        }
        if asks_quantiles:
            assert isinstance(output, Distribution) and output.histogram is not None
            tables.append(_quantiles(table, output, threshold, base, report))
        tables.append(table)
    return {"cohort": cohort, "tables": tables, "pooled": True}


def _pool_counts(
    kind: str, parts: list[dict], threshold: int, base: int
) -> tuple[list[list], list[str]]:
    """Counts, rates, cross-tabs and histograms: cells summed, then protected again."""
    full: dict[tuple, float] = {}
    unknown: set[tuple] = set()
    for part in parts:
        for key, value in _cells(kind, part["rows"]):
            if value is None:
                unknown.add(key)
            full[key] = full.get(key, 0.0) + (value or 0)
    if kind == "rate":
        _add_non_events(full, unknown)
    for key in unknown:
        full[key] = UNKNOWN
    hidden, _primary, _secondary = disclosure.suppress(full, threshold)
    shown = {k: None if k in hidden else disclosure.round_to(v, base) for k, v in full.items()}
    rows = _rate_rows(shown) if kind == "rate" else [[*k, v] for k, v in shown.items()]
    width = WIDTH.get(kind, 1)
    rows.sort(key=lambda r: tuple(disclosure._sort_key(v) for v in r[:-width]))
    notes = ["sums of the nodes' published (rounded) counts"]
    if unknown:
        notes.append(f"{len(unknown)} cell(s) suppressed at a node stay suppressed")
    if len(hidden) > len(unknown):
        notes.append(f"{len(hidden) - len(unknown)} more cell(s) suppressed after pooling")
    return rows, notes


def _pool_sums(
    parts: list[dict], threshold: int, base: int, bounds: tuple[float, float]
) -> tuple[list[list], list[str]]:
    """Means and standard deviations from the summed (n, Σx, Σx²) of every node, each value
    clamped by its node to `bounds` (the histogram's outer edges).

    Exact sums would give exact means, and two jobs whose cohorts differ by one person
    would then give that person's value (n·m₁ - (n-1)·m₂). So the mean is published to a
    step no finer than the most one clamped value can move it ((high - low) / n), and the
    standard deviation to a step no finer than the most it can move it ((high - low) / √n):
    the difference of two such jobs says at most on which side of the mean the person is."""
    sums: dict[tuple, list[float]] = {}
    unknown: set[tuple] = set()
    for part in parts:
        for row in part["rows"]:
            key, (n, total, squares) = tuple(row[:-3]), row[-3:]
            if n is None:
                unknown.add(key)
                continue
            slot = sums.setdefault(key, [0, 0.0, 0.0])
            slot[0] += n
            slot[1] += total
            slot[2] += squares
    counts = {k: UNKNOWN if k in unknown else float(v[0]) for k, v in sums.items()}
    counts |= dict.fromkeys(unknown, UNKNOWN)
    hidden, _primary, _secondary = disclosure.suppress(counts, threshold)
    spread = bounds[1] - bounds[0]
    rows = []
    for key in sorted(counts, key=lambda k: tuple(disclosure._sort_key(v) for v in k)):
        if key in hidden:
            rows.append([*key, None, None, None])
            continue
        n, total, squares = sums[key]
        variance = max(squares - total * total / n, 0.0) / (n - 1) if n > 1 else 0.0
        rows.append(
            [
                *key,
                disclosure.round_to(n, base),
                coarse(total / n, step(spread / n)),
                coarse(math.sqrt(variance), step(spread / math.sqrt(n))),
            ]
        )
    notes = [
        "mean and standard deviation from the sums of every node (n, Σx, Σx²), each value "
        f"clamped to [{bounds[0]:g}, {bounds[1]:g}]; the mean rounded to a step of at least "
        "(high - low) / n and the standard deviation to (high - low) / √n, so that no one "
        "person's value can be read from two jobs; counts rounded"
    ]
    if hidden:
        notes.append(f"{len(hidden)} group(s) under {threshold} values, at a node or pooled")
    return rows, notes


def step(influence: float) -> float:
    """The smallest step of the 1-2-5 series at least as large as one person's largest
    influence."""
    if influence <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(influence))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= influence * (1 - 1e-12))


def coarse(value: float, by: float) -> float:
    """`value` rounded to a multiple of the step `by`."""
    digits = max(0, -math.floor(math.log10(by)))
    return round(round(value / by) * by, digits)


def _pool_risk_sets(parts: list[dict], threshold: int) -> tuple[list[list], list[str]]:
    """Kaplan-Meier from the risk sets summed across nodes, interval by interval, while
    every node reports the interval (a node's curve stops where fewer than its threshold
    remain at risk) and the pooled risk set has at least the centre's threshold."""
    per_node: list[dict[tuple, dict[int, tuple[int, int]]]] = []
    for part in parts:
        groups: dict[tuple, dict[int, tuple[int, int]]] = {}
        for row in part["rows"]:
            groups.setdefault(tuple(row[:-3]), {})[row[-3]] = (row[-2], row[-1])
        per_node.append(groups)
    keys = set.intersection(*(set(g) for g in per_node)) if per_node else set()
    notes = ["Kaplan-Meier from the risk sets (at risk, events) summed across nodes"]
    if any(set(g) - keys for g in per_node):
        notes.append("groups missing at a node (absent or under its threshold) not pooled")
    rows = []
    for key in sorted(keys, key=lambda k: tuple(disclosure._sort_key(v) for v in k)):
        survival = 1.0
        for day in sorted(set().union(*(g[key] for g in per_node))):
            if any(day not in g[key] for g in per_node):
                notes.append("a curve stops where a node's stops (its risk set under threshold)")
                break
            at_risk = sum(g[key][day][0] for g in per_node)
            events = sum(g[key][day][1] for g in per_node)
            if at_risk < threshold:
                notes.append("curve cut where fewer than the threshold remain at risk")
                break
            survival *= max(1 - events / at_risk, 0.0)
            rows.append([*key, day, at_risk, events, round(survival, 4)])
    return rows, sorted(set(notes), key=notes.index)


def _quantile(target: float, n: int, counts: list[int | None], edges: list[float]) -> float | None:
    """The value below which `target` of the `n` people fall: within the bin where the
    cumulative count reaches it, by linear interpolation. The count before a bin is the
    sum of the bins on its left, or n minus the bin and those on its right, whichever side
    has no suppressed bin; None when neither has, or the bin is open (an infinite edge)."""
    for i, count in enumerate(counts):
        left, right = counts[:i], counts[i + 1 :]
        if count is None:
            continue
        if None not in left:
            before = sum(left)  # type: ignore[arg-type]
        elif None not in right:
            before = n - count - sum(right)  # type: ignore[arg-type]
        else:
            continue
        if count and before < target <= before + count:
            low, high = edges[i], edges[i + 1]
            if math.isinf(low) or math.isinf(high):
                return None
            return round(low + (target - before) / count * (high - low), 2)
    return None


def bin_labels(histogram: Histogram) -> list[str]:
    """The bins' labels, as the analysis compiler writes them (open first and last bins)."""
    edges = histogram.edges
    inner = [f"{a:g}–{b:g}" for a, b in itertools.pairwise(edges)]
    return [f"<{edges[0]:g}", *inner, f"≥{edges[-1]:g}"]


def _quantiles(
    histogram: dict, output: Distribution, threshold: int, base: int, report: dict
) -> dict:
    """Approximate quantiles read from the released pooled histogram: linear interpolation
    within the bin where the cumulative count reaches q·n. Post-processing of released
    counts, so no further disclosure; none for a group with a suppressed bin, under the
    threshold, or whose quantile falls in an open first or last bin."""
    assert output.histogram is not None
    labels = bin_labels(output.histogram)
    edges = [-math.inf, *output.histogram.edges, math.inf]
    groups: dict[tuple, dict[str, int | None]] = {}
    for row in histogram["rows"]:
        groups.setdefault(tuple(row[:-2]), {})[row[-2]] = row[-1]
    rows = []
    for key, bins in groups.items():
        counts = [bins.get(label, 0) for label in labels]
        n = bins.get(ALL)
        if n is None and None not in counts:
            n = sum(counts)  # type: ignore[arg-type]
        if n is None or n < threshold:
            rows.append([*key, None, None])
            continue
        values = [_quantile(q * n, n, counts, edges) for q in output.quantiles]
        rows.append([*key, disclosure.round_to(n, base), values])
    return {
        "name": histogram["name"],
        "kind": "quantiles",
        "columns": [*histogram["columns"][:-2], "count", "quantiles"],
        "rows": rows,
        "approximate": True,
        "disclosure": report
        | {
            "withheld": False,
            "notes": [
                "approximate: read from the pooled histogram by linear interpolation within a "
                "bin (at most one bin width off, plus the counts' rounding); none where the "
                "quantile falls in an open first or last bin or a bin is suppressed"
            ],
        },
    }


def _cells(kind: str, rows: list[list]) -> list[tuple[tuple, int | None]]:
    """A table's published cells by key; a rate row is two cells of the grid over the event
    (`*`: everyone in the group, `true`: those with the event)."""
    if kind != "rate":
        return [(tuple(row[:-1]), row[-1]) for row in rows]
    cells = []
    for row in rows:
        groups = tuple(row[:-3])
        cells += [((*groups, ALL), row[-3]), ((*groups, "true"), row[-2])]
    return cells


def _add_non_events(full: dict[tuple, float], unknown: set[tuple]) -> None:
    """The `false` cells (group minus events), protected like every cell of the grid."""
    for key in [k for k in full if k[-1] == ALL]:
        events = (*key[:-1], "true")
        false = (*key[:-1], "false")
        if key in unknown or events in unknown:
            full[false] = UNKNOWN
            unknown.add(false)
        else:
            full[false] = full[key] - full.get(events, 0.0)


def _rate_rows(shown: dict[tuple, int | None]) -> list[list]:
    rows = []
    for key, total in shown.items():
        if key[-1] != ALL:
            continue
        events = shown.get((*key[:-1], "true"))
        rate = round(events / total, 4) if events is not None and total else None
        rows.append([*key[:-1], total, events, rate])
    return rows
