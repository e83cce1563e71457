"""Compile an analysis into DuckDB or Spark SQL: one function per node type, as ehrQL does.

Each output node type has one compile method and its check, registered by decorator
(`compiles`) and dispatched by the node's type; both dialects go through the same
functions, and an output type without one raises `UnknownNode` naming it.

Every view becomes a CTE over the SQL that `campus.views` compiled for it; the cohort is one
row per patient of the cohort view that meets the inclusion criteria and none of the
exclusion criteria; each output is one aggregate query over the cohort. Column names are
checked against the views' columns first, so that a typo is reported with its path.
What the two engines spell differently comes from `campus.analysis.dialects`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from campus.analysis.definition import (
    OTHER,
    Analysis,
    Counts,
    Criterion,
    Crosstab,
    Distribution,
    Group,
    IndexDate,
    Output,
    TimeToEvent,
)
from campus.analysis.dialects import DIALECTS, AnalysisDialect
from campus.errors import BadRequest

COHORT = "__cohort"
DERIVED = ("index_date", "age_at_index")
ROW_LEVEL_NAMES = re.compile(r"^(id|patient|.*_id|.*identifier.*)$", re.IGNORECASE)


# One compile function per output node type, and its check, registered by decorator on the
# Compiler's methods (node type -> their method names). Dispatch goes through the names, so a
# subclass's override is used, and a node type without functions is an error, never skipped.
NODES: dict[type, tuple[str, str]] = {}


def compiles(node_type: type, *, check: str) -> Callable:
    """Compile the output nodes of `node_type`; the method named `check` checks them first."""

    def register(method: Callable) -> Callable:
        NODES[node_type] = (check, method.__name__)
        return method

    return register


class UnknownNode(ValueError):
    """An output node that no function of the compiler handles: a bug, not the user's input,
    that would recur (a ValueError, so that the worker ends the job at once)."""


def handlers(node: Output, where: str) -> tuple[str, str]:
    """The names of the check and compile methods of an output node."""
    for kind in type(node).__mro__:
        if kind in NODES:
            return NODES[kind]
    known = ", ".join(sorted(t.__name__ for t in NODES))
    raise UnknownNode(
        f"{where}: the analysis compiler has no function for {type(node).__name__} nodes "
        f"(it compiles {known})"
    )


@dataclass(frozen=True)
class Query:
    """One aggregate query: its output, its SQL, and the names of its dimensions."""

    output: str
    kind: str
    sql: str
    dims: tuple[str, ...]
    levels: dict[int, list[str]] = field(default_factory=dict)
    quantiles: tuple[float, ...] = ()  # for a quantiles query, the ones asked


@dataclass(frozen=True)
class Compiled:
    """Statements to run first (views as temporary views, the cohort materialised once),
    the cohort's size, and one aggregate query per output over the cohort table."""

    setup: list[str]
    cohort_count: str
    queries: list[Query]


def declared_levels(groups: list[Group]) -> dict[int, list[str]]:
    """Dimension index -> declared labels (with 'other'), for the groups that declare them."""
    return {i: [*g.levels, OTHER] for i, g in enumerate(groups) if g.levels is not None}


DUCKDB = DIALECTS["duckdb"]


def ident(name: str, sql: AnalysisDialect = DUCKDB) -> str:
    return sql.ident(name)


def literal(value: Any, sql: AnalysisDialect = DUCKDB) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise BadRequest("numbers must be finite", code="definition_invalid")
        return repr(value)
    return sql.string(str(value))


def date_of(expr: str, sql: AnalysisDialect = DUCKDB) -> str:
    """An ISO date, date-time, year-month or year as a DATE (NULL when not a date)."""
    text = f"CAST({expr} AS {sql.text})"
    return (
        f"coalesce(TRY_CAST(left({text}, 10) AS DATE), TRY_CAST({text} || '-01' AS DATE), "
        f"TRY_CAST({text} || '-01-01' AS DATE))"
    )


