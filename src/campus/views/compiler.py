"""ViewDefinition -> one SQL SELECT, one function per select node kind.

A select compiles to `Rows`: columns that have exactly one value per row of their parent
(`fixed`) and arrays of row structs that multiply the rows (`arrays`, from forEach,
forEachOrNull, repeat and unionAll). Nested selects multiply (cross product); unionAll
concatenates. The top level keeps fixed columns as plain SQL columns and unnests the one
remaining array, so a view without forEach is a plain projection over the resource table.
Everything is set-based SQL: no row is evaluated in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campus.errors import BadRequest
from campus.views.definition import Column, Select, ViewDefinition, fail
from campus.views.dialects import get_dialect
from campus.views.dialects.base import SQL_FAMILY, Dialect
from campus.views.fhirpath.compiler import ROOT, Expr, Scope
from campus.views.fhirpath.materialise import compiler_for
from campus.views.resources import PRIMITIVE_TYPES

REPEAT_DEPTH = 8  # levels a repeat unrolls to; deeper data fails the query with a clear error


@dataclass(frozen=True)
class OutputColumn:
    name: str
    type: str  # FHIRPath type of the values
    collection: bool
    fhir_type: str | None  # the FHIR type: declared, else the element's when known


@dataclass
class Rows:
    """The rows of a select at one focus: fixed columns times each array of row structs."""

    order: list[str] = field(default_factory=list)
    types: dict[str, tuple[str, bool]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    arrays: list[tuple[str, list[str]]] = field(default_factory=list)

    def times(self, other: Rows) -> Rows:
        return Rows(
            self.order + other.order,
            {**self.types, **other.types},
            {**self.fixed, **other.fixed},
            self.arrays + other.arrays,
        )


@dataclass(frozen=True)
class CompiledView:
    sql: str
    columns: list[OutputColumn]
    resource: str
    dialect: str


class ViewCompiler:
    def __init__(self, view: ViewDefinition, dialect: Dialect, *, plain: bool = False):
        self.view = view
        self.d = dialect
        self.fp = compiler_for(dialect, view.resource, view.constants, plain=plain)
        self.outputs: dict[str, OutputColumn] = {}

    def fresh(self) -> str:
        return self.fp.fresh()

    # --- columns ------------------------------------------------------------------------------
    def column(self, column: Column, scope: Scope) -> tuple[str, str, bool, str | None]:
        """(SQL, FHIRPath type, collection, FHIR type) of one column at a scope.

        An untyped column takes the type of what its path selects, as the element definitions
        give it (`value.ofType(Quantity).value` is a decimal), else string.
        """
        e = self.fp.compile(column.path.tree, scope, where=column.path.where, text=column.path.text)
        kind = PRIMITIVE_TYPES[column.type] if column.type is not None else e.known or "string"
        fhir = column.type or (e.fhir if e.fhir in PRIMITIVE_TYPES else None)
        if e.known in ("integer", "decimal") and kind in ("integer", "decimal"):
            kind = kind if column.type else e.known
        what = f"column {column.name!r}"
        if column.collection:
            var = self.fresh()
            items = self.fp.as_list(e)
            each = self.d.node_to(var, kind, f"an item of {what} is not a {kind}")
            return self.d.transform(items, [var], each), kind, True, fhir
        compatible = (
            e.type in ("node", kind)
            or {e.type, kind} <= {"integer", "decimal"}
            or kind == "string"
            or {e.type, kind} <= {"string", "date", "dateTime", "time"}
        )
        if not compatible:
            raise fail(
                f"{what} is declared {column.type} but its path gives a {e.type}",
                f"{column.where}.type",
            )
        value = self.fp.typed(e, kind, what)
        return self.d.cast(value, kind), kind, False, fhir

    # --- selects ------------------------------------------------------------------------------
    def select(self, select: Select, scope: Scope) -> Rows:
        if select.for_each is not None:
            path = select.for_each
            e = self.fp.compile(path.tree, scope, where=path.where, text=path.text)
            written = self.fp.written(path.tree, scope)
            return self.iterate(
                select,
                self.fp.as_list(e),
                scope,
                or_null=select.or_null,
                written=written,
                fhir=e.fhir,
            )
        if select.repeat:
            nodes = self.repeat(select, scope)
            fhir = self.repeat_type(select, scope)
            return self.iterate(select, nodes, scope, or_null=False, fhir=fhir)
        return self.body(select, scope)

    def body(self, select: Select, scope: Scope) -> Rows:
        rows = Rows()
        for column in select.columns:
            sql, kind, collection, fhir = self.column(column, scope)
            rows.order.append(column.name)
            rows.types[column.name] = (kind, collection)
            rows.fixed[column.name] = sql
            self.outputs.setdefault(column.name, OutputColumn(column.name, kind, collection, fhir))
        for nested in select.selects:
            rows = rows.times(self.select(nested, scope))
        if select.union_all:
            rows = rows.times(self.union_all(select, scope))
        return rows

    def union_all(self, select: Select, scope: Scope) -> Rows:
        branches = [self.select(branch, scope) for branch in select.union_all]
        first = branches[0]
        for i, branch in enumerate(branches[1:], start=1):
            for name in first.order:
                (kind, many), (other, other_many) = first.types[name], branch.types[name]
                if kind != other and many == other_many and SQL_FAMILY[kind] == SQL_FAMILY[other]:
                    # A date in one branch and a string in another: both text, said as string.
                    self.outputs[name] = OutputColumn(name, "string", many, None)
                elif (kind, many) != (other, other_many):
                    raise fail(
                        f"column {name!r} has type {first.types[name][0]} in the first unionAll "
                        f"branch and {branch.types[name][0]} in branch {i}: declare its type",
                        f"{select.where}.unionAll[{i}]",
                    )
        arrays = [self.to_array(branch) for branch in branches]
        return Rows(
            list(first.order), dict(first.types), {}, [(self.d.concat(arrays), first.order)]
        )

    def iterate(
        self,
        select: Select,
        items: str,
        scope: Scope,
        *,
        or_null: bool,
        written: str | None = None,
        fhir: str | None = None,
    ) -> Rows:
        """Rows of `select` for each item of `items` (of FHIR type `fhir`, when known);
        `written` is the same list read in the resource whose numbers keep their written
        text, when known."""
        var, position = self.fresh(), self.fresh()
        index = self.d.position(position)
        focus_written = None if written is None else self.d.element(written, index)
        inner = Scope(Expr(var, "node", fhir=fhir), index, False, focus_written)
        body = self.body(select, inner)
        per_item = self.struct(body.order, body) if not body.arrays else self.to_array(body)

        def rows_of(collection: str) -> str:
            mapped = self.d.transform(collection, [var, position], per_item)
            return mapped if not body.arrays else self.d.flatten(mapped)

        rows_sql = rows_of(items)
        if or_null:
            # An empty collection gives the rows of the select on an empty focus at position
            # 0: its columns are null. They hold no column reference, so the engine folds
            # them into a constant instead of evaluating them row by row.
            empty = Scope(Expr(self.d.null("node"), "node", fhir=fhir), "0", False)
            null_rows = self.to_array(self.body(select, empty))
            items_var = self.fresh()
            rows_sql = self.d.let(
                items,
                items_var,
                f"CASE WHEN {self.d.size(items_var)} = 0 THEN {null_rows} "
                f"ELSE {rows_of(items_var)} END",
            )
        return Rows(list(body.order), dict(body.types), {}, [(rows_sql, body.order)])

    def repeat_type(self, select: Select, scope: Scope) -> str | None:
        """The one FHIR type of every node a repeat reaches, when there is one
        (`item` of a QuestionnaireResponse, then `item` and `answer.item` of each item)."""
        reached: set[str | None] = set()
        frontier: set[str | None] = {scope.focus.fhir}
        for _ in range(REPEAT_DEPTH):
            found = set()
            for fhir in frontier:
                step = Scope(Expr(self.d.null("node"), "node", fhir=fhir), scope.row_index, False)
                for path in select.repeat:
                    found.add(
                        self.fp.compile(path.tree, step, where=path.where, text=path.text).fhir
                    )
            if None in found:
                return None
            frontier = found - reached
            reached |= found
            if not frontier:
                break
        return reached.pop() if len(reached) == 1 else None

    def repeat(self, select: Select, scope: Scope) -> str:
        """The nodes reached by applying the repeat paths again and again, depth first."""

        def children(node: str) -> str:
            lists = []
            for path in select.repeat:
                step = Scope(Expr(node, "node"), scope.row_index, False)
                e = self.fp.compile(path.tree, step, where=path.where, text=path.text)
                lists.append(self.fp.as_list(e))
            return lists[0] if len(lists) == 1 else self.d.concat(lists)

        def descend(node: str, depth: int) -> str:
            below = children(node)
            if depth == 0:
                message = (
                    f"repeat at {select.where} goes deeper than {REPEAT_DEPTH} levels in the data"
                )
                return (
                    f"CASE WHEN {self.d.size(below)} > 0 THEN {self.d.raise_error(message)} "
                    f"ELSE {self.d.array([node])} END"
                )
            child = self.fresh()
            return self.d.concat(
                [
                    self.d.array([node]),
                    self.d.flatten(self.d.transform(below, [child], descend(child, depth - 1))),
                ]
            )

        top = self.fresh()
        return self.d.flatten(
            self.d.transform(children(scope.focus.sql), [top], descend(top, REPEAT_DEPTH - 1))
        )

    # --- rows as arrays of structs --------------------------------------------------------------
    def struct(self, order: list[str], rows: Rows, bound: dict[str, str] | None = None) -> str:
        bound = bound or {}
        return self.d.struct([(name, bound.get(name) or rows.fixed[name]) for name in order])

    def to_array(self, rows: Rows) -> str:
        """All rows of `rows` as one array of structs holding every column in order."""
        if not rows.arrays:
            return self.d.array([self.struct(rows.order, rows)])

        def build(k: int, bound: dict[str, str]) -> str:
            sql, names = rows.arrays[k]
            var = self.fresh()
            here = {**bound, **{n: self.d.field_of(var, n) for n in names}}
            if k == len(rows.arrays) - 1:
                return self.d.transform(sql, [var], self.struct(rows.order, rows, here))
            return self.d.flatten(self.d.transform(sql, [var], build(k + 1, here)))

        return build(0, {})

    # --- the view -------------------------------------------------------------------------------
    def compile(self, table: str) -> CompiledView:
        root = Scope(Expr(ROOT, "node", fhir=self.view.resource), "0", True)
        rows = Rows()
        for each in self.view.selects:
            rows = rows.times(self.select(each, root))
        filters = []
        for path in self.view.where:
            e = self.fp.compile(path.tree, root, where=path.where, text=path.text)
            if e.type not in ("node", "boolean"):
                raise fail(
                    f"the where path {path.text!r} gives a {e.type}, not a boolean", path.where
                )
            filters.append(f"coalesce({self.fp.boolean(e, 'the where path')}, FALSE)")
        q = self.d.quote
        inner_columns = [f"{rows.fixed[name]} AS {q(name)}" for name in rows.fixed]
        outer_columns = []
        array_names: set[str] = set()
        if rows.arrays:
            only_arrays = Rows(
                [n for n in rows.order if n not in rows.fixed], rows.types, {}, rows.arrays
            )
            array_names = set(only_arrays.order)
            generator = "unnest" if self.d.name == "duckdb" else "explode"
            inner_columns.append(f"{generator}({self.to_array(only_arrays)}) AS __row")
        for name in rows.order:
            if name in array_names:
                outer_columns.append(f"{self.d.field_of('__row', name)} AS {q(name)}")
            else:
                outer_columns.append(q(name))
        where_sql = " AND ".join(filters) if filters else "TRUE"
        source = self.fp.source(
            self.d.resources(table, list(self.fp.root_fields), written=self.fp.uses_written)
        )
        sql = (
            f"SELECT {', '.join(outer_columns)} FROM ("
            f"SELECT {', '.join(inner_columns)} "
            f"FROM ({source}) AS __resources "
            f"WHERE {where_sql}) AS __rows"
        )
        columns = [self.outputs[name] for name in rows.order]
        return CompiledView(sql, columns, self.view.resource, self.d.name)


def compile_view(
    view: ViewDefinition, table: str, dialect: str = "duckdb", *, plain: bool = False
) -> CompiledView:
    """Compile a checked view over `table` (a SQL table expression with a `resource` column);
    `plain` leaves out the dialect's fast path (the same rows, to compare)."""
    try:
        return ViewCompiler(view, get_dialect(dialect), plain=plain).compile(table)
    except RecursionError:
        raise BadRequest(
            "the view is nested too deeply to compile; split it into smaller views",
            code="invalid_view",
            where="$",
        ) from None
