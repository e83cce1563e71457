"""FHIRPath -> SQL expressions, one function per syntax node and one per FHIRPath function.

An expression compiles to an `Expr`: SQL text plus what it holds. `type == "node"` means JSON
nodes of the resource (`many` tells a node list from a single node); any other type is a
typed SQL scalar (string, integer, decimal, boolean, date, dateTime, time), NULL when empty.
What views cannot use is refused here with a `BadRequest` naming the path and the reason,
never compiled into something that gives a wrong answer.

This module holds the rules only. DuckDB's speed-up (root paths read once per row into
columns) is `materialise.MaterialisingCompiler`, a subclass overriding the few handlers it
changes; `materialise.compiler_for` chooses it for dialects that can materialise paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from campus.errors import BadRequest
from campus.views import schema
from campus.views.definition import Constant
from campus.views.dialects.base import Dialect
from campus.views.fhirpath import ast
from campus.views.resources import COMPLEX_TYPES, PRIMITIVE_TYPES, RESOURCE_TYPES

ROOT = "__r"  # SQL name of the resource node in the compiled query
WRITTEN = "__w"  # the resource with numbers as their written text (dialects that lose it)
NUMERIC = ("integer", "decimal")
TEXTUAL = ("string", "date", "dateTime", "time")


# FHIR types and the types derived from them (an `id` is a string, a `url` a uri).
_SUBTYPES = {
    "string": frozenset({"code", "id", "markdown"}),
    "uri": frozenset({"url", "canonical", "uuid", "oid"}),
    "integer": frozenset({"positiveInt", "unsignedInt"}),
    "Quantity": frozenset(
        {"Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"}
    ),
}


def child_type(owner: str | None, name: str) -> str | None:
    """The FHIR type of element `name` of a value of type `owner`, when it has exactly one."""
    index = schema.elements(owner) if owner else None
    element = index.get(name) if index else None
    if element is None or element.choice or len(element.types) != 1:
        return None
    return element.types[0]


def may_be(declared: tuple[str, ...], wanted: str) -> bool:
    """Whether a value of one of the `declared` types can be of type `wanted`."""
    if wanted in RESOURCE_TYPES or wanted in schema.ABSTRACT:
        return any(t in schema.ABSTRACT or t == wanted for t in declared)
    return any(t == wanted or t in _SUBTYPES.get(wanted, ()) for t in declared)


# The compiler's handlers, registered by decorator on its methods: the FHIRPath functions
# (name -> method name, fewest and most arguments) and the syntax nodes (type -> method name).
# Dispatch goes through the method's name, so a subclass that overrides a method is used.
FUNCTIONS: dict[str, tuple[str, int, int]] = {}
NODES: dict[type, str] = {}


def function(*names: str, args: tuple[int, int] = (0, 0)) -> Callable:
    """Compile the FHIRPath functions `names`, called with args[0] to args[1] arguments."""

    def register(method: Callable) -> Callable:
        for name in names:
            FUNCTIONS[name] = (method.__name__, *args)
        return method

    return register


def compiles(node_type: type) -> Callable:
    """Compile the syntax nodes of `node_type`."""

    def register(method: Callable) -> Callable:
        NODES[node_type] = method.__name__
        return method

    return register


@dataclass(frozen=True)
class Expr:
    sql: str
    type: str = "node"  # "node" or a FHIRPath primitive type
    many: bool = False  # a node list (only with type "node")
    hint: str | None = None  # the known FHIRPath type of the nodes, from ofType()
    # The FHIR type of the nodes, from the element definitions (`Quantity`, `decimal`): None
    # when it cannot be told (a choice before ofType(), an abstract Resource, a function).
    fhir: str | None = None

    @property
    def known(self) -> str | None:
        """The FHIRPath type of the values, where known."""
        if self.type != "node":
            return self.type
        return self.hint or PRIMITIVE_TYPES.get(self.fhir or "")


@dataclass(frozen=True)
class Scope:
    focus: Expr  # $this: one node
    row_index: str  # SQL integer of %rowIndex
    at_root: bool  # the focus is the resource itself
    # The focus read in the WRITTEN resource, where known (see `ExpressionCompiler.written`).
    written: str | None = None


class ExpressionCompiler:
    """Compiles the FHIRPath expressions of one view for one dialect."""

    def __init__(self, dialect: Dialect, resource: str, constants: dict[str, Constant]):
        self.d = dialect
        self.resource = resource
        self.constants = constants
        self._counter = 0
        self.root_fields: dict[str, int] = {}  # top-level elements read, in first-use order
        self.uses_written = False  # the query needs the WRITTEN resource
        self.where = "$"
        self.text = ""

    # --- helpers ------------------------------------------------------------------------------
    def fresh(self) -> str:
        self._counter += 1
        return f"v_{self._counter}"

    def fail(self, message: str, node: ast.Node | None = None) -> BadRequest:
        at = f" at character {node.pos + 1}" if node is not None else ""
        return BadRequest(
            f"{message} (in {self.text!r}{at})", code="invalid_view", where=self.where
        )

    def source(self, resources: str) -> str:
        """The query the view's rows read from, given the query of the resources."""
        return resources

    def compile(self, tree: ast.Node, scope: Scope, *, where: str, text: str) -> Expr:
        self.where, self.text = where, text
        return self.expr(tree, scope)

    def expr(self, node: ast.Node, scope: Scope) -> Expr:
        method = NODES.get(type(node))
        if method is None:  # pragma: no cover - every node class has a handler
            raise self.fail(f"unsupported syntax {type(node).__name__}", node)
        return getattr(self, method)(node, scope)

    def as_list(self, e: Expr) -> str:
        """A node list from any value."""
        if e.many:
            return e.sql
        node = e.sql if e.type == "node" else self.d.to_node(e.sql, e.type)
        if node == "NULL":
            return self.d.empty_nodes()
        var = self.fresh()
        return self.d.let(
            node,
            var,
            f"CASE WHEN {var} IS NULL THEN {self.d.empty_nodes()} ELSE {self.d.array([var])} END",
        )

    def single(self, e: Expr, what: str) -> Expr:
        """At most one value: a node list of more than one item fails the query."""
        if not e.many:
            return e
        message = self.more_than_one(what)
        var = self.fresh()
        body = (
            f"CASE WHEN {self.d.size(var)} > 1 THEN {self.d.raise_error(message)} "
            f"ELSE {self.d.element(var, '0')} END"
        )
        return Expr(self.d.let(e.sql, var, body), "node", False, e.hint, fhir=e.fhir)

    def more_than_one(self, what: str) -> str:
        return (
            f"{what} {self.text!r} returned more than one value "
            "(use first(), an index or a where() to choose one)"
        )

    def typed(self, e: Expr, want: str, what: str) -> str:
        """A typed SQL scalar of FHIRPath type `want`."""
        if e.type == "node":
            one = self.single(e, what)
            return self.d.node_to(
                one.sql, want, f"{what} {self.text!r} is not a {want} (at {self.where})"
            )
        if e.type == want:
            return e.sql
        if want in NUMERIC and e.type in NUMERIC:
            return self.d.cast(e.sql, want)
        if want in TEXTUAL and e.type in TEXTUAL:
            return e.sql
        if want == "string":
            return self.d.cast(e.sql, "string")
        raise self.fail(f"{what} is a {e.type} where a {want} is needed")

    def boolean(self, e: Expr, what: str) -> str:
        if e.type not in ("node", "boolean"):
            raise self.fail(f"{what} is a {e.type}, not a boolean")
        return self.typed(e, "boolean", what)

    def _const_integer(self, node: ast.Node, scope: Scope) -> str:
        e = self.expr(node, scope)
        if e.type != "integer":
            raise self.fail("an index must be an integer", node)
        return e.sql

    # --- numbers as written -------------------------------------------------------------------
    def written(self, tree: ast.Node | None, scope: Scope) -> str | None:
        """The node list of a plain path read in the resource whose numbers are kept as
        written text (`WRITTEN`), item for item the same as the path's own nodes; None when
        the dialect keeps number text anyway, or the path is not plain.

        A plain path only navigates: members, `ofType()` of a choice element, constant
        indexes, `first()`, `last()`, `$this`. Those select the same places in both readings
        of the resource, which differ only in their numbers; a filter could not be repeated
        there (it would meet strings where the resource has numbers).
        """
        if self.d.keeps_number_text or not self._plain(tree):
            return None
        focus = WRITTEN if scope.at_root else scope.written
        if focus is None:
            return None
        if tree is None:
            return self.d.array([focus])
        # The same element types as the focus, so that ofType() chooses the same way.
        there = Scope(
            Expr(focus, "node", fhir=scope.focus.fhir), scope.row_index, scope.at_root, focus
        )
        return self.as_list(self.expr(tree, there))

    def _plain(self, node: ast.Node | None) -> bool:
        if node is None:
            return True
        if isinstance(node, ast.Member):
            return self._plain(node.target)
        if isinstance(node, ast.Variable):
            return not node.env and node.name == "this"
        if isinstance(node, ast.Index):
            return (
                isinstance(node.index, ast.Literal)
                and node.index.type == "integer"
                and self._plain(node.target)
            )
        if isinstance(node, ast.Call) and node.name in ("first", "last") and not node.args:
            return self._plain(node.target)
        if isinstance(node, ast.Call) and node.name == "ofType" and len(node.args) == 1:
            argument = node.args[0]
            if not isinstance(node.target, ast.Member) or not isinstance(argument, ast.Member):
                return False
            name = argument.name.removeprefix("FHIR.")
            if name.startswith("System."):
                name = name[7:].lower()
            choice = name in PRIMITIVE_TYPES or name in COMPLEX_TYPES
            return choice and argument.target is None and self._plain(node.target.target)
        return False

    # --- terms --------------------------------------------------------------------------------
    @compiles(ast.Literal)
    def literal(self, node: ast.Literal, scope: Scope) -> Expr:
        if node.type == "empty":
            return Expr(self.d.empty_nodes(), "node", True)
        if node.type == "string":
            return Expr(self.d.string(str(node.value)), "string")
        if node.type == "integer":
            return Expr(self.d.integer(int(node.value)), "integer")  # type: ignore[call-overload]
        if node.type == "decimal":
            return Expr(self.d.decimal(node.value), "decimal")
        if node.type == "boolean":
            return Expr(self.d.boolean(bool(node.value)), "boolean")
        return Expr(self.d.string(str(node.value)), node.type)  # date, dateTime, time

    @compiles(ast.Variable)
    def variable(self, node: ast.Variable, scope: Scope) -> Expr:
        if not node.env:
            if node.name == "this":
                return scope.focus
            raise self.fail(f"${node.name} is not supported in views", node)
        if node.name == "rowIndex":
            return Expr(scope.row_index, "integer")
        if node.name in ("resource", "rootResource", "context"):
            raise self.fail(f"%{node.name} is not supported in views", node)
        constant = self.constants.get(node.name)
        if constant is None:
            known = ", ".join(f"%{n}" for n in self.constants) or "none"
            raise self.fail(f"undefined constant %{node.name} (defined: {known})", node)
        value = constant.value
        if constant.type == "integer":
            return Expr(self.d.integer(int(value)), "integer")
        if constant.type == "decimal":
            return Expr(self.d.decimal(Decimal(str(value))), "decimal")
        if constant.type == "boolean":
            return Expr(self.d.boolean(bool(value)), "boolean")
        return Expr(self.d.string(str(value)), constant.type)

    @compiles(ast.Member)
    def member(self, node: ast.Member, scope: Scope) -> Expr:
        if node.target is None:
            if scope.at_root and node.name == self.resource:
                return scope.focus
            if node.name[:1].isupper() and node.name in RESOURCE_TYPES:
                raise self.fail(
                    f"the view is on {self.resource}, so a path cannot start with {node.name}",
                    node,
                )
            base = scope.focus
        else:
            base = self.expr(node.target, scope)
        return self.navigate(base, node.name, node)

    def navigate(self, base: Expr, name: str, node: ast.Node) -> Expr:
        if base.type != "node":
            raise self.fail(f"cannot read element {name!r} of a {base.type} value", node)
        if base.hint in PRIMITIVE_TYPES.values() and name not in ("id", "extension"):
            raise self.fail(f"a {base.hint} has no element {name!r}", node)
        fhir = child_type(base.fhir, name)
        if base.sql == ROOT and not base.many:
            return self.root_element(name, fhir)
        return self.elements(base, name, fhir)

    def root_element(self, name: str, fhir: str | None) -> Expr:
        """The nodes of the resource's top-level element `name`."""
        value = self.root_field(name)
        nodes = self.d.children_of(value, self.fresh(), self.fresh())
        return Expr(nodes, "node", True, fhir=fhir)

    def elements(self, base: Expr, name: str, fhir: str | None) -> Expr:
        """The nodes of element `name` of each node of `base`."""
        if not base.many:
            nodes = self.d.children(base.sql, name, self.fresh(), self.fresh())
            return Expr(nodes, "node", True, fhir=fhir)
        var = self.fresh()
        inner = self.d.children(var, name, self.fresh(), self.fresh())
        return Expr(
            self.d.flatten(self.d.transform(base.sql, [var], inner)), "node", True, fhir=fhir
        )

    def root_field(self, name: str) -> str:
        """The SQL value of the resource's top-level element `name` (read once per row)."""
        index = self.root_fields.setdefault(name, len(self.root_fields))
        return self.d.root_field(name, index)

    @compiles(ast.Index)
    def index(self, node: ast.Index, scope: Scope) -> Expr:
        base = self.expr(node.target, scope)
        return self.indexed(base, self._const_integer(node.index, scope))

    def indexed(self, base: Expr, position: str) -> Expr:
        """Item `position` (SQL integer) of `base`."""
        if base.type != "node":
            return Expr(f"CASE WHEN {position} = 0 THEN {base.sql} END", base.type)
        element = self.d.element(self.as_list(base), position)
        return Expr(element, "node", False, base.hint, fhir=base.fhir)

    # --- operators ----------------------------------------------------------------------------
    @compiles(ast.Unary)
    def unary(self, node: ast.Unary, scope: Scope) -> Expr:
        operand = self.expr(node.operand, scope)
        kind = operand.known if operand.known in NUMERIC else "decimal"
        value = self.typed(operand, kind, "the operand of unary minus")
        return Expr(f"(-{value})" if node.op == "-" else value, kind)

    @compiles(ast.Binary)
    def binary(self, node: ast.Binary, scope: Scope) -> Expr:
        op = node.op
        if op in ("and", "or", "xor", "implies"):
            left = self.boolean(self.expr(node.left, scope), f"the left side of '{op}'")
            right = self.boolean(self.expr(node.right, scope), f"the right side of '{op}'")
            sql = {
                "and": f"({left} AND {right})",
                "or": f"({left} OR {right})",
                "xor": f"({left} <> {right})",
                "implies": f"((NOT {left}) OR {right})",
            }[op]
            return Expr(sql, "boolean")
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return self.compare(node, scope)
        if op in ("~", "!~"):
            return self.equivalent(node, scope)
        if op in ("in", "contains"):
            return self.membership(node, scope)
        if op == "&":
            left = self.typed(self.expr(node.left, scope), "string", "the left side of '&'")
            right = self.typed(self.expr(node.right, scope), "string", "the right side of '&'")
            return Expr(f"(coalesce({left}, '') || coalesce({right}, ''))", "string")
        if op in ("+", "-", "*", "/", "div", "mod"):
            return self.arithmetic(node, scope)
        raise self.fail(f"the operator '{op}' is not supported in views", node)

    def _operands(self, node: ast.Binary, scope: Scope) -> tuple[Expr, Expr, str | None]:
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        kinds = {left.known, right.known} - {None}
        if not kinds:
            kind = None
        elif kinds <= set(NUMERIC):
            kind = "integer" if kinds == {"integer"} else "decimal"
        elif "boolean" in kinds:
            kind = "boolean"
        else:
            kind = "string"
        return left, right, kind

    def compare(self, node: ast.Binary, scope: Scope) -> Expr:
        left, right, kind = self._operands(node, scope)
        op = "<>" if node.op == "!=" else node.op
        side = f"a side of '{node.op}'"
        if kind is None:
            a = self.single(left, side).sql
            b = self.single(right, side).sql
            return Expr(f"({self.d.node_compare(a, op, b)})", "boolean")
        a = self.typed(left, kind, side)
        b = self.typed(right, kind, side)
        return Expr(f"({a} {op} {b})", "boolean")

    def equivalent(self, node: ast.Binary, scope: Scope) -> Expr:
        left, right, kind = self._operands(node, scope)
        kind = kind or "string"
        a = self.typed(left, kind, "a side of '~'")
        b = self.typed(right, kind, "a side of '~'")
        if kind == "string":
            a, b = self.d.lower(f"trim({a})"), self.d.lower(f"trim({b})")
        sql = f"coalesce({a} = {b}, {a} IS NULL AND {b} IS NULL)"
        return Expr(f"({sql})" if node.op == "~" else f"(NOT {sql})", "boolean")

    def membership(self, node: ast.Binary, scope: Scope) -> Expr:
        item_node, list_node = (
            (node.left, node.right) if node.op == "in" else (node.right, node.left)
        )
        item = self.expr(item_node, scope)
        items = self.expr(list_node, scope)
        kind = item.known or items.known or "string"
        needle = self.typed(item, kind, f"the item of '{node.op}'")
        var = self.fresh()
        each = self.d.node_to(var, kind, f"an item of {self.text!r} is not a {kind}")
        if items.type != "node":
            return Expr(f"({needle} = {items.sql})", "boolean")
        found = self.d.size(self.d.filter(self.as_list(items), var, f"{each} = {needle}"))
        return Expr(f"(CASE WHEN {needle} IS NULL THEN NULL ELSE {found} > 0 END)", "boolean")

    def arithmetic(self, node: ast.Binary, scope: Scope) -> Expr:
        left, right, kind = self._operands(node, scope)
        side = f"a side of '{node.op}'"
        if kind == "string" and {left.known, right.known} & {"integer", "decimal", "boolean"}:
            raise self.fail(
                f"'{node.op}' mixes text and {({left.known, right.known} - set(TEXTUAL)).pop()} "
                "values",
                node,
            )
        if node.op == "+" and kind == "string":
            a, b = self.typed(left, "string", side), self.typed(right, "string", side)
            return Expr(f"({a} || {b})", "string")
        if kind not in (None, *NUMERIC):
            raise self.fail(f"'{node.op}' needs numbers, not {kind} values", node)
        kind = kind or "decimal"
        if node.op == "/":
            kind = "decimal"
        if node.op in ("div", "mod") and kind != "integer":
            kind = "integer" if kind is None else kind
        a, b = self.typed(left, kind, side), self.typed(right, kind, side)
        if node.op == "/":
            return Expr(f"(CASE WHEN {b} <> 0 THEN {a} / {b} END)", "decimal")
        if node.op == "div":
            return Expr(
                f"(CASE WHEN {b} <> 0 THEN CAST(floor({a} / {b}) AS BIGINT) END)", "integer"
            )
        if node.op == "mod":
            return Expr(f"(CASE WHEN {b} <> 0 THEN {a} % {b} END)", kind)
        return Expr(f"({a} {node.op} {b})", kind)

    @compiles(ast.TypeTest)
    def type_test(self, node: ast.TypeTest, scope: Scope) -> Expr:
        call = ast.Call(
            node.pos, node.operand, "ofType", (ast.Member(node.pos, None, node.type_name),)
        )
        result = self.of_type(call, scope)
        if node.op == "as":
            return result
        exists = self.d.size(self.as_list(result)) + " > 0"
        return Expr(f"({exists})", "boolean")

    # --- functions ----------------------------------------------------------------------------
    @compiles(ast.Call)
    def call(self, node: ast.Call, scope: Scope) -> Expr:
        found = FUNCTIONS.get(node.name)
        if found is None:
            supported = ", ".join(f"{n}()" for n in sorted(FUNCTIONS))
            raise self.fail(
                f"the function {node.name}() is not supported in views (supported: {supported})",
                node,
            )
        method, fewest, most = found
        if not fewest <= len(node.args) <= most:
            raise self.fail(
                f"{node.name}() takes {fewest} to {most} arguments, not {len(node.args)}",
                node,
            )
        return getattr(self, method)(node, scope)

    def _base(self, node: ast.Call, scope: Scope) -> Expr:
        return scope.focus if node.target is None else self.expr(node.target, scope)

    @function("where", args=(1, 1))
    def fn_where(self, node: ast.Call, scope: Scope) -> Expr:
        base = self._base(node, scope)
        var = self.fresh()
        each = Scope(Expr(var, "node", hint=base.hint, fhir=base.fhir), scope.row_index, False)
        criterion = self.expr(node.args[0], each)
        test = self.boolean(criterion, "the criterion of where()")
        return Expr(
            self.d.filter(self.as_list(base), var, f"coalesce({test}, FALSE)"),
            "node",
            True,
            base.hint,
            fhir=base.fhir,
        )

    @function("exists", args=(0, 1))
    def fn_exists(self, node: ast.Call, scope: Scope) -> Expr:
        base = self.fn_where(node, scope) if node.args else self._base(node, scope)
        return self.exists(base)

    def exists(self, base: Expr) -> Expr:
        if base.many:
            return Expr(f"({self.d.size(base.sql)} > 0)", "boolean")
        return Expr(f"({base.sql} IS NOT NULL)", "boolean")

    @function("empty")
    def fn_empty(self, node: ast.Call, scope: Scope) -> Expr:
        return Expr(f"(NOT {self.fn_exists(node, scope).sql})", "boolean")

    @function("first")
    def fn_first(self, node: ast.Call, scope: Scope) -> Expr:
        return self.first(self._base(node, scope))

    def first(self, base: Expr) -> Expr:
        if not base.many:
            return base
        return Expr(self.d.element(base.sql, "0"), "node", False, base.hint, fhir=base.fhir)

    @function("last")
    def fn_last(self, node: ast.Call, scope: Scope) -> Expr:
        base = self._base(node, scope)
        if not base.many:
            return base
        return Expr(self.d.last(base.sql), "node", False, base.hint, fhir=base.fhir)

    @function("count")
    def fn_count(self, node: ast.Call, scope: Scope) -> Expr:
        base = self._base(node, scope)
        if base.many:
            return Expr(self.d.size(base.sql), "integer")
        return Expr(f"(CASE WHEN {base.sql} IS NULL THEN 0 ELSE 1 END)", "integer")

    @function("not")
    def fn_not(self, node: ast.Call, scope: Scope) -> Expr:
        value = self.boolean(self._base(node, scope), "the input of not()")
        return Expr(f"(NOT {value})", "boolean")

    def _type_argument(self, node: ast.Call) -> str:
        argument = node.args[0]
        if not isinstance(argument, ast.Member) or argument.target is not None:
            raise self.fail(f"{node.name}() needs a type name such as string or Quantity", node)
        name = argument.name
        if name.startswith("FHIR."):
            name = name[5:]
        if name.startswith("System."):
            name = name[7:].lower()
        return name

    @function("ofType", args=(1, 1))
    def of_type(self, node: ast.Call, scope: Scope) -> Expr:
        """`x.ofType(T)`: on a choice element `value`, the JSON element `valueT`; on an element
        that is not a choice, its values when its declared type is T, nothing when it cannot
        be T; elsewhere (a resource, a node of unknown type) a filter on each value's kind."""
        type_name = self._type_argument(node)
        known = type_name in PRIMITIVE_TYPES or type_name in COMPLEX_TYPES
        if not known and type_name not in RESOURCE_TYPES:
            raise self.fail(f"unknown type {type_name!r} in {node.name}()", node)
        hint = PRIMITIVE_TYPES.get(type_name)
        fhir = type_name if known or schema.known_type(type_name) else None
        target = node.target
        if isinstance(target, ast.Member) and not (
            target.target is None and scope.at_root and target.name == self.resource
        ):
            owner = scope.focus if target.target is None else self.expr(target.target, scope)
            index = schema.elements(owner.fhir) if owner.fhir else None
            element = index.get(target.name) if index else None
            choice = target.name + type_name[:1].upper() + type_name[1:]
            if element is not None and not element.choice:
                if not may_be(element.types, type_name):
                    return Expr(self.d.empty_nodes(), "node", True, hint, fhir=fhir)
                values = self.navigate(owner, target.name, target)
                if type_name in RESOURCE_TYPES:
                    return self._of_kind(values, type_name, hint, fhir)
                return replace(values, hint=hint, fhir=fhir)
            if known and index is None:
                # The owner's type is not known here: the choice element's JSON name, and the
                # plain element's values of that kind (valid FHIR never holds both).
                read = self.as_list(self.navigate(owner, choice, target))
                plain = self._of_kind(self.navigate(owner, target.name, target), type_name, hint)
                nodes = self.d.concat([read, plain.sql])
                return Expr(nodes, "node", True, hint, fhir=fhir)
            if known:
                return replace(self.navigate(owner, choice, target), hint=hint, fhir=fhir)
        return self._of_kind(self._base(node, scope), type_name, hint, fhir)

    def _of_kind(
        self, base: Expr, type_name: str, hint: str | None, fhir: str | None = None
    ) -> Expr:
        """The values of `base` whose JSON kind (or resourceType) fits `type_name`."""
        var = self.fresh()
        if type_name in RESOURCE_TYPES:
            resource_type = self.d.node_to(
                self.d.element(
                    self.d.children(var, "resourceType", self.fresh(), self.fresh()), "0"
                ),
                "string",
                "resourceType",
            )
            test = f"coalesce({resource_type} = {self.d.string(type_name)}, FALSE)"
        elif hint in ("string", "date", "dateTime", "time"):
            test = self.d.node_kind_is(var, "string")
        elif hint in ("integer", "decimal", "boolean"):
            test = self.d.node_kind_is(var, hint if hint != "decimal" else "number")
        else:
            test = self.d.node_kind_is(var, "object")
        return Expr(self.d.filter(self.as_list(base), var, test), "node", True, hint, fhir=fhir)

    @function("extension", args=(1, 1))
    def fn_extension(self, node: ast.Call, scope: Scope) -> Expr:
        url = self.expr(node.args[0], scope)
        if url.type != "string":
            raise self.fail("extension() needs a URL string", node)
        base = self._base(node, scope)
        extensions = self.navigate(base, "extension", node)
        var = self.fresh()
        url_of = self.d.node_to(
            self.d.element(self.d.children(var, "url", self.fresh(), self.fresh()), "0"),
            "string",
            "extension url",
        )
        return Expr(
            self.d.filter(extensions.sql, var, f"coalesce({url_of} = {url.sql}, FALSE)"),
            "node",
            True,
            fhir="Extension",
        )

    @function("join", args=(0, 1))
    def fn_join(self, node: ast.Call, scope: Scope) -> Expr:
        separator = self.expr(node.args[0], scope) if node.args else Expr("''", "string")
        if separator.type != "string":
            raise self.fail("join() needs a string separator", node)
        base = self._base(node, scope)
        if base.type != "node":
            return Expr(f"coalesce({self.typed(base, 'string', 'join')}, '')", "string")
        var = self.fresh()
        strings = self.d.transform(self.as_list(base), [var], self.d.node_to(var, "string", "join"))
        return Expr(self.d.join(strings, separator.sql), "string")

    @function("getResourceKey")
    def fn_get_resource_key(self, node: ast.Call, scope: Scope) -> Expr:
        if node.target is not None or not scope.at_root:
            raise self.fail("getResourceKey() applies to the resource itself", node)
        key = self.navigate(scope.focus, "id", node)
        return Expr(self.typed(key, "string", "the resource id"), "string")

    @function("getReferenceKey", args=(0, 1))
    def fn_get_reference_key(self, node: ast.Call, scope: Scope) -> Expr:
        wanted = self._type_argument(node) if node.args else None
        if wanted is not None and wanted not in RESOURCE_TYPES:
            raise self.fail(f"{wanted!r} is not a resource type", node)
        return self.reference_keys(self._base(node, scope), wanted)

    def reference_keys(self, base: Expr, wanted: str | None) -> Expr:
        """The keys the references of `base` name (of type `wanted` only, when given)."""
        var, var2 = self.fresh(), self.fresh()
        key_of = self.reference_key(wanted)
        keys = self.d.transform(self.as_list(base), [var], self.d.to_node(key_of(var), "string"))
        return Expr(self.d.filter(keys, var2, f"{var2} IS NOT NULL"), "node", True, "string")

    def reference_key(self, wanted: str | None) -> Callable[[str], str]:
        """SQL of the key a Reference node names (of type `wanted` only, when given)."""

        def key_of(node_sql: str) -> str:
            # Reference.reference is a single string in FHIR: read it in place.
            reference = self.d.node_to(
                self.d.field(node_sql, "reference"), "string", "Reference.reference"
            )
            pattern = r"([A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(/_history/[^/]+)?$"
            key = self.d.regexp_extract(reference, pattern, 2)
            if wanted is not None:
                kind = self.d.regexp_extract(reference, pattern, 1)
                return f"CASE WHEN {kind} = {self.d.string(wanted)} THEN {key} END"
            urn = self.d.regexp_extract(reference, r"^urn:(uuid|oid):(.+)$", 2)
            return f"CASE WHEN {reference} LIKE 'urn:%' THEN {urn} ELSE {key} END"

        return key_of

    @function("lowBoundary", "highBoundary", args=(0, 1))
    def fn_boundary(self, node: ast.Call, scope: Scope) -> Expr:
        high = node.name == "highBoundary"
        base = self.single(self._base(node, scope), f"the input of {node.name}()")
        kind = base.known
        written = None
        if base.type == "node" and kind in (None, *NUMERIC):
            # The precision of a decimal is that of its written text.
            items = self.written(node.target, scope)
            if items is not None:
                self.uses_written = True
                written = self.d.element(items, "0")
        if kind in NUMERIC:
            return self._decimal_boundary(base, high, written)
        if kind == "date":
            return self._date_boundary(self.typed(base, "date", "the date"), high)
        if kind == "dateTime":
            return self._datetime_boundary(self.typed(base, "dateTime", "the dateTime"), high)
        if kind == "time":
            return self._time_boundary(self.typed(base, "time", "the time"), high)
        if kind is not None:
            raise self.fail(f"{node.name}() needs a decimal, date, dateTime or time", node)
        # A node of unknown type: choose by its JSON shape when the query runs.
        var = self.fresh()
        one = Expr(var, "node")
        text = self.d.node_to(var, "string", "boundary")
        number = self.d.to_node(self._decimal_boundary(one, high, written).sql, "decimal")
        date = self.d.to_node(self._date_boundary(text, high).sql, "date")
        date_time = self.d.to_node(self._datetime_boundary(text, high).sql, "dateTime")
        time = self.d.to_node(self._time_boundary(text, high).sql, "time")
        body = (
            f"CASE WHEN {self.d.node_kind_is(var, 'number')} THEN {number} "
            f"WHEN NOT {self.d.node_kind_is(var, 'string')} THEN NULL "
            f"WHEN {self.d.regexp_extract(text, r'^([0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)$', 1)} "
            f"IS NOT NULL THEN {date} "
            f"WHEN {self.d.regexp_extract(text, r'^([0-9]{4}-[0-9]{2}-[0-9]{2}T.*)$', 1)} "
            f"IS NOT NULL THEN {date_time} "
            f"WHEN {self.d.regexp_extract(text, r'^([0-9]{2}(:[0-9]{2}.*)?)$', 1)} "
            f"IS NOT NULL THEN {time} END"
        )
        return Expr(self.d.let(base.sql, var, body), "node")

    def _decimal_boundary(self, base: Expr, high: bool, written: str | None = None) -> Expr:
        if base.type != "node":
            value = self.typed(base, "decimal", "the number")
            return Expr(f"({value} {'+' if high else '-'} 0.5)", "decimal")
        value = self.d.node_to(
            base.sql, "decimal", "lowBoundary/highBoundary input is not a number"
        )
        scale = self.d.decimal_scale(base.sql)
        if written is not None:
            text = self.fresh()
            scale = self.d.let(
                self.d.node_to(written, "string", "the written number"),
                text,
                f"coalesce({self.d.written_scale(text)}, {scale})",
            )
        var = self.fresh()
        # The written digits as an integer n (2.50 -> 250, scale 2), then (10n +/- 5) / 10^3:
        # both exact in a double up to 15 digits, so that the one rounding is the division's
        # and the boundary is the double nearest to its decimal value (75.43644127968515).
        digits = f"round({value} * power(10, {var}))"
        body = f"(({digits} * 10 {'+' if high else '-'} 5) / power(10, {var} + 1))"
        return Expr(self.d.let(scale, var, body), "decimal")

    def _date_boundary(self, text: str, high: bool) -> Expr:
        if not high:
            return Expr(
                f"CASE length({text}) WHEN 4 THEN {text} || '-01-01' "
                f"WHEN 7 THEN {text} || '-01' ELSE {text} END",
                "date",
            )
        month_end = (
            f"CASE WHEN substr({text}, 6, 2) IN ('04', '06', '09', '11') THEN '30' "
            f"WHEN substr({text}, 6, 2) = '02' THEN "
            f"(CASE WHEN CAST(substr({text}, 1, 4) AS INT) % 4 = 0 AND "
            f"(CAST(substr({text}, 1, 4) AS INT) % 100 <> 0 OR "
            f"CAST(substr({text}, 1, 4) AS INT) % 400 = 0) THEN '29' ELSE '28' END) "
            f"ELSE '31' END"
        )
        return Expr(
            f"CASE length({text}) WHEN 4 THEN {text} || '-12-31' "
            f"WHEN 7 THEN {text} || '-' || {month_end} ELSE {text} END",
            "date",
        )

    def _datetime_boundary(self, text: str, high: bool) -> Expr:
        date_part = f"substr({text}, 1, 10)"
        day = self._date_boundary(f"({text})", high).sql
        zone = "'-12:00'" if high else "'+14:00'"
        fill = "'23:59:59.999'" if high else "'00:00:00.000'"
        sql = (
            f"CASE WHEN length({text}) <= 10 THEN ({day}) || 'T' || {fill} || {zone} "
            f"ELSE {date_part} || 'T' || {self._time_fill(f'substr({text}, 12)', high)} END"
        )
        return Expr(sql, "dateTime")

    def _time_fill(self, text: str, high: bool) -> str:
        # Time with an optional zone; fill missing seconds and milliseconds.
        clock = self.d.regexp_extract(text, r"^([0-9:.]+)", 1)
        zone = f"coalesce({self.d.regexp_extract(text, r'(Z|[+-][0-9]{2}:[0-9]{2})$', 1)}, '')"
        seconds = "'59.999'" if high else "'00.000'"
        millis = "'999'" if high else "'000'"
        filled = (
            f"CASE length({clock}) WHEN 5 THEN {clock} || ':' || {seconds} "
            f"WHEN 8 THEN {clock} || '.' || {millis} ELSE {clock} END"
        )
        return f"({filled}) || {zone}"

    def _time_boundary(self, text: str, high: bool) -> Expr:
        return Expr(self._time_fill(text, high), "time")