def _typed(expr: str, sample: Any, sql: AnalysisDialect) -> str:
    if isinstance(sample, bool):
        return f"TRY_CAST({expr} AS BOOLEAN)"
    if isinstance(sample, int | float):
        return f"TRY_CAST({expr} AS DOUBLE)"
    return f"CAST({expr} AS {sql.text})"


def predicate(expr: str, criterion: Criterion, sql: AnalysisDialect = DUCKDB) -> str:
    """The SQL condition of one typed predicate on a column expression."""
    op, value = criterion.op, criterion.value
    if op == "is_null":
        return f"({expr} IS NULL)"
    if op == "not_null":
        return f"({expr} IS NOT NULL)"
    sample = value[0] if isinstance(value, list) else value
    typed = _typed(expr, sample, sql)
    if op in ("in", "not_in"):
        assert isinstance(value, list)
        items = ", ".join(literal(v, sql) for v in value)
        return f"({typed} {'NOT IN' if op == 'not_in' else 'IN'} ({items}))"
    if op == "between":
        assert isinstance(value, list)
        return f"({typed} BETWEEN {literal(value[0], sql)} AND {literal(value[1], sql)})"
    if op == "starts_with":
        return sql.starts_with(f"CAST({expr} AS {sql.text})", literal(value, sql))
    symbol = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
    return f"({typed} {symbol} {literal(value, sql)})"


