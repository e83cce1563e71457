"""Check every FHIRPath navigation of a view against the FHIR element definitions.

`check_navigation(view)` follows the types of each path from the view's resource (through
`forEach`, `forEachOrNull`, `repeat`, nested selects, `unionAll` branches, `where` clauses and
function arguments) and raises `BadRequest` at the JSON path of the view element when a path
names an element its type does not define, suggesting the closest name.

It is conservative: where the type of a value cannot be told (a constant, a function result
such as `count()`, an abstract `Resource` before `ofType()`, a resource type the models do not
define), the rest of that branch is not checked, so a valid view is never refused.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from campus.errors import BadRequest
from campus.views import schema
from campus.views.definition import Path, Select, ViewDefinition, fail
from campus.views.fhirpath import ast

# The types a value may have, or None when they cannot be told.
Focus = frozenset[str] | None

_REPEAT_ROUNDS = 8  # as deep as the compiler unrolls repeat


class UnknownElement(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ElementWarning:
    """A path into an element FHIR R4 does not define: it will always be empty."""

    where: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": "unknown_element", "where": self.where, "message": self.message}


def check_navigation(view: ViewDefinition, *, strict: bool = True) -> list[ElementWarning]:
    """The paths into elements FHIR R4 does not define, in view order.

    Strict, the first one raises BadRequest; otherwise each is returned as a warning and the
    rest of its branch is not judged.
    """
    if not schema.is_resource(view.resource):
        return []
    root = frozenset({view.resource})
    checker = _Checker(view.resource, strict)
    for path in view.where:
        checker.path(path, root, at_root=True)
    for select in view.selects:
        checker.select(select, root, at_root=True)
    return checker.warnings


class _Checker:
    def __init__(self, resource: str, strict: bool) -> None:
        self.resource = resource
        self.strict = strict
        self.warnings: list[ElementWarning] = []

    def report(self, error: BadRequest) -> None:
        if self.strict:
            raise error
        self.warnings.append(ElementWarning(error.where or "$", error.message))

    def judge(self, path: Path, focus: Focus, at_root: bool) -> Focus:
        """The types a path reaches; BadRequest at its first unknown element."""
        try:
            return self.types(path.tree, focus, at_root)
        except UnknownElement as error:
            raise fail(f"{error.message} (in {path.text!r})", path.where) from None

    def path(self, path: Path, focus: Focus, *, at_root: bool) -> Focus:
        try:
            return self.judge(path, focus, at_root)
        except BadRequest as error:
            self.report(error)
            return None  # types unknown from here: the rest of the branch is not judged

    def select(self, select: Select, focus: Focus, *, at_root: bool) -> None:
        if select.for_each is not None:
            focus = self.path(select.for_each, focus, at_root=at_root)
            at_root = False
        elif select.repeat:
            focus = self.repeat(select.repeat, focus, at_root=at_root)
            at_root = False
        for column in select.columns:
            self.path(column.path, focus, at_root=at_root)
        for nested in select.selects:
            self.select(nested, focus, at_root=at_root)
        for branch in select.union_all:
            self.select(branch, focus, at_root=at_root)

    def repeat(self, paths: list[Path], focus: Focus, *, at_root: bool) -> Focus:
        """The types reached by repeating the paths; each must apply at some level."""
        if focus is None:
            return None
        reached: set[str] = set()
        frontier: Focus = focus
        applies = [False] * len(paths)
        errors: list[BadRequest | None] = [None] * len(paths)
        for round_ in range(_REPEAT_ROUNDS):
            found: set[str] = set()
            for i, path in enumerate(paths):
                try:
                    result = self.judge(path, frontier, at_root and round_ == 0)
                except BadRequest as error:
                    errors[i] = error  # the deepest level tells the most
                    continue
                applies[i] = True
                if result is None:
                    return None
                found |= result
            new = found - reached
            if not new:
                break
            reached |= found
            frontier = frozenset(new)
        for i, ok in enumerate(applies):
            error = errors[i]
            if not ok and error is not None:
                self.report(error)
        return frozenset(reached) or None

    # --- one function per node type --------------------------------------------------------
    def types(self, node: ast.Node, focus: Focus, at_root: bool) -> Focus:
        if isinstance(node, ast.Member):
            return self.member(node, focus, at_root)
        if isinstance(node, ast.Call):
            return self.call(node, focus, at_root)
        if isinstance(node, ast.Index):
            self.types(node.index, focus, at_root)
            return self.types(node.target, focus, at_root)
        if isinstance(node, ast.Unary):
            self.types(node.operand, focus, at_root)
            return None
        if isinstance(node, ast.Binary):
            self.types(node.left, focus, at_root)
            self.types(node.right, focus, at_root)
            return None
        if isinstance(node, ast.TypeTest):
            base = self.types(node.operand, focus, at_root)
            if node.op == "as":
                return self.of_type(node.operand, base, node.type_name, focus, at_root)
            return None
        if isinstance(node, ast.Variable) and not node.env and node.name == "this":
            return focus
        return None  # literals, constants, %rowIndex: no elements to check

    def member(self, node: ast.Member, focus: Focus, at_root: bool) -> Focus:
        if node.target is None:
            if at_root and node.name == self.resource:
                return focus
            base = focus
        else:
            base = self.types(node.target, focus, at_root)
        return self.navigate(base, node.name)

    def navigate(self, base: Focus, name: str) -> Focus:
        if base is None:
            return None
        found: list[str] = []
        candidates: set[str] = set()
        for type_name in base:
            index = schema.elements(type_name)
            if index is None:
                return None  # one of the possible types is not known: do not judge
            element = index.get(name)
            if element is not None:
                found.extend(element.types)
            candidates.update(index)
        if not found:
            raise UnknownElement(_no_element(base, name, candidates))
        return frozenset(found)

    def call(self, node: ast.Call, focus: Focus, at_root: bool) -> Focus:
        name = node.name
        if name in ("ofType", "getReferenceKey"):
            base = focus if node.target is None else self.types(node.target, focus, at_root)
            if name == "getReferenceKey" or not node.args:
                return None
            type_name = _type_argument(node.args[0])
            if type_name is None or node.target is None:
                return _type_focus(type_name)
            return self.of_type(node.target, base, type_name, focus, at_root)
        base = focus if node.target is None else self.types(node.target, focus, at_root)
        if name in ("where", "exists"):
            for argument in node.args:
                self.types(argument, base, False)
            return base if name == "where" else None
        for argument in node.args:
            self.types(argument, focus, at_root)
        if name in ("first", "last"):
            return base
        if name == "extension":
            self.navigate(base, "extension")
            return frozenset({"Extension"}) if base is not None else None
        return None  # results whose elements are not FHIR elements (count(), join()...)

    def of_type(
        self, target: ast.Node, base: Focus, type_name: str, focus: Focus, at_root: bool
    ) -> Focus:
        """`target.ofType(T)`; on a choice element `value`, the compiler reads `valueT`."""
        wanted = _type_focus(type_name)
        if not isinstance(target, ast.Member) or base is None or type_name in schema.ABSTRACT:
            return wanted
        if schema.is_resource(type_name):
            return wanted
        owner = focus if target.target is None else self.types(target.target, focus, at_root)
        if owner is None:
            return wanted
        if target.target is None and at_root and target.name == self.resource:
            return wanted
        choice = target.name + type_name[:1].upper() + type_name[1:]
        for owner_type in owner:
            index = schema.elements(owner_type)
            if index is None:
                return wanted
            element = index.get(target.name)
            if index.get(choice) is not None or (
                element is not None and not element.choice and type_name in element.types
            ):
                return wanted
        allowed = sorted({t for t in base})
        raise UnknownElement(
            f"{target.name} cannot be a {type_name} (it is {_or(allowed)})"
            if allowed
            else f"{_label(owner)} has no element {choice!r}"
        )


def _type_argument(node: ast.Node) -> str | None:
    if not isinstance(node, ast.Member) or node.target is not None:
        return None
    name = node.name
    if name.startswith("FHIR."):
        name = name[5:]
    elif name.startswith("System."):
        name = name[7:].lower()
    return name


def _type_focus(type_name: str | None) -> Focus:
    if type_name is None or not schema.known_type(type_name):
        return None
    return frozenset({type_name})


def _label(types: frozenset[str]) -> str:
    if len(types) == 1 and next(iter(types)) in schema.PRIMITIVES:
        return f"a {next(iter(types))}"  # as the compiler says it: "a date has no element"
    return _or(sorted(types))


def _or(names: list[str]) -> str:
    if len(names) > 4:
        return ", ".join(names[:4]) + f" or one of {len(names) - 4} other types"
    if len(names) > 1:
        return ", ".join(names[:-1]) + " or " + names[-1]
    return names[0]


def _no_element(base: frozenset[str], name: str, candidates: set[str]) -> str:
    message = f"{_label(base)} has no element {name!r}"
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message
