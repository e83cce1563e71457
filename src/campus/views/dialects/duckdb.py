"""DuckDB pieces of the view compiler: JSON nodes, `JSON[]` node lists, list lambdas."""

from __future__ import annotations

import re

from campus.views.dialects.base import SQL_FAMILY, Dialect

_TYPES = {"text": "VARCHAR", "integer": "BIGINT", "decimal": "DOUBLE", "boolean": "BOOLEAN"}
_NUMBER = "('BIGINT', 'UBIGINT', 'DOUBLE')"
_NUMBER_TEXT = r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?"  # a JSON number as written
_QUOTED = '"\\0"'  # the whole match, as a JSON string
_ESCAPE = r"\\."  # a backslash escape inside a JSON string
_FRACTION = r"\.([0-9]+)"
_CHEAP = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?")


class DuckDBDialect(Dialect):
    name = "duckdb"
    node_list_type = "JSON[]"
    materialize_paths = True
    keeps_number_text = False  # a JSON value read from the text is re-written (2.50 as 2.5)

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def sql_type(self, fhirpath_type: str, collection: bool = False) -> str:
        base = "JSON" if fhirpath_type == "node" else _TYPES[SQL_FAMILY[fhirpath_type]]
        return base + "[]" if collection else base

    def raise_error(self, message: str) -> str:
        return f"error({self.string(self.ERROR_MARK + message)})"

    def lam(self, params: list[str], body: str) -> str:
        return f"lambda {', '.join(params)}: {body}"

    def array(self, items: list[str]) -> str:
        return "[" + ", ".join(items) + "]"

    def empty_nodes(self) -> str:
        return "CAST([] AS JSON[])"

    def transform(self, items: str, params: list[str], body: str) -> str:
        return f"list_transform({items}, {self.lam(params, body)})"

    def position(self, param: str) -> str:
        # DuckDB numbers list positions from 1; FHIRPath's %rowIndex counts from 0.
        return f"({param} - 1)"

    def filter(self, items: str, param: str, body: str) -> str:
        return f"list_filter({items}, {self.lam([param], body)})"

    def flatten(self, lists: str) -> str:
        return f"flatten({lists})"

    def concat(self, lists: list[str]) -> str:
        return "(" + " || ".join(lists) + ")"

    def size(self, items: str) -> str:
        return f"coalesce(len({items}), 0)"

    def element(self, items: str, index: str) -> str:
        if index.lstrip("-").isdigit():
            return f"({items})[{int(index) + 1}]" if int(index) >= 0 else "NULL"
        return f"CASE WHEN ({index}) >= 0 THEN ({items})[({index}) + 1] END"

    def last(self, items: str) -> str:
        return f"({items})[-1]"

    def join(self, strings: str, separator: str) -> str:
        return f"array_to_string({strings}, {separator})"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "struct_pack(" + ", ".join(f"{self.quote(n)} := {v}" for n, v in fields) + ")"

    def field_of(self, struct: str, name: str) -> str:
        return f"{struct}.{self.quote(name)}"

    def field(self, node: str, name: str) -> str:
        return f"json_extract({node}, {self.string('$.' + self.quote(name))})"

    def children_of(self, value: str, var: str, var2: str) -> str:
        cheap = _CHEAP.fullmatch(value) is not None
        ref = value if cheap else var
        body = (
            f"CASE WHEN {ref} IS NULL OR json_type({ref}) = 'NULL' THEN {self.empty_nodes()} "
            f"WHEN json_type({ref}) = 'ARRAY' THEN list_filter(CAST({ref} AS JSON[]), "
            f"lambda {var2}: json_type({var2}) <> 'NULL') "
            f"ELSE [{ref}] END"
        )
        # A column or list item is read in place; anything else is evaluated once.
        return body if cheap else self.let(value, var, body)

    def resources(self, table: str, root_fields: list[str], written: bool = False) -> str:
        # The resource text is parsed once per row for all its top-level elements the view
        # reads; every later step works on those small values.
        columns = ["resource AS __r"]
        if written:
            columns.append(f"CAST({self.written_numbers('resource')} AS JSON) AS __w")
        if root_fields:
            paths = ", ".join(self.string("$." + self.quote(n)) for n in root_fields)
            columns.append(f"json_extract(resource, [{paths}]) AS __top")
        return f"SELECT {', '.join(columns)} FROM {table}"

    def root_field(self, name: str, index: int) -> str:
        return f"__top[{index + 1}]"

    def written_numbers(self, text: str) -> str:
        # Escape sequences are dropped first (they only occur inside strings, whose content
        # does not matter here); the text split at quotes then alternates between outside
        # (odd positions, from 1) and inside strings, and outside a string every digit
        # belongs to a number, which is quoted.
        quote = self.string('"')
        unescaped = f"regexp_replace({text}, {self.string(_ESCAPE)}, '', 'g')"
        numbers = (
            f"regexp_replace(w_part, {self.string(_NUMBER_TEXT)}, {self.string(_QUOTED)}, 'g')"
        )
        parts = (
            f"list_transform(string_split({unescaped}, {quote}), lambda w_part, w_i: "
            f"CASE WHEN w_i % 2 = 1 THEN {numbers} ELSE w_part END)"
        )
        return f"array_to_string({parts}, {quote})"

    def written_scale(self, text: str) -> str:
        fraction = f"length(regexp_extract({text}, {self.string(_FRACTION)}, 1))"
        exponent = (
            f"coalesce(TRY_CAST(nullif(regexp_extract({text}, '[eE]([+-]?[0-9]+)', 1), '') "
            "AS INTEGER), 0)"
        )
        return f"CASE WHEN {text} IS NOT NULL THEN greatest({fraction} - {exponent}, 0) END"

    def raw_navigate(self, raw: str, name: str, var: str, var2: str) -> str:
        items = self.flatten(
            self.transform(
                f"CAST({raw} AS JSON[])", [var], self.children(var, name, var2, var2 + "b")
            )
        )
        return (
            f"CASE WHEN json_type({raw}) = 'ARRAY' THEN CAST(to_json({items}) AS JSON) "
            f"ELSE {self.field(raw, name)} END"
        )

    def raw_index(self, raw: str, index: int) -> str:
        return (
            f"CASE json_type({raw}) WHEN 'ARRAY' THEN json_extract({raw}, '$[{int(index)}]') "
            f"WHEN 'NULL' THEN NULL ELSE {raw if int(index) == 0 else 'NULL'} END"
        )

    def raw_single(self, raw: str, message: str) -> str:
        return (
            f"CASE json_type({raw}) WHEN 'ARRAY' THEN (CASE WHEN json_array_length({raw}) > 1 "
            f"THEN {self.raise_error(message)} ELSE json_extract({raw}, '$[0]') END) "
            f"WHEN 'NULL' THEN NULL ELSE {raw} END"
        )

    def raw_map(self, raw: str, var: str, var2: str, each: str, single: str) -> str:
        items = self.filter(
            self.transform(f"CAST({raw} AS JSON[])", [var], each), var2, f"{var2} IS NOT NULL"
        )
        return (
            f"CASE WHEN json_type({raw}) = 'ARRAY' THEN CAST(to_json({items}) AS JSON) "
            f"ELSE {single} END"
        )

    def raw_exists(self, raw: str) -> str:
        return (
            f"coalesce(json_type({raw}) <> 'NULL' AND (json_type({raw}) <> 'ARRAY' "
            f"OR json_array_length({raw}) > 0), FALSE)"
        )

    def node_to(self, node: str, fhirpath_type: str, message: str) -> str:
        family = SQL_FAMILY[fhirpath_type]
        if family == "text":
            return f"json_extract_string({node}, '$')"
        if family == "boolean":
            return (
                f"CASE WHEN {node} IS NULL THEN NULL "
                f"WHEN json_type({node}) = 'BOOLEAN' THEN CAST({node} AS BOOLEAN) "
                f"ELSE {self.raise_error(message)} END"
            )
        kinds = "('BIGINT', 'UBIGINT')" if family == "integer" else _NUMBER
        return (
            f"CASE WHEN {node} IS NULL THEN NULL "
            f"WHEN json_type({node}) IN {kinds} THEN CAST({node} AS {_TYPES[family]}) "
            f"ELSE {self.raise_error(message)} END"
        )

    def to_node(self, sql: str, fhirpath_type: str) -> str:
        return f"to_json({sql})"

    def node_kind_is(self, node: str, kind: str) -> str:
        kinds = {
            "string": "('VARCHAR')",
            "number": _NUMBER,
            "integer": "('BIGINT', 'UBIGINT')",
            "boolean": "('BOOLEAN')",
            "object": "('OBJECT')",
        }[kind]
        return f"coalesce(json_type({node}) IN {kinds}, FALSE)"

    def node_compare(self, left: str, op: str, right: str) -> str:
        return (
            f"CASE WHEN json_type({left}) IN {_NUMBER} AND json_type({right}) IN {_NUMBER} "
            f"THEN CAST({left} AS DOUBLE) {op} CAST({right} AS DOUBLE) "
            f"ELSE CAST({left} AS VARCHAR) {op} CAST({right} AS VARCHAR) END"
        )

    def regexp_extract(self, text: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({text}, {self.string(pattern)}, {group}), '')"

    def decimal_scale(self, node: str) -> str:
        text = f"CAST({node} AS VARCHAR)"
        dot = f"strpos({text}, '.')"
        return f"CASE WHEN {dot} > 0 THEN length({text}) - {dot} ELSE 0 END"

    def lower(self, text: str) -> str:
        return f"lower({text})"
