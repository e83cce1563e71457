"""What a node computes beyond a local job's tables: the sums behind means and variances.

A local job releases no mean; a federated one can, because means and variances pool exactly
from each node's (n, Σx, Σx²). The node computes them with the analysis compiler's own node
functions (the cohort table and group expressions), on the same engine and data as the
task's other tables, and protects them itself before they leave: each value is clamped to
the histogram's outer edges (so one person's weight in a sum is bounded), a group of fewer
than the node's threshold values sends nothing (null), and so does one more group of its
line when a lone hidden group could be recomputed from the total (`disclosure.suppress`).
The centre publishes the pooled means coarsened to that bound (`pooling._pool_sums`).

The local run of a task never computes quantiles: the centre reads them from the pooled
fixed-bin histograms (`local_definition`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from campus.analysis import disclosure, engines, runner, sources
from campus.analysis.compiler import COHORT, Compiler
from campus.analysis.definition import Analysis, Distribution
from campus.analysis.disclosure import ALL
from campus.analysis.results import Controls


def local_definition(analysis: Analysis) -> Analysis:
    """The analysis a node runs for a task: distributions without their quantiles."""
    outputs = [
        o.model_copy(update={"quantiles": []}) if isinstance(o, Distribution) else o
        for o in analysis.outputs
    ]
    return analysis.model_copy(update={"outputs": outputs})


def wants_summary(analysis: Analysis, output: Any) -> bool:
    """Means and variances are sums of values: not offered under differential privacy."""
    return isinstance(output, Distribution) and analysis.privacy is None


def summaries(
    analysis: Analysis,
    *,
    warehouse: Path,
    scope: runner.Scope,
    optout_keys: set[str],
    controls: Controls,
) -> dict[str, list[list]]:
    """Output name -> rows [*group, n, Σx, Σx²] (margin `*` too), protected at the node."""
    wanted = [o for o in analysis.outputs if wants_summary(analysis, o)]
    if not wanted:
        return {}
    with cohort(analysis, warehouse=warehouse, optout_keys=optout_keys) as (backend, compiler):
        out = {}
        for output in wanted:
            assert output.histogram is not None  # pooling.expected_tables requires it
            low, high = output.histogram.edges[0], output.histogram.edges[-1]
            raw = f"TRY_CAST({compiler._cohort_column(output.column)} AS DOUBLE)"
            # Clamped to the outer edges: one person's weight in a mean is bounded.
            value = f"LEAST(GREATEST({raw}, {low!r}), {high!r})"
            dims = [compiler.group_expr(g) for g in output.group_by]
            select = "".join(f"{d} AS d{i}, " for i, d in enumerate(dims))
            group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(dims))) if dims else ""
            rows = backend.rows(
                f"SELECT {select}count({value}), sum({value}), sum({value} * {value}) "
                f"FROM {COHORT} c WHERE {raw} IS NOT NULL{group}"
            )
            out[output.name] = protect_sums(rows, len(dims), controls.threshold)
    return out


@contextlib.contextmanager
def cohort(
    analysis: Analysis, *, warehouse: Path, optout_keys: set[str]
) -> Iterator[tuple[Any, Compiler]]:
    """The analysis's cohort materialised on the real data of its version (opted-out people
    removed), on the same engine as a local job: the backend and the compiler that wrote it."""
    used = runner.check_static(analysis)
    found = sources.resolve_version(warehouse, analysis.dataset, analysis.version)
    backend = engines.open_backend("duckdb")
    try:
        tables = backend.tables(found, "real", optout_keys)
        view_sql, columns = sources.compile_views(analysis, tables, used, backend.name)
        compiler = Compiler(analysis, view_sql, columns, backend.name)
        for statement in compiler.compile().setup:
            backend.execute(statement)
        yield backend, compiler
    finally:
        backend.close()


def protect_sums(rows: list[tuple], width: int, threshold: int) -> list[list]:
    """Groups' (n, Σx, Σx²) with their margin; hidden ones (primary, secondary) as null."""
    sums: dict[tuple, tuple[int, float, float]] = {}
    for row in rows:
        key = tuple(None if v is None else str(v) for v in row[:width])
        sums[key] = (int(row[width]), float(row[width + 1] or 0), float(row[width + 2] or 0))
    if width:
        n = sum(v[0] for v in sums.values())
        sums[(ALL,)] = (
            n,
            sum(v[1] for v in sums.values()),
            sum(v[2] for v in sums.values()),
        )
    counts = {key: float(value[0]) for key, value in sums.items()}
    hidden, _primary, _secondary = disclosure.suppress(counts, threshold)
    return [
        [*key, None, None, None] if key in hidden else [*key, *value]
        for key, value in sums.items()
        if value[0] > 0
    ]
