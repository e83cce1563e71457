"""A FHIRPath parser: text -> syntax tree (`campus.views.fhirpath.ast`).

It reads the whole FHIRPath grammar that SQL on FHIR views use: paths, indexers, function
calls, literals, `%constants`, `$this`, and the operators by precedence (`implies`, `or`/`xor`,
`and`, `in`/`contains`, equality, comparison, `|`, `is`/`as`, `+ - &`, `* / div mod`, unary
sign). Whether a function is supported is the compiler's business, not the parser's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from campus.views.fhirpath import ast

MAX_LENGTH = 10_000
MAX_DEPTH = 64


class FhirPathSyntaxError(ValueError):
    """A FHIRPath expression that cannot be parsed; `pos` is the offset of the problem."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, date, op, var, eof
    text: str
    pos: int
    value: object = None


_CLOCK = r"\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE = rf"@\d{{4}}(?:-\d{{2}}(?:-\d{{2}})?)?(?:T(?:{_CLOCK})?(?:Z|[+-]\d{{2}}:\d{{2}})?)?"
_TIME = r"@T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<time>{_TIME})
  | (?P<date>{_DATE})
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<backtick>`(?:[^`\\]|\\.)*`)
  | (?P<var>[%$](?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|!~|[-+*/&|<>=~.,()\[\]{{}}])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "f": "\f",
    "'": "'",
    '"': '"',
    "`": "`",
    "\\": "\\",
    "/": "/",
}


def _unescape(body: str, pos: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise FhirPathSyntaxError(f"unknown escape \\{nxt} in a string", pos + i)
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FhirPathSyntaxError(f"unexpected character {text[pos]!r}", pos)
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "ws":
            pass
        elif kind == "string":
            tokens.append(Token("string", raw, pos, _unescape(raw[1:-1], pos + 1)))
        elif kind == "backtick":
            tokens.append(Token("ident", raw, pos, _unescape(raw[1:-1], pos + 1)))
        elif kind == "var":
            name = raw[1:]
            if name[:1] in "`'":
                name = _unescape(name[1:-1], pos + 2)
            tokens.append(Token("var", raw, pos, name))
        elif kind == "ident":
            tokens.append(Token("ident", raw, pos, raw))
        else:
            tokens.append(Token(kind, raw, pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


# Binary operators by precedence, loosest first.
_LEVELS: list[tuple[str, ...]] = [
    ("implies",),
    ("or", "xor"),
    ("and",),
    ("in", "contains"),
    ("=", "~", "!=", "!~"),
    ("<=", "<", ">", ">="),
    ("|",),
    ("is", "as"),
    ("+", "-", "&"),
    ("*", "/", "div", "mod"),
]
_WORD_OPERATORS = {"implies", "or", "xor", "and", "in", "contains", "is", "as", "div", "mod"}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _is_op(self, token: Token, ops: tuple[str, ...]) -> bool:
        if token.kind == "op":
            return token.text in ops
        return token.kind == "ident" and token.text in _WORD_OPERATORS and token.text in ops

    def expect(self, text: str) -> Token:
        token = self.tok
        if token.kind != "op" or token.text != text:
            found = "the end of the expression" if token.kind == "eof" else repr(token.text)
            raise FhirPathSyntaxError(f"expected {text!r} but found {found}", token.pos)
        self.i += 1
        return token

    def parse(self) -> ast.Node:
        if not self.text.strip():
            raise FhirPathSyntaxError("the expression is empty", 0)
        node = self.expression(0)
        if self.tok.kind != "eof":
            raise FhirPathSyntaxError(f"unexpected {self.tok.text!r}", self.tok.pos)
        return node

    def expression(self, level: int) -> ast.Node:
        if level == len(_LEVELS):
            return self.unary()
        self.depth += 1
        if self.depth > MAX_DEPTH * len(_LEVELS):
            raise FhirPathSyntaxError("the expression is nested too deeply", self.tok.pos)
        ops = _LEVELS[level]
        left = self.expression(level + 1)
        while self._is_op(self.tok, ops):
            op_token = self.tok
            self.i += 1
            if op_token.text in ("is", "as"):
                left = ast.TypeTest(op_token.pos, op_token.text, left, self.type_specifier())
            else:
                right = self.expression(level + 1)
                left = ast.Binary(op_token.pos, op_token.text, left, right)
        self.depth -= 1
        return left

    def type_specifier(self) -> str:
        token = self.tok
        if token.kind != "ident":
            raise FhirPathSyntaxError("expected a type name", token.pos)
        self.i += 1
        name = str(token.value)
        while (
            self.tok.kind == "op"
            and self.tok.text == "."
            and self.tokens[self.i + 1].kind == "ident"
        ):
            self.i += 1
            name += "." + str(self.tok.value)
            self.i += 1
        return name

    def unary(self) -> ast.Node:
        token = self.tok
        if token.kind == "op" and token.text in ("+", "-"):
            self.i += 1
            return ast.Unary(token.pos, token.text, self.unary())
        return self.postfix()

    def postfix(self) -> ast.Node:
        node = self.term()
        while True:
            token = self.tok
            if token.kind == "op" and token.text == ".":
                self.i += 1
                node = self.invocation(node)
            elif token.kind == "op" and token.text == "[":
                self.i += 1
                index = self.expression(0)
                self.expect("]")
                node = ast.Index(token.pos, node, index)
            else:
                return node

    def invocation(self, target: ast.Node | None) -> ast.Node:
        token = self.tok
        if token.kind != "ident":
            found = "the end of the expression" if token.kind == "eof" else repr(token.text)
            raise FhirPathSyntaxError(f"expected a name after '.' but found {found}", token.pos)
        self.i += 1
        name = str(token.value)
        if self.tok.kind == "op" and self.tok.text == "(" and token.text[0] != "`":
            self.i += 1
            args: list[ast.Node] = []
            if not (self.tok.kind == "op" and self.tok.text == ")"):
                args.append(self.expression(0))
                while self.tok.kind == "op" and self.tok.text == ",":
                    self.i += 1
                    args.append(self.expression(0))
            self.expect(")")
            return ast.Call(token.pos, target, name, tuple(args))
        return ast.Member(token.pos, target, name)

    def term(self) -> ast.Node:
        token = self.tok
        if token.kind == "string":
            self.i += 1
            return ast.Literal(token.pos, token.value, "string", token.text)
        if token.kind == "number":
            self.i += 1
            if "." in token.text:
                return ast.Literal(token.pos, Decimal(token.text), "decimal", token.text)
            if self.tok.kind == "string" or (
                self.tok.kind == "ident" and self.tok.text in _CALENDAR_UNITS
            ):
                raise FhirPathSyntaxError(
                    "quantity literals are not supported in views", self.tok.pos
                )
            return ast.Literal(token.pos, int(token.text), "integer", token.text)
        if token.kind == "date":
            self.i += 1
            text = token.text[1:]
            kind = "dateTime" if "T" in text else "date"
            return ast.Literal(token.pos, text.rstrip("T"), kind, token.text)
        if token.kind == "time":
            self.i += 1
            return ast.Literal(token.pos, token.text[2:], "time", token.text)
        if token.kind == "var":
            self.i += 1
            return ast.Variable(token.pos, str(token.value), token.text[0] == "%")
        if token.kind == "op" and token.text == "(":
            self.i += 1
            node = self.expression(0)
            self.expect(")")
            return node
        if token.kind == "op" and token.text == "{":
            self.i += 1
            self.expect("}")
            return ast.Literal(token.pos, None, "empty", "{}")
        if token.kind == "ident":
            if token.text in ("true", "false"):
                self.i += 1
                return ast.Literal(token.pos, token.text == "true", "boolean", token.text)
            return self.invocation(None)
        found = "the end of the expression" if token.kind == "eof" else repr(token.text)
        raise FhirPathSyntaxError(f"expected a value or a path but found {found}", token.pos)


_CALENDAR_UNITS = {
    "year", "years", "month", "months", "week", "weeks", "day", "days",
    "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds",
}  # fmt: skip


def parse(text: str) -> ast.Node:
    """Parse a FHIRPath expression; raises FhirPathSyntaxError with the offset of the problem."""
    if not isinstance(text, str):
        raise FhirPathSyntaxError(
            f"a FHIRPath expression must be a string, not {type(text).__name__}", 0
        )
    if len(text) > MAX_LENGTH:
        raise FhirPathSyntaxError(f"the expression is longer than {MAX_LENGTH} characters", 0)
    return _Parser(text).parse()
