"""Execute one analysis on one dataset version: dummy twin, or real data within a scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from campus.analysis import engines, results, sources
from campus.analysis.compiler import Compiler, compile_analysis
from campus.analysis.definition import Analysis, TimeToEvent
from campus.analysis.results import Controls
from campus.errors import Forbidden

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Scope:
    """What an approval lets a job read: its datasets and library views."""

    datasets: tuple[str, ...]
    views: tuple[str, ...]
    elements: tuple[str, ...] = ()


def _quiet(_message: str) -> None:
    return None


def check_static(analysis: Analysis) -> dict[str, set[str]]:
    """Names, columns and shapes, checked against the views before anything runs; returns
    the columns used, by declared view name."""
    views = {name: sources.view_of(ref) for name, ref in analysis.views.items()}
    columns = {name: sources.columns_of(view, f"views.{name}") for name, view in views.items()}
    compiler = Compiler(analysis, dict.fromkeys(views, ""), columns)
    compiler.check()
    return compiler.used


def check_elements(analysis: Analysis, used: dict[str, set[str]], elements: tuple[str, ...]):
    """With elements in the approval, every column read must be one (`view.column`)."""
    if not elements:
        return
    allowed = set(elements)
    for name, columns in used.items():
        library = analysis.views[name].library or name
        for column in sorted(columns):
            if f"{library}.{column}" not in allowed and column not in allowed:
                raise Forbidden(
                    f"views.{name}: column {column!r} of {library!r} is not among the approved "
                    f"elements ({', '.join(sorted(allowed))})",
                    code="out_of_scope",
                    where=f"views.{name}",
                )


def prepare(analysis: Analysis, warehouse: Path, scope: Scope):
    """Every check on a real-data job that does not read the data: names, columns, scope,
    approved elements and the dataset version it will read (returned)."""
    used = check_static(analysis)
    sources.check_scope(analysis, scope.datasets, scope.views)
    check_elements(analysis, used, scope.elements)
    return sources.resolve_version(warehouse, analysis.dataset, analysis.version)


def execute(
    analysis: Analysis,
    *,
    warehouse: Path,
    kind: str,
    controls: Controls,
    scope: Scope | None = None,
    optout_keys: set[str] | None = None,
    progress: Progress = _quiet,
    threads: int = 2,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> dict:
    """Run and check an analysis; on real data only inside `scope`, without opted-out people.

    `engine` is where the SQL runs (duckdb, or spark with an optional master URL); the
    released tables are the same on both (disclosure control runs after, in Python).
    """
    used = check_static(analysis)
    if kind == "real":
        if scope is None or optout_keys is None:
            raise ValueError("real data needs an approval scope and the opt-out keys")
        # The scope is enforced here, before any table is resolved.
        sources.check_scope(analysis, scope.datasets, scope.views)
        check_elements(analysis, used, scope.elements)
    found = sources.resolve_version(warehouse, analysis.dataset, analysis.version)
    progress(f"dataset {found.dataset} {found.version} ({kind})")
    backend = engines.open_backend(
        engines.engine_name(engine), spark_master=spark_master, threads=threads
    )
    try:
        # On DuckDB, from here on the connection reads only the version's folder.
        tables = backend.tables(found, "real" if kind == "real" else "dummy", optout_keys)
        if kind == "real":
            # No count: how many objections matched would tell whether someone is in the data.
            progress("objections to reuse applied")
        view_sql, columns = sources.compile_views(analysis, tables, used, backend.name)
        compiled = compile_analysis(analysis, view_sql, columns, backend.name)
        progress(f"{len(compiled.queries)} aggregate queries compiled")
        intervals = {
            o.name: o.interval_days for o in analysis.outputs if isinstance(o, TimeToEvent)
        }
        out = results.run(backend, compiled, controls, intervals)
        progress(f"{len(out['tables'])} output table(s) checked")
    finally:
        backend.close()
    out["dataset"] = found.dataset
    out["version"] = found.version
    out["kind"] = kind
    return out


def noisy_outputs(analysis: Analysis) -> int:
    """How many tables get noise (counts, cross-tabs, histograms) when DP is asked."""
    return sum(
        1
        for o in analysis.outputs
        if o.type in ("counts", "crosstab")
        or (o.type == "distribution" and o.histogram is not None)
    )


def dp_problems(analysis: Analysis) -> Iterable[str]:
    """Outputs that differential privacy does not cover, named with their path."""
    for i, output in enumerate(analysis.outputs):
        if output.type == "time_to_event":
            yield f"outputs[{i}]"
        if output.type == "distribution" and output.quantiles:
            yield f"outputs[{i}].quantiles"


def dp_undeclared(analysis: Analysis) -> Iterable[str]:
    """Group-bys without declared levels: under DP their labels would come from the data
    (a rare category would show up by its name, whatever the noise on its count)."""
    for i, output in enumerate(analysis.outputs):
        if output.type == "crosstab":
            groups = {"rows": output.rows, "columns": output.columns}
        elif output.type in ("counts", "distribution"):
            groups = {f"group_by[{j}]": g for j, g in enumerate(output.group_by)}
        else:
            continue
        for where, group in groups.items():
            if group.levels is None:
                yield f"outputs[{i}].{where}"
