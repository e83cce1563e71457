"""The ViewDefinition model and its structural validation.

`parse_view(dict)` checks every element of a SQL on FHIR v2 ViewDefinition before anything
runs and returns a typed `ViewDefinition` whose FHIRPath expressions are already parsed.
A problem raises `campus.errors.BadRequest` whose `where` is the JSON path of the offending
element (`$.select[0].column[2].path`) and whose message says what is wrong and what to do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from campus.errors import BadRequest
from campus.views.fhirpath import FhirPathSyntaxError, ast, parse
from campus.views.resources import PRIMITIVE_TYPES, RESOURCE_TYPES

MAX_NODES = 2_000  # selects + columns + where clauses + constants
MAX_DEPTH = 24  # nesting of select / unionAll
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")

# Metadata elements of the ViewDefinition resource that do not change its rows.
_VIEW_METADATA = {
    "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
    "extension", "modifierExtension", "url", "identifier", "version", "versionAlgorithmString",
    "versionAlgorithmCoding", "name", "title", "status", "experimental", "date", "publisher",
    "contact", "description", "useContext", "jurisdiction", "purpose", "copyright",
    "copyrightLabel", "fhirVersion", "profile",
}  # fmt: skip
_VIEW_ELEMENTS = _VIEW_METADATA | {"resource", "resourceVersion", "constant", "select", "where"}
_SELECT_ELEMENTS = {
    "id", "extension", "modifierExtension", "column", "select", "forEach", "forEachOrNull",
    "repeat", "unionAll",
}  # fmt: skip
_COLUMN_ELEMENTS = {
    "id", "extension", "modifierExtension", "name", "path", "description", "collection",
    "type", "tag",
}  # fmt: skip
_WHERE_ELEMENTS = {"id", "extension", "modifierExtension", "path", "description"}
_CONSTANT_TYPES: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "valueBase64Binary": ("string", str),
    "valueBoolean": ("boolean", bool),
    "valueCanonical": ("string", str),
    "valueCode": ("string", str),
    "valueDate": ("date", str),
    "valueDateTime": ("dateTime", str),
    "valueDecimal": ("decimal", (int, float, Decimal)),
    "valueId": ("string", str),
    "valueInstant": ("dateTime", str),
    "valueInteger": ("integer", int),
    "valueInteger64": ("integer", (int, str)),
    "valueOid": ("string", str),
    "valuePositiveInt": ("integer", int),
    "valueString": ("string", str),
    "valueTime": ("time", str),
    "valueUnsignedInt": ("integer", int),
    "valueUri": ("string", str),
    "valueUrl": ("string", str),
    "valueUuid": ("string", str),
}


@dataclass(frozen=True)
class Path:
    """A FHIRPath expression of the view: its text, its tree and where it sits in the view."""

    text: str
    tree: ast.Node
    where: str


@dataclass(frozen=True)
class Column:
    name: str
    path: Path
    type: str | None
    collection: bool
    where: str


@dataclass
class Select:
    where: str
    columns: list[Column] = field(default_factory=list)
    selects: list[Select] = field(default_factory=list)
    union_all: list[Select] = field(default_factory=list)
    for_each: Path | None = None
    or_null: bool = False
    repeat: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Constant:
    name: str
    type: str  # FHIRPath type: string, boolean, integer, decimal, date, dateTime, time
    value: Any
    where: str


@dataclass
class ViewDefinition:
    resource: str
    name: str | None
    constants: dict[str, Constant]
    selects: list[Select]
    where: list[Path]
    source: dict[str, Any]

    def column_names(self) -> list[str]:
        """The view's columns in their output order."""
        names: list[str] = []
        for each in self.selects:
            names.extend(select_columns(each))
        return names


def select_columns(select: Select) -> list[str]:
    """A select's columns in output order: its own, its nested selects', then unionAll's."""
    names = [c.name for c in select.columns]
    for nested in select.selects:
        names.extend(select_columns(nested))
    if select.union_all:
        names.extend(select_columns(select.union_all[0]))
    return names


def fail(message: str, where: str) -> BadRequest:
    return BadRequest(message, code="invalid_view", where=where)


