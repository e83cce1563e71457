"""What a SQL dialect supplies to the view compiler.

The compiler works on two kinds of SQL values: *nodes* (one JSON value of a resource: DuckDB
`JSON`, Spark `VARIANT`; SQL NULL when empty) and *node lists* (a FHIRPath collection:
`JSON[]` / `ARRAY<VARIANT>`). Typed values (`string`, `integer`, `decimal`, `boolean`,
`date`, `dateTime`, `time`) are plain SQL scalars, NULL when empty. Rows of a select are
arrays of structs. Every function here returns SQL text; none runs anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

# FHIRPath type -> the family used for SQL storage.
SQL_FAMILY = {
    "string": "text",
    "date": "text",
    "dateTime": "text",
    "time": "text",
    "integer": "integer",
    "decimal": "decimal",
    "boolean": "boolean",
}


class Dialect(ABC):
    name: str
    node_list_type: str
    materialize_paths = False  # read root paths once per row into columns (raw_* below)
    # Whether a number node keeps its written form, which the precision of a decimal depends
    # on. Neither engine's does (Spark's VARIANT stores 1.0 as 1, DuckDB re-writes 2.50 as
    # 2.5), so both supply `written_numbers` and `written_scale`.
    keeps_number_text = True
    ERROR_MARK = "view error: "

    # --- names and literals ------------------------------------------------------------------
    @abstractmethod
    def quote(self, name: str) -> str: ...

    @abstractmethod
    def string(self, value: str) -> str: ...

    def integer(self, value: int) -> str:
        return str(int(value))

    def decimal(self, value: object) -> str:
        return f"CAST({self.string(str(value))} AS DOUBLE)"

    def boolean(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    @abstractmethod
    def sql_type(self, fhirpath_type: str, collection: bool = False) -> str: ...

    def null(self, fhirpath_type: str, collection: bool = False) -> str:
        return f"CAST(NULL AS {self.sql_type(fhirpath_type, collection)})"

    def cast(self, sql: str, fhirpath_type: str) -> str:
        return f"CAST({sql} AS {self.sql_type(fhirpath_type)})"

    @abstractmethod
    def raise_error(self, message: str) -> str:
        """An expression that fails the query with `message` when evaluated."""

    # --- lists and lambdas --------------------------------------------------------------------
    @abstractmethod
    def lam(self, params: list[str], body: str) -> str: ...

    @abstractmethod
    def array(self, items: list[str]) -> str: ...

    @abstractmethod
    def empty_nodes(self) -> str: ...

    @abstractmethod
    def transform(self, items: str, params: list[str], body: str) -> str:
        """Map over a list; a second parameter is the 0-based position."""

    @abstractmethod
    def position(self, param: str) -> str:
        """The 0-based position from the second parameter of a `transform` lambda."""

    @abstractmethod
    def filter(self, items: str, param: str, body: str) -> str: ...

    @abstractmethod
    def flatten(self, lists: str) -> str: ...

    @abstractmethod
    def concat(self, lists: list[str]) -> str: ...

    @abstractmethod
    def size(self, items: str) -> str:
        """Number of items; 0 for NULL."""

    @abstractmethod
    def element(self, items: str, index: str) -> str:
        """Item at a 0-based index, NULL when out of range."""

    @abstractmethod
    def last(self, items: str) -> str: ...

    def let(self, value: str, var: str, body: str) -> str:
        """Evaluate `value` once and use it as `var` in `body`."""
        return self.element(self.transform(self.array([value]), [var], body), "0")

    @abstractmethod
    def join(self, strings: str, separator: str) -> str: ...

    @abstractmethod
    def struct(self, fields: list[tuple[str, str]]) -> str: ...

    @abstractmethod
    def field_of(self, struct: str, name: str) -> str: ...

    # --- JSON nodes ---------------------------------------------------------------------------
    @abstractmethod
    def field(self, node: str, name: str) -> str:
        """The raw value of element `name` of `node` (an array stays an array)."""

    @abstractmethod
    def children_of(self, value: str, var: str, var2: str) -> str:
        """A raw element value as a node list (arrays flattened, JSON nulls dropped)."""

    def children(self, node: str, name: str, var: str, var2: str) -> str:
        """The node list of element `name` of `node`."""
        return self.children_of(self.field(node, name), var, var2)

    @abstractmethod
    def resources(self, table: str, root_fields: list[str], written: bool = False) -> str:
        """The FROM subquery: `__r` (the resource) and what `root_field` reads, per row.

        With `written`, also `__w`: the resource with every number replaced by the string of
        its written text (see `written_numbers`), for dialects that do not keep number text.
        """

    def written_numbers(self, text: str) -> str:
        """The resource JSON `text` with every number made a JSON string of its written form."""
        raise NotImplementedError

    def written_scale(self, text: str) -> str:
        """Digits after the decimal point of a number written as `text` (SQL string, from its
        node in `__w`), counting the exponent: `1.000e1` has 2."""
        raise NotImplementedError

    @abstractmethod
    def root_field(self, name: str, index: int) -> str:
        """The raw value of a top-level element of the resource, read once per row."""

    # Raw values: one JSON value where an array is the collection of its items (FHIR has no
    # nested arrays). Only dialects with `materialize_paths` implement these.
    def raw_navigate(self, raw: str, name: str, var: str, var2: str) -> str:
        raise NotImplementedError

    def raw_index(self, raw: str, index: int) -> str:
        raise NotImplementedError

    def raw_single(self, raw: str, message: str) -> str:
        raise NotImplementedError

    def raw_exists(self, raw: str) -> str:
        raise NotImplementedError

    def raw_map(self, raw: str, var: str, var2: str, each: str, single: str) -> str:
        """A raw value mapped item by item (`each` of `var`; `single` when not an array)."""
        raise NotImplementedError

    @abstractmethod
    def node_to(self, node: str, fhirpath_type: str, message: str) -> str:
        """A node as a typed scalar (`message` names the place if it is not of that type)."""

    @abstractmethod
    def to_node(self, sql: str, fhirpath_type: str) -> str: ...

    @abstractmethod
    def node_kind_is(self, node: str, kind: str) -> str:
        """True when the node is a JSON `string`, `number`, `integer`, `boolean` or `object`."""

    @abstractmethod
    def node_compare(self, left: str, op: str, right: str) -> str:
        """Compare two nodes of unknown type: numerically when both are numbers, else as JSON."""

    @abstractmethod
    def regexp_extract(self, text: str, pattern: str, group: int) -> str: ...

    @abstractmethod
    def decimal_scale(self, node: str) -> str:
        """The number of digits after the decimal point of a JSON number node as written."""

    @abstractmethod
    def lower(self, text: str) -> str: ...
