"""Published quantiles cannot be solved back to a person's value (finding 2).

The attack: ask for every quantile from 0.05 to 0.95 on small groups, then solve the
equations that link the published numbers to the sorted values. With interpolated quantiles
(`quantile_cont`) on a group of 10, nineteen equations in ten unknowns gave every value back,
the maximum included. Here the attacker knows both mechanisms a platform could use (linear
interpolation between neighbours, and Campus's documented mean of the k values around each
quantile) and, for each that explains the published numbers, takes every value that the
equations pin down. On 40 random groups of between the threshold and twice it, none of the
values so pinned down is a real one, and the minimum and maximum never are.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import duckdb

from campus.analysis import definition, results
from campus.analysis.compiler import compile_analysis

THRESHOLD = 10
QUANTILES = [round(0.05 * i, 2) for i in range(1, 20)]
TOLERANCE = 0.05  # what "found" means: within this of the true value (values are 0-110)


def _groups(seed: int = 18, count: int = 40) -> dict[str, list[float]]:
    rng = random.Random(seed)
    return {
        f"g{i:02d}": sorted(round(rng.uniform(0, 110), 6) for _ in range(rng.randint(10, 20)))
        for i in range(count)
    }


def _published(groups: dict[str, list[float]]) -> dict[str, list[float | None]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE people (patient VARCHAR, grp VARCHAR, age DOUBLE)")
    rows = [(f"{g}-{i}", g, v) for g, values in groups.items() for i, v in enumerate(values)]
    con.executemany("INSERT INTO people VALUES (?, ?, ?)", rows)
    analysis = definition.parse(
        {
            "title": "ages",
            "dataset": "ds",
            "views": {"people": {"library": "people", "patient": "patient"}},
            "cohort": {"view": "people"},
            "outputs": [
                {
                    "type": "distribution",
                    "name": "age",
                    "column": "age",
                    "group_by": ["grp"],
                    "quantiles": QUANTILES,
                }
            ],
        }
    )
    compiled = compile_analysis(
        analysis, {"people": "SELECT * FROM people"}, {"people": ["patient", "grp", "age"]}
    )
    out = results.run(con, compiled, results.Controls(threshold=THRESHOLD, base=5))
    return {row[0]: row[2] for row in out["tables"][0]["rows"] if row[0] != "*"}


Row = list[Fraction]


def _interpolation_row(n: int, q: float) -> Row:
    """Linear interpolation between order statistics (type 7, DuckDB's quantile_cont)."""
    row = [Fraction(0)] * n
    position = Fraction(n - 1) * Fraction(str(q))
    low = math.floor(position)
    high = min(low + 1, n - 1)
    row[low] += 1 - (position - low)
    row[high] += position - low
    return row


def _window_rows(n: int, qs: list[float]) -> list[Row | None]:
    """Campus's documented mechanism: the mean of k order statistics around each quantile."""
    out: list[Row | None] = []
    for window in results.quantile_windows(n, qs, THRESHOLD):
        if window is None:
            out.append(None)
            continue
        out.append(
            [
                Fraction(1, THRESHOLD) if window[0] <= j < window[1] else Fraction(0)
                for j in range(n)
            ]
        )
    return out


def _pinned(rows: list[Row], values: list[float], n: int) -> dict[int, float]:
    """The order statistics the equations determine, with their value: reduce [A | b] to
    row echelon form exactly; x_j is pinned when a reduced row is e_j. Empty when the model
    does not explain the published numbers (a zero row with a non-zero right-hand side)."""
    matrix = [([*row], value) for row, value in zip(rows, values, strict=True)]
    pivot_row = 0
    for column in range(n):
        found = next((r for r in range(pivot_row, len(matrix)) if matrix[r][0][column]), None)
        if found is None:
            continue
        matrix[pivot_row], matrix[found] = matrix[found], matrix[pivot_row]
        row, value = matrix[pivot_row]
        scale = row[column]
        row, value = [x / scale for x in row], value / float(scale)
        matrix[pivot_row] = (row, value)
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][0][column]:
                factor = matrix[r][0][column]
                matrix[r] = (
                    [a - factor * b for a, b in zip(matrix[r][0], row, strict=True)],
                    matrix[r][1] - float(factor) * value,
                )
        pivot_row += 1
    if any(not any(row) and abs(value) > 0.05 for row, value in matrix):
        return {}
    pinned = {}
    for row, value in matrix:
        support = [j for j, x in enumerate(row) if x]
        if len(support) == 1:
            pinned[support[0]] = value
    return pinned


def test_published_quantiles_pin_down_no_value_minimum_or_maximum():
    groups = _groups()
    published = _published(groups)
    assert len(published) == len(groups)
    found: list[str] = []
    shown = 0
    for name, truth in groups.items():
        values = published[name] or [None] * len(QUANTILES)
        n = len(truth)
        asked = [(q, v) for q, v in zip(QUANTILES, values, strict=True) if v is not None]
        shown += len(asked)
        for q, v in asked:
            for extreme, label in ((truth[0], "minimum"), (truth[-1], "maximum")):
                if abs(v - extreme) < TOLERANCE:
                    found.append(f"{name}: q{q} shows the {label}")
        models = {
            "interpolation": [_interpolation_row(n, q) for q, _ in asked],
            "k-window mean": [
                row
                for row, v in zip(_window_rows(n, QUANTILES), values, strict=True)
                if v is not None and row is not None
            ],
        }
        for model, rows in models.items():
            b = [v for _, v in asked][: len(rows)]
            for j, value in _pinned(rows, b, n).items():
                if abs(value - truth[j]) < TOLERANCE:
                    label = {0: "minimum", n - 1: "maximum"}.get(j, f"value #{j + 1}")
                    found.append(f"{name} ({n} people, {model}): the {label} is {truth[j]}")
    assert shown > 0  # quantiles are still published on these groups
    assert found == [], "\n".join(found[:10])
