"""The feature table of a benchmark on one dataset version, dummy twin or real data.

One row per cohort member: the features (float32, NaN when missing), the label (0 or 1)
and each subgroup's label. Built with the analysis compiler's views and cohort over the
version's tables (opted-out patients removed on real data), in a DuckDB connection sealed
to the version's folder, like an analysis job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from campus.analysis import runner, sources
from campus.analysis.compiler import COHORT, Compiler, date_of, ident, predicate
from campus.analysis.definition import Criterion
from campus.evaluation.definition import BenchmarkDefinition, group_of
from campus.evaluation.sandbox import table as shared_table
from campus.views import sandbox


@dataclass
class FeatureTable:
    dataset: str
    version: str
    features: np.ndarray  # float32, rows x features (in shared memory: sandbox.table)
    labels: np.ndarray  # int8, 0 or 1
    subgroups: dict[str, list[str]]  # subgroup name -> label per row


def _condition(benchmark: BenchmarkDefinition, criterion: Criterion) -> str:
    """The SQL test of a criterion on cohort row `c`: its own column, or a dated row of
    another view (same semantics as an analysis's event criteria)."""
    if criterion.view is None:
        column = {"index_date": "c.__index", "age_at_index": "c.__age"}.get(
            criterion.column, f"c.{ident(criterion.column)}"
        )
        return predicate(column, criterion)
    patient = ident(benchmark.views[criterion.view].patient)
    conditions = [
        f"o.{patient} = c.__patient",
        predicate(f"o.{ident(criterion.column)}", criterion),
    ]
    if criterion.within_days is not None and criterion.date_column:
        low, high = criterion.within_days
        day = f"date_diff('day', c.__index, {date_of('o.' + ident(criterion.date_column))})"
        conditions.append(f"{day} BETWEEN {low} AND {high}")
    return (
        f"EXISTS (SELECT 1 FROM {ident('v_' + criterion.view)} o WHERE {' AND '.join(conditions)})"
    )


def _value(benchmark: BenchmarkDefinition, index: int) -> str:
    feature = benchmark.features[index]
    criterion = feature.as_criterion()
    if criterion is not None:
        return (
            f"CASE WHEN coalesce({_condition(benchmark, criterion)}, FALSE) THEN 1.0 ELSE 0.0 END"
        )
    column = {"age_at_index": "c.__age", "index_date": "NULL"}.get(
        feature.column or "", f"c.{ident(feature.column or '')}"
    )
    return f"TRY_CAST({column} AS DOUBLE)"


def build(
    benchmark: BenchmarkDefinition,
    *,
    warehouse: Path,
    kind: str,
    scope: runner.Scope | None = None,
    optout_keys: set[str] | None = None,
) -> FeatureTable:
    """The feature table; on real data only inside `scope` and without opted-out people."""
    analysis = benchmark.analysis()
    used = runner.check_static(analysis)
    if kind == "real":
        if scope is None or optout_keys is None:
            raise ValueError("real data needs an approval scope and the opt-out keys")
        sources.check_scope(analysis, scope.datasets, scope.views)
        runner.check_elements(analysis, used, scope.elements)
    found = sources.resolve_version(warehouse, analysis.dataset, analysis.version)
    connection = duckdb.connect(config={"threads": 2})
    try:
        tables = sources.table_expressions(
            connection, found, "real" if kind == "real" else "dummy", optout_keys
        )
        sandbox.seal(connection, [found.path])
        view_sql, columns = sources.compile_views(analysis, tables, used)
        compiler = Compiler(analysis, view_sql, columns)
        compiler.check()
        for statement in compiler.setup_sql():
            connection.execute(statement)
        label = " AND ".join(
            f"coalesce({_condition(benchmark, c)}, FALSE)" for c in benchmark.label
        )
        values = [_value(benchmark, i) for i in range(len(benchmark.features))]
        groups = [
            f"coalesce({compiler.group_expr(group_of(g))}, 'unknown')" for g in benchmark.subgroups
        ]
        select = ", ".join([f"CASE WHEN {label} THEN 1 ELSE 0 END", *values, *groups])
        rows = connection.execute(
            f"SELECT {select} FROM {COHORT} c ORDER BY c.__patient"
        ).fetchall()
    finally:
        connection.close()
    width = len(benchmark.features)
    matrix = shared_table(len(rows), width)  # handed to the runner without a copy
    matrix[...] = np.array([r[1 : 1 + width] for r in rows], dtype=np.float64).reshape(
        len(rows), width
    )
    return FeatureTable(
        dataset=found.dataset,
        version=found.version,
        features=matrix,
        labels=np.array([r[0] for r in rows], dtype=np.int8),
        subgroups={
            g.name: [str(r[1 + width + j]) for r in rows] for j, g in enumerate(benchmark.subgroups)
        },
    )


def to_csv(benchmark: BenchmarkDefinition, table: FeatureTable) -> str:
    """The dummy twin's feature table with its synthetic label, for developers to build
    against the exact schema; never called on real data (see service.dummy_feature_table)."""
    import io

    from campus import exports

    out = io.StringIO()
    writer = exports.writer(out)
    writer.writerow([*(f.name for f in benchmark.features), "label"])
    for row, label in zip(table.features.tolist(), table.labels.tolist(), strict=True):
        writer.writerow([*("" if v != v else repr(float(v)) for v in row), int(label)])
    return out.getvalue()
