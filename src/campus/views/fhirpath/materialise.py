"""DuckDB's fast path: root paths read once per row into columns, beside the plain rules.

The plain `ExpressionCompiler` turns `name.given` into nested list lambdas over each row's
JSON, evaluated wherever the path is used. A dialect with `materialize_paths` can do better:
each root path (`name`, `name.given`, `name[0]`, `subject.getReferenceKey()`) is computed
once per row in a subquery column holding the raw JSON value (an array is a collection), and
every use reads the column. `MaterialisingCompiler` overrides only the handlers that meet
such a column; everything else, and every rule, is the plain compiler's. Both give the same
rows (tests/conformance/test_fast_path.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from campus.views.definition import Constant
from campus.views.dialects.base import Dialect
from campus.views.fhirpath.compiler import Expr, ExpressionCompiler


@dataclass(frozen=True)
class Column(Expr):
    """Nodes read from a materialised column: with many=True the column holds the raw JSON
    value, else one node. `key` names the path, `layer` is the subquery level of the column."""

    column: str = ""
    key: str = ""
    layer: int = 0


class MaterialisingCompiler(ExpressionCompiler):
    """The plain compiler, with root paths materialised into per-row columns."""

    def __init__(self, dialect: Dialect, resource: str, constants: dict[str, Constant]):
        super().__init__(dialect, resource, constants)
        self.paths: dict[str, tuple[int, str, str]] = {}  # path key -> (layer, column, SQL)

    def source(self, resources: str) -> str:
        """The resources with one subquery a layer of materialised paths."""
        for layer in sorted({layer for layer, _, _ in self.paths.values()}):
            columns = [f"{sql} AS {name}" for lv, name, sql in self.paths.values() if lv == layer]
            resources = f"SELECT *, {', '.join(columns)} FROM ({resources}) AS __paths{layer}"
        return resources

    def _materialise(self, key: str, layer: int, sql: str) -> str:
        """The column of a root path, computed once per row in subquery `layer`."""
        if key not in self.paths:
            self.paths[key] = (layer, f"__p{len(self.paths) + 1}", sql)
        return self.paths[key][1]

    def _raw(self, column: str, key: str, layer: int, fhir: str | None) -> Column:
        nodes = self.d.children_of(column, self.fresh(), self.fresh())
        return Column(nodes, "node", True, fhir=fhir, column=column, key=key, layer=layer)

    def _pick(self, base: Column, suffix: str, sql: str) -> Column:
        key = base.key + suffix
        column = self._materialise(key, base.layer + 1, sql)
        return Column(
            column,
            "node",
            False,
            base.hint,
            fhir=base.fhir,
            column=column,
            key=key,
            layer=base.layer + 1,
        )

    # --- the handlers that meet a column ------------------------------------------------------
    def root_element(self, name: str, fhir: str | None) -> Expr:
        return self._raw(self.root_field(name), name, 0, fhir)

    def elements(self, base: Expr, name: str, fhir: str | None) -> Expr:
        if not isinstance(base, Column):
            return super().elements(base, name, fhir)
        key = f"{base.key}.{name}"
        if base.many:
            sql = self.d.raw_navigate(base.column, name, self.fresh(), self.fresh())
        else:
            sql = self.d.field(base.column, name)
        column = self._materialise(key, base.layer + 1, sql)
        return self._raw(column, key, base.layer + 1, fhir)

    def single(self, e: Expr, what: str) -> Expr:
        if not (isinstance(e, Column) and e.many):
            return super().single(e, what)
        message = self.more_than_one(what)
        return Expr(self.d.raw_single(e.column, message), "node", False, e.hint, fhir=e.fhir)

    def indexed(self, base: Expr, position: str) -> Expr:
        if isinstance(base, Column) and base.many and position.isdigit():
            return self._pick(base, f"[{position}]", self.d.raw_index(base.column, int(position)))
        return super().indexed(base, position)

    def exists(self, base: Expr) -> Expr:
        if isinstance(base, Column) and base.many:
            return Expr(f"({self.d.raw_exists(base.column)})", "boolean")
        return super().exists(base)

    def first(self, base: Expr) -> Expr:
        if isinstance(base, Column) and base.many:
            return self._pick(base, ".first()", self.d.raw_index(base.column, 0))
        return super().first(base)

    def reference_keys(self, base: Expr, wanted: str | None) -> Expr:
        if not (isinstance(base, Column) and base.many):
            return super().reference_keys(base, wanted)
        # One column per row: the keys of a root path's references, as a raw value.
        var, var2 = self.fresh(), self.fresh()
        key_of = self.reference_key(wanted)
        each = self.d.to_node(key_of(var), "string")
        single = self.d.to_node(key_of(base.column), "string")
        sql = self.d.raw_map(base.column, var, var2, each, single)
        key = f"{base.key}.getReferenceKey({wanted or ''})"
        column = self._materialise(key, base.layer + 1, sql)
        nodes = self.d.children_of(column, self.fresh(), self.fresh())
        return Column(nodes, "node", True, "string", column=column, key=key, layer=base.layer + 1)


def compiler_for(
    dialect: Dialect, resource: str, constants: dict[str, Constant], *, plain: bool = False
) -> ExpressionCompiler:
    """The FHIRPath compiler for a dialect: with its fast path unless `plain`."""
    if dialect.materialize_paths and not plain:
        return MaterialisingCompiler(dialect, resource, constants)
    return ExpressionCompiler(dialect, resource, constants)