class Compiler:
    """Checks names against the views' columns and writes the SQL of one analysis."""

    def __init__(
        self,
        analysis: Analysis,
        view_sql: Mapping[str, str],
        view_columns: Mapping[str, Sequence[str]],
        dialect: str = "duckdb",
    ):
        self.sql = DIALECTS[dialect]
        self.analysis = analysis
        self.view_sql = view_sql
        self.columns = {name: set(cols) for name, cols in view_columns.items()}
        self.cohort = analysis.cohort
        self.used: dict[str, set[str]] = {}  # the columns each view must provide

    # --- checks -------------------------------------------------------------------------------

    def _view(self, name: str, where: str) -> str:
        if name not in self.analysis.views:
            known = ", ".join(sorted(self.analysis.views))
            raise BadRequest(
                f"{where}: unknown view {name!r} (declared views: {known})",
                code="unknown_view",
                where=where,
            )
        return name

    def _column(self, view: str, column: str, where: str, *, derived: bool = False) -> None:
        known = self.columns.get(view, set())
        if derived and column in DERIVED:
            self._derived(column, where)
            return
        if column not in known:
            listed = ", ".join(sorted(known | (set(DERIVED) if derived else set())))
            raise BadRequest(
                f"{where}: unknown column {column!r} in view {view!r} (its columns: {listed})",
                code="unknown_column",
                where=where,
            )
        self.used.setdefault(view, set()).add(column)

    def _derived(self, column: str, where: str) -> None:
        if self.cohort.index_date is None:
            raise BadRequest(
                f"{where}: {column} needs cohort.index_date", code="needs_index", where=where
            )
        if column == "age_at_index" and self.cohort.birth_date is None:
            raise BadRequest(
                f"{where}: age_at_index needs cohort.birth_date (the birth date column)",
                code="needs_birth_date",
                where=where,
            )

    def _group(self, group: Group, where: str) -> None:
        view = self.cohort.view
        self._column(view, group.column, where, derived=True)
        patient = self.analysis.views[view].patient
        if group.column == patient or (
            ROW_LEVEL_NAMES.match(group.column) and group.width is None and group.part is None
        ):
            raise BadRequest(
                f"{where}: grouping by {group.column!r} would produce a row-level table "
                "(one row per person or record); group by a category or a banded value",
                code="row_level_output",
                where=where,
            )

    def _criterion(self, criterion: Criterion, where: str) -> None:
        view = self._view(criterion.view or self.cohort.view, f"{where}.view")
        self._column(view, criterion.column, f"{where}.column", derived=criterion.view is None)
        if criterion.date_column:
            self._column(view, criterion.date_column, f"{where}.date_column")
        if criterion.within_days is not None and self.cohort.index_date is None:
            raise BadRequest(
                f"{where}.within_days: needs cohort.index_date", code="needs_index", where=where
            )

    def check(self) -> None:
        """Every view, column and derived value the analysis names exists."""
        cohort = self.cohort
        self._view(cohort.view, "cohort.view")
        self._column(cohort.view, self.analysis.views[cohort.view].patient, "views.patient")
        for name, ref in self.analysis.views.items():
            self._column(name, ref.patient, f"views.{name}.patient")
        if cohort.birth_date:
            self._column(cohort.view, cohort.birth_date, "cohort.birth_date")
        if isinstance(cohort.index_date, IndexDate):
            view = self._view(cohort.index_date.view or cohort.view, "cohort.index_date.view")
            self._column(view, cohort.index_date.column, "cohort.index_date.column")
        for kind in ("include", "exclude"):
            for i, criterion in enumerate(getattr(cohort, kind)):
                self._criterion(criterion, f"cohort.{kind}[{i}]")
        for i, output in enumerate(self.analysis.outputs):
            where = f"outputs[{i}]"
            getattr(self, handlers(output, where)[0])(output, where)

    def check_counts(self, output: Counts, where: str) -> None:
        for j, group in enumerate(output.group_by):
            self._group(group, f"{where}.group_by[{j}]")
        for j, criterion in enumerate(output.event or []):
            self._criterion(criterion, f"{where}.event[{j}]")

    def check_distribution(self, output: Distribution, where: str) -> None:
        self._column(self.cohort.view, output.column, f"{where}.column", derived=True)
        for j, group in enumerate(output.group_by):
            self._group(group, f"{where}.group_by[{j}]")

    def check_crosstab(self, output: Crosstab, where: str) -> None:
        self._group(output.rows, f"{where}.rows")
        self._group(output.columns, f"{where}.columns")

    def check_time_to_event(self, output: TimeToEvent, where: str) -> None:
        cohort = self.cohort
        if cohort.index_date is None:
            raise BadRequest(
                f"{where}: time to event needs cohort.index_date",
                code="needs_index",
                where=where,
            )
        view = self._view(output.event.view, f"{where}.event.view")
        self._column(view, output.event.column, f"{where}.event.column")
        for j, criterion in enumerate(output.event.where):
            if criterion.view not in (None, view):
                raise BadRequest(
                    f"{where}.event.where[{j}]: criteria apply to the event view",
                    code="definition_invalid",
                    where=f"{where}.event.where[{j}]",
                )
            self._column(view, criterion.column, f"{where}.event.where[{j}].column")
        if output.censor is None:
            raise BadRequest(
                f"{where}.censor: give the end of follow-up (an ISO date or a date "
                "column of the cohort view)",
                code="definition_invalid",
                where=f"{where}.censor",
            )
        if not _is_date(output.censor):
            self._column(cohort.view, output.censor, f"{where}.censor")
        for j, group in enumerate(output.group_by):
            self._group(group, f"{where}.group_by[{j}]")

    # --- SQL ----------------------------------------------------------------------------------

    def _q(self, name: str) -> str:
        return self.sql.ident(name)

    def _lit(self, value: Any) -> str:
        return literal(value, self.sql)

    def _dt(self, expr: str) -> str:
        return date_of(expr, self.sql)

    def _pr(self, expr: str, criterion: Criterion) -> str:
        return predicate(expr, criterion, self.sql)

    def _cohort_column(self, column: str, alias: str = "c") -> str:
        if column == "index_date":
            return f"{alias}.__index"
        if column == "age_at_index":
            return f"{alias}.__age"
        return f"{alias}.{self._q(column)}"

    def _exists(self, criterion: Criterion, outer: str) -> str:
        view = criterion.view or self.cohort.view
        patient = self._q(self.analysis.views[view].patient)
        conditions = [
            f"o.{patient} = {outer}.__patient",
            self._pr(f"o.{self._q(criterion.column)}", criterion),
        ]
        if criterion.within_days is not None and criterion.date_column:
            low, high = criterion.within_days
            day = self.sql.days_between(
                f"{outer}.__index", self._dt("o." + self._q(criterion.date_column))
            )
            conditions.append(f"{day} BETWEEN {low} AND {high}")
        return f"EXISTS (SELECT 1 FROM {self._q('v_' + view)} o WHERE {' AND '.join(conditions)})"

    def _condition(self, criterion: Criterion, alias: str) -> str:
        if criterion.view is None:
            return self._pr(self._cohort_column(criterion.column, alias), criterion)
        return self._exists(criterion, alias)

    def setup_sql(self) -> list[str]:
        """The views, then the cohort (one row per patient), as temporary tables."""
        # Each view is computed once, with only the columns the analysis uses (the JSON
        # extraction is the costly part), then every step reads that table.
        views = []
        for name in self.analysis.views:
            used = ", ".join(self._q(c) for c in sorted(self.used.get(name, ()))) or "1 AS __none"
            views.append(
                self.sql.materialise(
                    self._q("v_" + name), f"SELECT {used} FROM ({self.view_sql[name]}) AS __view"
                )
            )
        return [*views, self.cohort_sql()]

    def cohort_sql(self) -> str:
        """The statement that materialises the cohort."""
        cohort = self.cohort
        parts: list[str] = []
        view = self._q("v_" + cohort.view)
        patient = self._q(self.analysis.views[cohort.view].patient)
        index = "CAST(NULL AS DATE)"
        order = "1"
        joins = ""
        if isinstance(cohort.index_date, str):
            index = f"DATE {self._lit(cohort.index_date)}"
        elif isinstance(cohort.index_date, IndexDate):
            source = cohort.index_date.view or cohort.view
            if source == cohort.view:
                index = self._dt("p." + self._q(cohort.index_date.column))
                order = f"{index} {'ASC' if cohort.index_date.first else 'DESC'} NULLS LAST"
            else:
                other_patient = self._q(self.analysis.views[source].patient)
                pick = "min" if cohort.index_date.first else "max"
                own = [
                    self._pr("o." + self._q(c.column), c)
                    for c in cohort.include
                    if c.view == source and c.within_days is None
                ]
                filters = " AND ".join(own) or "TRUE"
                parts.append(
                    f"__idx AS (SELECT CAST(o.{other_patient} AS {self.sql.text}) AS __patient, "
                    f"{pick}({self._dt('o.' + self._q(cohort.index_date.column))}) AS __index "
                    f"FROM {self._q('v_' + source)} o WHERE {filters} GROUP BY 1)"
                )
                joins = f" JOIN __idx i ON i.__patient = CAST(p.{patient} AS {self.sql.text})"
                index = "i.__index"
        own = [c for c in cohort.include if c.view is None and c.column not in DERIVED]
        own_out = [c for c in cohort.exclude if c.view is None and c.column not in DERIVED]
        where = " AND ".join(
            [self._pr("p." + self._q(c.column), c) for c in own]
            + [f"NOT coalesce({self._pr('p.' + self._q(c.column), c)}, FALSE)" for c in own_out]
        )
        # One row per patient (the first by index date): row_number in a subquery, as both
        # engines read it (Spark has no QUALIFY). Ties, and a view without a dated index, are
        # broken by the columns used, smallest first, NULLs last on both engines (Spark puts
        # them first by default): both pick the same values, whatever the files' order.
        ties = [f"p.{self._q(c)} ASC NULLS LAST" for c in sorted(self.used.get(cohort.view, ()))]
        order = ", ".join(o for o in (order, *ties) if o != "1") or "1"
        parts.append(
            f"__ranked AS (SELECT p.*, CAST(p.{patient} AS {self.sql.text}) AS __patient, "
            f"{index} AS __index, row_number() OVER (PARTITION BY p.{patient} ORDER BY {order}) "
            f"AS __rank FROM {view} p{joins} WHERE p.{patient} IS NOT NULL AND {where or 'TRUE'})"
        )
        parts.append("__base AS (SELECT * FROM __ranked WHERE __rank = 1)")
        age = "CAST(NULL AS DOUBLE)"
        if cohort.birth_date and cohort.index_date is not None:
            born = self._dt("b." + self._q(cohort.birth_date))
            months = self.sql.months_between(born, "b.__index")
            age = f"CAST({self.sql.int_div(months, '12')} AS DOUBLE)"
        parts.append(f"__aged AS (SELECT b.*, {age} AS __age FROM __base b)")
        others = [self._condition(c, "b") for c in cohort.include if c.view or c.column in DERIVED]
        others += [
            f"NOT coalesce({self._condition(c, 'b')}, FALSE)"
            for c in cohort.exclude
            if c.view or c.column in DERIVED
        ]
        if cohort.index_date is not None:
            others.append("b.__index IS NOT NULL")
        return self.sql.materialise(
            COHORT,
            "WITH "
            + ",\n".join(parts)
            + f"\nSELECT * FROM __aged b WHERE {' AND '.join(others) or 'TRUE'}",
        )

    def group_expr(self, group: Group, alias: str = "c") -> str:
        """The group's label; with declared levels, any other value (or none) is 'other'."""
        label = self._label_expr(group, alias)
        if group.levels is None:
            return label
        declared = ", ".join(self._lit(level) for level in group.levels)
        return f"CASE WHEN {label} IN ({declared}) THEN {label} ELSE {self._lit(OTHER)} END"

    def _label_expr(self, group: Group, alias: str) -> str:
        column = self._cohort_column(group.column, alias)
        if group.width is not None:
            low = f"floor(TRY_CAST({column} AS DOUBLE) / {group.width!r}) * {group.width!r}"
            high = f"{low} + {group.width!r}"
            return f"({self.sql.number_label(low)} || '–' || {self.sql.number_label(high)})"
        if group.part == "year":
            return f"CAST(year({self._dt(column)}) AS {self.sql.text})"
        if group.part == "month":
            return self.sql.year_month(self._dt(column))
        return f"CAST({column} AS {self.sql.text})"

    @compiles(Counts, check="check_counts")
    def counts(self, output: Counts, head: str) -> Query:
        dims = [self.group_expr(g) for g in output.group_by]
        names = [g.column for g in output.group_by]
        if output.event:
            conditions = " AND ".join(self._condition(c, "c") for c in output.event)
            dims.append(f"coalesce({conditions}, FALSE)")
            names.append("event")
        return self._grouped(
            output.name, "counts", head, dims, names, levels=declared_levels(output.group_by)
        )

    @compiles(Crosstab, check="check_crosstab")
    def crosstab(self, output: Crosstab, head: str) -> Query:
        dims = [self.group_expr(output.rows), self.group_expr(output.columns)]
        return self._grouped(
            output.name,
            "crosstab",
            head,
            dims,
            [output.rows.column, output.columns.column],
            levels=declared_levels([output.rows, output.columns]),
        )

    def _grouped(
        self,
        name: str,
        kind: str,
        head: str,
        dims: list[str],
        names: list[str],
        levels: dict[int, list[str]] | None = None,
        source: str = COHORT,
    ) -> Query:
        select = ", ".join(f"{d} AS d{i}" for i, d in enumerate(dims))
        select = (select + ", " if select else "") + "count(*) AS n"
        group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(dims))) if dims else ""
        sql = f"{head}SELECT {select} FROM {source} c{group}"
        return Query(name, kind, sql, tuple(names), levels or {})

    @compiles(Distribution, check="check_distribution")
    def distribution(self, output: Distribution, head: str) -> list[Query]:
        value = f"TRY_CAST({self._cohort_column(output.column)} AS DOUBLE)"
        dims = [self.group_expr(g) for g in output.group_by]
        names = tuple(g.column for g in output.group_by)
        select = "".join(f"{d} AS d{i}, " for i, d in enumerate(dims))
        group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(dims))) if dims else ""
        # The sorted values of each group: results.quantile_table averages windows of them.
        # No quantiles asked, no query: its count would be a release (un-noised under DP).
        queries = (
            []
            if not output.quantiles
            else [
                Query(
                    output.name,
                    "quantiles",
                    f"{head}SELECT {select}count({value}) AS n, "
                    f"{self.sql.sorted_values(value)} AS v FROM {COHORT} c "
                    f"WHERE {value} IS NOT NULL{group}",
                    names,
                    quantiles=tuple(float(q) for q in output.quantiles),
                )
            ]
        )
        if output.histogram:
            edges = output.histogram.edges
            labels = [f"<{edges[0]:g}"] + [f"{a:g}–{b:g}" for a, b in itertools.pairwise(edges)]
            labels.append(f"≥{edges[-1]:g}")
            cases = " ".join(
                f"WHEN {value} < {edge!r} THEN {self._lit(labels[i])}"
                for i, edge in enumerate(edges)
            )
            bin_expr = f"CASE {cases} ELSE {self._lit(labels[-1])} END"
            q = self._grouped(
                output.name,
                "histogram",
                head,
                [*dims, bin_expr],
                [*names, "bin"],
                levels={**declared_levels(output.group_by), len(dims): labels},
                source=f"(SELECT * FROM {COHORT} c WHERE {value} IS NOT NULL)",
            )
            queries.append(q)
        return queries

    @compiles(TimeToEvent, check="check_time_to_event")
    def time_to_event(self, output: TimeToEvent, head: str) -> Query:
        assert output.censor is not None
        event = output.event
        patient = self._q(self.analysis.views[event.view].patient)
        day = self._dt("o." + self._q(event.column))
        filters = [self._pr("o." + self._q(c.column), c) for c in event.where]
        where = " AND ".join([f"o.{patient} = c.__patient", f"{day} >= c.__index", *filters])
        first = f"(SELECT min({day}) FROM {self._q('v_' + event.view)} o WHERE {where})"
        censor = (
            f"DATE {self._lit(output.censor)}"
            if _is_date(output.censor)
            else self._dt("c." + self._q(output.censor))
        )
        dims = [self.group_expr(g) for g in output.group_by]
        inner = (
            f"SELECT c.*, {self.sql.days_between('c.__index', first)} AS __event_day, "
            f"least({self.sql.days_between('c.__index', censor)}, {output.horizon_days}) "
            f"AS __censor_day FROM {COHORT} c"
        )
        observed = "(__event_day IS NOT NULL AND __event_day <= __censor_day)"
        time = f"CASE WHEN {observed} THEN __event_day ELSE __censor_day END"
        select = "".join(f"{d} AS d{i}, " for i, d in enumerate(dims))
        n = len(dims)
        sql = (
            f"{head}SELECT {select}CAST(floor(({time}) / {output.interval_days}) AS INTEGER) "
            f"AS t, {observed} AS observed, count(*) AS n FROM ({inner}) c "
            f"WHERE __censor_day IS NOT NULL AND ({time}) >= 0 "
            f"GROUP BY {', '.join(str(i + 1) for i in range(n + 2))}"
        )
        return Query(output.name, "time_to_event", sql, tuple(g.column for g in output.group_by))

    def compile(self) -> Compiled:
        self.check()
        setup = self.setup_sql()
        head = ""
        queries: list[Query] = []
        for i, output in enumerate(self.analysis.outputs):
            compiled = getattr(self, handlers(output, f"outputs[{i}]")[1])(output, head)
            queries.extend(compiled if isinstance(compiled, list) else [compiled])
        return Compiled(setup=setup, cohort_count=f"SELECT count(*) FROM {COHORT}", queries=queries)


def _is_date(value: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}$", value))


def compile_analysis(
    analysis: Analysis,
    view_sql: Mapping[str, str],
    view_columns: Mapping[str, Sequence[str]],
    dialect: str = "duckdb",
) -> Compiled:
    """Check and compile an analysis over the given compiled views, in a dialect's SQL."""
    return Compiler(analysis, view_sql, view_columns, dialect).compile()