class _Reader:
    def __init__(self) -> None:
        self.nodes = 0

    def count(self, where: str) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise fail(
                f"the view has more than {MAX_NODES} selects, columns and clauses; "
                "split it into smaller views",
                where,
            )

    def object(self, value: Any, where: str, allowed: set[str], kind: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise fail(f"{kind} must be a JSON object, not {_json_kind(value)}", where)
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise fail(
                f"unknown element {unknown[0]!r} in {kind} (allowed: {', '.join(sorted(allowed))})",
                f"{where}.{unknown[0]}",
            )
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise fail(f"must be a JSON array, not {_json_kind(value)}", where)
        return value

    def path(self, value: Any, where: str) -> Path:
        if not isinstance(value, str):
            raise fail(f"must be a FHIRPath expression as a string, not {_json_kind(value)}", where)
        try:
            tree = parse(value)
        except FhirPathSyntaxError as error:
            raise fail(
                f"FHIRPath syntax error at character {error.pos + 1} of {value!r}: {error.message}",
                where,
            ) from None
        return Path(value, tree, where)

    def select(self, value: Any, where: str, depth: int) -> Select:
        if depth > MAX_DEPTH:
            raise fail(f"selects are nested more than {MAX_DEPTH} levels deep", where)
        self.count(where)
        raw = self.object(value, where, _SELECT_ELEMENTS, "a select")
        node = Select(where=where)
        iterators = [k for k in ("forEach", "forEachOrNull", "repeat") if k in raw]
        if len(iterators) > 1:
            raise fail(
                f"a select may have only one of forEach, forEachOrNull and repeat "
                f"(found {', '.join(iterators)})",
                where,
            )
        if "forEach" in raw:
            node.for_each = self.path(raw["forEach"], f"{where}.forEach")
        if "forEachOrNull" in raw:
            node.for_each = self.path(raw["forEachOrNull"], f"{where}.forEachOrNull")
            node.or_null = True
        if "repeat" in raw:
            paths = self.array(raw["repeat"], f"{where}.repeat")
            if not paths:
                raise fail("repeat needs at least one path", f"{where}.repeat")
            node.repeat = [self.path(p, f"{where}.repeat[{i}]") for i, p in enumerate(paths)]
        for i, raw_column in enumerate(self.array(raw.get("column", []), f"{where}.column")):
            node.columns.append(self.column(raw_column, f"{where}.column[{i}]"))
        for i, nested in enumerate(self.array(raw.get("select", []), f"{where}.select")):
            node.selects.append(self.select(nested, f"{where}.select[{i}]", depth + 1))
        for i, branch in enumerate(self.array(raw.get("unionAll", []), f"{where}.unionAll")):
            node.union_all.append(self.select(branch, f"{where}.unionAll[{i}]", depth + 1))
        if not (node.columns or node.selects or node.union_all):
            raise fail("a select needs at least one column, select or unionAll", where)
        if node.union_all:
            first = select_columns(node.union_all[0])
            for i, branch in enumerate(node.union_all[1:], start=1):
                names = select_columns(branch)
                if names != first:
                    raise fail(
                        f"every unionAll branch must have the same columns in the same order: "
                        f"branch 0 has {first}, branch {i} has {names}",
                        f"{where}.unionAll[{i}]",
                    )
        return node

    def column(self, value: Any, where: str) -> Column:
        self.count(where)
        raw = self.object(value, where, _COLUMN_ELEMENTS, "a column")
        for required in ("name", "path"):
            if required not in raw:
                raise fail(f"a column needs a {required}", where)
        name = raw["name"]
        if not isinstance(name, str) or not NAME.match(name):
            raise fail(
                f"column name {name!r} must start with a letter and hold only letters, "
                "digits and '_'",
                f"{where}.name",
            )
        column_type = raw.get("type")
        if column_type is not None and column_type not in PRIMITIVE_TYPES:
            raise fail(
                f"unknown column type {column_type!r}: use a FHIR primitive type "
                f"({', '.join(sorted(PRIMITIVE_TYPES))})",
                f"{where}.type",
            )
        collection = raw.get("collection", False)
        if not isinstance(collection, bool):
            raise fail(
                f"collection must be true or false, not {_json_kind(collection)}",
                f"{where}.collection",
            )
        if "tag" in raw:
            self.array(raw["tag"], f"{where}.tag")
        return Column(name, self.path(raw["path"], f"{where}.path"), column_type, collection, where)

    def constant(self, value: Any, where: str) -> Constant:
        self.count(where)
        allowed = {"id", "extension", "modifierExtension", "name", *_CONSTANT_TYPES}
        raw = self.object(value, where, allowed, "a constant")
        name = raw.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise fail(
                f"constant name {name!r} must start with a letter and hold only letters, "
                "digits and '_'",
                f"{where}.name",
            )
        values = [k for k in raw if k.startswith("value")]
        if len(values) != 1:
            raise fail(
                f"constant {name!r} needs exactly one value[x] element "
                f"(valueString, valueInteger, valueBoolean...), found {len(values)}",
                where,
            )
        key = values[0]
        fhirpath_type, python_type = _CONSTANT_TYPES[key]
        constant_value = raw[key]
        if not isinstance(constant_value, python_type) or (
            fhirpath_type != "boolean" and isinstance(constant_value, bool)
        ):
            raise fail(
                f"{key} of constant {name!r} has the wrong JSON type "
                f"({_json_kind(constant_value)})",
                f"{where}.{key}",
            )
        if key == "valueInteger64":
            try:
                constant_value = int(constant_value)
            except ValueError:
                raise fail(f"{key} must hold an integer", f"{where}.{key}") from None
        if fhirpath_type == "decimal" and not _finite(constant_value):
            raise fail(f"{key} must be a finite number of usual size", f"{where}.{key}")
        if fhirpath_type == "integer":
            bits = 63 if key == "valueInteger64" else 31
            if not -(2**bits) <= constant_value < 2**bits:
                raise fail(f"{key} must fit in a {bits + 1}-bit signed integer", f"{where}.{key}")
        return Constant(name, fhirpath_type, constant_value, f"{where}.{key}")


def parse_view(view: Any) -> ViewDefinition:
    """Check a ViewDefinition (a parsed JSON object) and return its typed model."""
    reader = _Reader()
    raw = reader.object(view, "$", _VIEW_ELEMENTS, "a ViewDefinition")
    if raw.get("resourceType", "ViewDefinition") != "ViewDefinition":
        raise fail("resourceType must be 'ViewDefinition'", "$.resourceType")
    resource = raw.get("resource")
    if resource is None:
        raise fail("the view needs a resource (the FHIR resource type it flattens)", "$")
    if not isinstance(resource, str) or resource not in RESOURCE_TYPES:
        raise fail(f"{resource!r} is not a FHIR resource type", "$.resource")
    constants: dict[str, Constant] = {}
    for i, raw_constant in enumerate(reader.array(raw.get("constant", []), "$.constant")):
        constant = reader.constant(raw_constant, f"$.constant[{i}]")
        if constant.name in constants:
            raise fail(f"constant {constant.name!r} is defined twice", f"$.constant[{i}].name")
        constants[constant.name] = constant
    if "select" not in raw:
        raise fail("the view needs a select with at least one column", "$")
    selects = [
        reader.select(s, f"$.select[{i}]", 1)
        for i, s in enumerate(reader.array(raw["select"], "$.select"))
    ]
    if not selects:
        raise fail("the view needs a select with at least one column", "$.select")
    where: list[Path] = []
    for i, clause in enumerate(reader.array(raw.get("where", []), "$.where")):
        reader.count(f"$.where[{i}]")
        clause = reader.object(clause, f"$.where[{i}]", _WHERE_ELEMENTS, "a where clause")
        if "path" not in clause:
            raise fail("a where clause needs a path", f"$.where[{i}]")
        where.append(reader.path(clause["path"], f"$.where[{i}].path"))
    name = raw.get("name")
    definition = ViewDefinition(
        resource, name if isinstance(name, str) else None, constants, selects, where, raw
    )
    _check_unique_columns(definition)
    return definition


def _check_unique_columns(view: ViewDefinition) -> None:
    seen: dict[str, str] = {}

    def walk(select: Select) -> None:
        for column in select.columns:
            key = column.name.lower()
            if key in seen:
                raise fail(
                    f"column name {column.name!r} is used twice (also at {seen[key]}); "
                    "column names must be unique, ignoring case",
                    f"{column.where}.name",
                )
            seen[key] = column.where
        for nested in select.selects:
            walk(nested)
        if select.union_all:
            walk(select.union_all[0])

    for each in view.selects:
        walk(each)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
