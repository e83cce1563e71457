"""The FHIRPath syntax tree: small immutable nodes, each with its offset in the source text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Literal(Node):
    """A literal: `type` is string, integer, decimal, boolean, date, dateTime, time or empty."""

    value: object
    type: str
    text: str = ""


@dataclass(frozen=True)
class Variable(Node):
    """`%name` (a view constant, or `%rowIndex`) or `$this`, `$index`, `$total`."""

    name: str
    env: bool  # True for %name, False for $name


@dataclass(frozen=True)
class Member(Node):
    """`target.name`, or `name` on the current focus when target is None."""

    target: Node | None
    name: str


@dataclass(frozen=True)
class Call(Node):
    """`target.name(args)`, or `name(args)` on the current focus when target is None."""

    target: Node | None
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index(Node):
    target: Node
    index: Node


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class TypeTest(Node):
    """`operand is Type` or `operand as Type`."""

    op: str
    operand: Node
    type_name: str
