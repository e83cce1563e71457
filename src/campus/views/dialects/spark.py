"""Spark SQL pieces of the view compiler: `VARIANT` nodes, `ARRAY<VARIANT>` node lists."""

from __future__ import annotations

from campus.views.dialects.base import SQL_FAMILY, Dialect

_TYPES = {"text": "STRING", "integer": "BIGINT", "decimal": "DOUBLE", "boolean": "BOOLEAN"}
_NUMBER = "'^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)'"
_INTEGER = "'^(TINYINT|SMALLINT|INT|BIGINT)$'"
_NUMBER_TEXT = r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?"  # a JSON number as written
_QUOTED = '"$0"'  # the whole match, as a JSON string
_ESCAPE = r"\\."  # a backslash escape inside a JSON string
_FRACTION = r"\.([0-9]+)"


class SparkDialect(Dialect):
    name = "spark"
    node_list_type = "ARRAY<VARIANT>"
    keeps_number_text = False

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def string(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def sql_type(self, fhirpath_type: str, collection: bool = False) -> str:
        base = "VARIANT" if fhirpath_type == "node" else _TYPES[SQL_FAMILY[fhirpath_type]]
        return f"ARRAY<{base}>" if collection else base

    def raise_error(self, message: str) -> str:
        return f"raise_error({self.string(self.ERROR_MARK + message)})"

    def lam(self, params: list[str], body: str) -> str:
        if len(params) == 1:
            return f"{params[0]} -> {body}"
        return f"({', '.join(params)}) -> {body}"

    def array(self, items: list[str]) -> str:
        return "array(" + ", ".join(items) + ")"

    def empty_nodes(self) -> str:
        return "CAST(array() AS ARRAY<VARIANT>)"

    def transform(self, items: str, params: list[str], body: str) -> str:
        return f"transform({items}, {self.lam(params, body)})"

    def position(self, param: str) -> str:
        return f"CAST({param} AS BIGINT)"

    def filter(self, items: str, param: str, body: str) -> str:
        return f"filter({items}, {self.lam([param], body)})"

    def flatten(self, lists: str) -> str:
        return f"flatten({lists})"

    def concat(self, lists: list[str]) -> str:
        return "concat(" + ", ".join(lists) + ")"

    def size(self, items: str) -> str:
        return f"coalesce(size({items}), 0)"

    def element(self, items: str, index: str) -> str:
        if index.lstrip("-").isdigit():
            return f"try_element_at({items}, {int(index) + 1})" if int(index) >= 0 else "NULL"
        return (
            f"CASE WHEN ({index}) >= 0 THEN try_element_at({items}, CAST(({index}) + 1 AS INT)) END"
        )

    def last(self, items: str) -> str:
        return f"CASE WHEN size({items}) > 0 THEN try_element_at({items}, -1) END"

    def join(self, strings: str, separator: str) -> str:
        return f"array_join({strings}, {separator})"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.string(n)}, {v}" for n, v in fields) + ")"

    def field_of(self, struct: str, name: str) -> str:
        return f"{struct}.{self.quote(name)}"

    def field(self, node: str, name: str) -> str:
        return f"variant_get({node}, {self.string('$.' + name)})"

    def children_of(self, value: str, var: str, var2: str) -> str:
        body = (
            f"CASE WHEN {var} IS NULL OR is_variant_null({var}) THEN {self.empty_nodes()} "
            f"ELSE coalesce(filter(try_variant_get({var}, '$', 'ARRAY<VARIANT>'), "
            f"{var2} -> NOT is_variant_null({var2})), array({var})) END"
        )
        return self.let(value, var, body)

    def resources(self, table: str, root_fields: list[str], written: bool = False) -> str:
        columns = ["parse_json(resource) AS __r"]
        if written:
            columns.append(f"parse_json({self.written_numbers('resource')}) AS __w")
        return f"SELECT {', '.join(columns)} FROM {table}"

    def written_numbers(self, text: str) -> str:
        # VARIANT keeps a number's value, not its written precision (1.0 becomes 1), so the
        # text is rewritten with each number quoted. Escape sequences are dropped first (they
        # only occur inside strings, whose content does not matter here); the text split at
        # quotes then alternates between outside (even items) and inside (odd items) strings,
        # and outside a string every digit belongs to a number.
        quote = self.string('"')
        unescaped = f"regexp_replace({text}, {self.string(_ESCAPE)}, '')"
        numbers = f"regexp_replace(w_part, {self.string(_NUMBER_TEXT)}, {self.string(_QUOTED)})"
        parts = (
            f"transform(split({unescaped}, {quote}), (w_part, w_i) -> "
            f"CASE WHEN w_i % 2 = 0 THEN {numbers} ELSE w_part END)"
        )
        return f"array_join({parts}, {quote})"

    def written_scale(self, text: str) -> str:
        fraction = f"length(regexp_extract({text}, {self.string(_FRACTION)}, 1))"
        exponent = (
            f"coalesce(try_cast(nullif(regexp_extract({text}, '[eE]([+-]?[0-9]+)', 1), '') "
            "AS INT), 0)"
        )
        return f"CASE WHEN {text} IS NOT NULL THEN greatest({fraction} - {exponent}, 0) END"

    def root_field(self, name: str, index: int) -> str:
        return self.field("__r", name)

    def node_to(self, node: str, fhirpath_type: str, message: str) -> str:
        family = SQL_FAMILY[fhirpath_type]
        if family == "text":
            return f"variant_get({node}, '$', 'STRING')"
        if family == "boolean":
            check = f"schema_of_variant({node}) = 'BOOLEAN'"
        elif family == "integer":
            check = f"schema_of_variant({node}) RLIKE {_INTEGER}"
        else:
            check = f"schema_of_variant({node}) RLIKE {_NUMBER}"
        return (
            f"CASE WHEN {node} IS NULL THEN NULL WHEN {check} "
            f"THEN variant_get({node}, '$', '{_TYPES[family]}') "
            f"ELSE {self.raise_error(message)} END"
        )

    def to_node(self, sql: str, fhirpath_type: str) -> str:
        return f"CAST({sql} AS VARIANT)"

    def node_kind_is(self, node: str, kind: str) -> str:
        pattern = {
            "string": "'^STRING$'",
            "number": _NUMBER,
            "integer": _INTEGER,
            "boolean": "'^BOOLEAN$'",
            "object": "'^OBJECT'",
        }[kind]
        return f"coalesce(schema_of_variant({node}) RLIKE {pattern}, FALSE)"

    def node_compare(self, left: str, op: str, right: str) -> str:
        return (
            f"CASE WHEN schema_of_variant({left}) RLIKE {_NUMBER} "
            f"AND schema_of_variant({right}) RLIKE {_NUMBER} "
            f"THEN variant_get({left}, '$', 'DOUBLE') {op} variant_get({right}, '$', 'DOUBLE') "
            f"ELSE to_json({left}) {op} to_json({right}) END"
        )

    def regexp_extract(self, text: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({text}, {self.string(pattern)}, {group}), '')"

    def decimal_scale(self, node: str) -> str:
        schema = f"schema_of_variant({node})"
        return (
            f"CASE WHEN {schema} RLIKE '^DECIMAL' "
            f"THEN CAST(regexp_extract({schema}, ',([0-9]+)', 1) AS INT) ELSE 0 END"
        )

    def lower(self, text: str) -> str:
        return f"lower({text})"
