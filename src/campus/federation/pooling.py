"""What a node may send, and how the centre pools it (exactly, where the sums are exact).

A node answers a task with the checked output tables of the same engine as a local job,
after its own disclosure control: grouped counts (counts, cross-tabulations, fixed-bin
histograms) with their margins, suppressed cells as null, every count rounded. Nothing
else is accepted: the shape of every table is fixed by the definition, before any data is
read, and an answer that differs is refused whole.

Pooling adds the nodes' cells key by key (a key a node does not publish counts zero there;
a cell a node suppressed makes the pooled cell unknown). The pooled table is then protected
again: primary suppression under the centre's threshold, secondary suppression over its
lines (an unknown cell counts as hidden), rounding. Each node's pattern already protects its
lines, so the union of the patterns does too.
"""

from __future__ import annotations

from typing import Any

from campus.analysis import disclosure
from campus.analysis.definition import Analysis, Counts, Crosstab, Distribution
from campus.analysis.disclosure import ALL
from campus.errors import BadRequest

MAX_ROWS = disclosure.MAX_CELLS
MAX_LABEL = 200
UNKNOWN = 0.5  # below any threshold: a cell a node suppressed is hidden in the pool too


def expected_tables(analysis: Analysis) -> list[tuple[str, str, list[str]]]:
    """(name, kind, columns) of every table a node must send; BadRequest (with where) for
    an output that cannot be pooled from sufficient statistics yet."""
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
        elif isinstance(output, Distribution) and output.histogram and not output.quantiles:
            dims = [g.column for g in output.group_by]
            tables.append((output.name, "histogram", [*dims, "bin", "count"]))
        else:
            raise BadRequest(
                f"{where}: a federated job pools counts, cross-tabulations and fixed-bin "
                "histograms (distribution with histogram and quantiles: []); rates, "
                "quantiles and time-to-event outputs are not federated yet",
                code="not_federable",
                where=where,
            )
    return tables


def _fail(where: str, why: str) -> BadRequest:
    return BadRequest(f"{where}: {why}", code="bad_answer", where=where)


def _count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, "a count must be a non-negative integer or null")
    return value


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
            width = 3 if kind == "rate" else 1  # count, events, rate | count
            labels = row[:-width]
            for label in labels:
                if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
                    raise _fail(at, f"group labels are text of at most {MAX_LABEL} characters")
            if kind == "rate":
                # The node's own events / count: checked, ignored when pooling (recomputed).
                rate = row[-1]
                if rate is not None and (
                    isinstance(rate, bool)
                    or not isinstance(rate, int | float)
                    or not 0 <= rate <= 1
                ):
                    raise _fail(at, "a rate is a number between 0 and 1 or null")
                checked.append([*labels, _count(row[-3], at), _count(row[-2], at), rate])
            else:
                checked.append([*labels, _count(row[-1], at)])
        clean.append(
            {"name": name, "kind": kind, "columns": columns, "rows": checked, "withheld": withheld}
        )
    return {"cohort": cohort, "tables": clean}


def from_result(analysis: Analysis, result: dict[str, Any]) -> dict[str, Any]:
    """A node's answer from its local run's checked result: the statistics, nothing else
    (no dataset version, no disclosure notes, no timing)."""
    tables = []
    for table in result["tables"]:
        withheld = bool(table.get("disclosure", {}).get("withheld"))
        tables.append(
            {
                "name": table["name"],
                "kind": table["kind"],
                "columns": table["columns"],
                "rows": [] if withheld else table["rows"],
                "withheld": withheld,
            }
        )
    return check_answer(analysis, {"cohort": result.get("cohort"), "tables": tables})


def pool(
    analysis: Analysis, answers: list[dict[str, Any]], *, threshold: int, base: int
) -> dict[str, Any]:
    """Add the nodes' answers and protect the pooled tables again."""
    cohorts = [a["cohort"] for a in answers]
    cohort = None if any(c is None for c in cohorts) else sum(cohorts)
    if cohort is not None and cohort < threshold:
        cohort = None
    tables = []
    for index, (name, kind, columns) in enumerate(expected_tables(analysis)):
        parts = [a["tables"][index] for a in answers]
        report = {"threshold": threshold, "rounding_base": base, "nodes": len(answers)}
        if cohort is None or any(p["withheld"] for p in parts):
            note = "withheld: the cohort is under the threshold at one node or more, or pooled"
            tables.append(
                {
                    "name": name,
                    "kind": kind,
                    "columns": columns,
                    "rows": [],
                    "disclosure": report | {"withheld": True, "notes": [note]},
                }
            )
            continue
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
        width = 3 if kind == "rate" else 1
        rows.sort(key=lambda r: tuple((v is None, str(v)) for v in r[:-width]))
        notes = ["sums of the nodes' published (rounded) counts"]
        if unknown:
            notes.append(f"{len(unknown)} cell(s) suppressed at a node stay suppressed")
        if len(hidden) > len(unknown):
            notes.append(f"{len(hidden) - len(unknown)} more cell(s) suppressed after pooling")
        tables.append(
            {
                "name": name,
                "kind": kind,
                "columns": columns,
                "rows": rows,
                "disclosure": report
                | {
                    "withheld": False,
                    "cells": len(full),
                    "suppressed": len(hidden),
                    "notes": notes,
                },
            }
        )
    return {"cohort": cohort, "tables": tables, "pooled": True}


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
