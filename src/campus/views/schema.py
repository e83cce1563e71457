"""FHIR element definitions for checking view paths: type -> element -> (types, is list).

The definitions come from the `fhir.resources` R4B models (FHIR 4.3, which keeps the R4
elements of the resources Campus reads). Each type is indexed lazily, the first time a path
navigates into it, and kept for the life of the process.

Type names are the model names: resources (`Patient`), datatypes (`HumanName`), backbone
elements named after their owner (`PatientContact` for `Patient.contact`) and FHIR primitives
in lower camel case (`string`, `dateTime`). A choice element is indexed under its FHIRPath
name (`value`, every allowed type) and under each JSON name (`valueQuantity`, one type).
`Resource` (the type of `contained`, `Bundle.entry.resource`...) is abstract: navigation from
it is not indexed, because the concrete resource is only known from `ofType()`.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_VERSION = "R4 (fhir.resources R4B models)"

# Primitive constraint classes of the models that are not named after the FHIR type.
_PRIMITIVE_CLASSES = {"EncodedBytes": "base64Binary", "UuidVersion": "uuid", "bool": "boolean"}
PRIMITIVES = frozenset(
    {
        "base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id",
        "instant", "integer", "integer64", "markdown", "oid", "positiveInt", "string", "time",
        "unsignedInt", "uri", "url", "uuid", "xhtml",
    }
)  # fmt: skip
# What FHIRPath lets a primitive be navigated into: its id and its extensions.
_PRIMITIVE_ELEMENTS: dict[str, Element]
ABSTRACT = frozenset({"Resource", "DomainResource"})
# Resources R4B rewrote: their R4 elements differ from the models', so they are not judged.
REWORKED_IN_R4B = frozenset({"Evidence", "EvidenceVariable"})


@dataclass(frozen=True)
class Element:
    """An element of a type: the types it may hold, whether it repeats, whether a choice."""

    types: tuple[str, ...]
    is_list: bool
    choice: bool = False


_PRIMITIVE_ELEMENTS = {
    "id": Element(("string",), False),
    "extension": Element(("Extension",), True),
}


def _leaf_types(annotation: Any) -> tuple[list[str], bool]:
    """The FHIR type names of a model field annotation, and whether it is a list."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        constraint = typing.get_args(annotation)[1]
        return [_primitive_name(type(constraint).__name__)], False
    if origin in (typing.Union, types.UnionType):
        names: list[str] = []
        is_list = False
        for arg in typing.get_args(annotation):
            if arg is type(None):
                continue
            found, many = _leaf_types(arg)
            names.extend(found)
            is_list = is_list or many
        return names, is_list
    if origin is list:
        names, _ = _leaf_types(typing.get_args(annotation)[0])
        return names, True
    name = getattr(annotation, "__name__", "")
    if name in _PRIMITIVE_CLASSES:
        return [_PRIMITIVE_CLASSES[name]], False
    if name.endswith("Type"):
        return [name[: -len("Type")]], False
    return [], False


def _primitive_name(constraint: str) -> str:
    if constraint in _PRIMITIVE_CLASSES:
        return _PRIMITIVE_CLASSES[constraint]
    return constraint[:1].lower() + constraint[1:]


def _model(type_name: str) -> Any | None:
    if not type_name[:1].isupper() or type_name in ABSTRACT or type_name in REWORKED_IN_R4B:
        return None
    try:
        return get_fhir_model_class(type_name)
    except (ValueError, ImportError, AttributeError):
        return None


@cache
def elements(type_name: str) -> dict[str, Element] | None:
    """The elements of a FHIR type, or None when the type is unknown or abstract."""
    if type_name in PRIMITIVES:
        return _PRIMITIVE_ELEMENTS
    model = _model(type_name)
    if model is None:
        return None
    index: dict[str, Element] = {}
    choices: dict[str, tuple[list[str], bool]] = {}
    for field_name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or not extra.get("element_property"):
            continue
        name = info.alias or field_name
        names, is_list = _leaf_types(info.annotation)
        if not names:
            continue
        index[name] = Element(tuple(names), is_list)
        choice = extra.get("one_of_many")
        if isinstance(choice, str):
            held, many = choices.setdefault(choice, ([], False))
            held.extend(n for n in names if n not in held)
            choices[choice] = (held, many or is_list)
    for name, (held, many) in choices.items():
        index.setdefault(name, Element(tuple(held), many, choice=True))
    return index


def is_resource(type_name: str) -> bool:
    """Whether the models define this resource type (R5-only names are not)."""
    model = _model(type_name)
    return model is not None and "implicitRules" in model.model_fields


def known_type(type_name: str) -> bool:
    return elements(type_name) is not None
