"""Errors a user may see. Services raise them; the web layer renders them (JSON under /api,
HTML elsewhere) and the CLI prints them. The status is the HTTP status they map to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from campus.i18n import current_language, gettext


@dataclass(frozen=True)
class Message:
    """A message id with values (`{name}` in the id): English where it is stored or sent
    (`str`), in the reader's language where it is shown (`translated`). A value may be a
    Message itself, translated with it."""

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**{k: _value(v, False) for k, v in self.values.items()})

    def translated(self) -> str:
        if not self.values:
            return gettext(self.template)
        return gettext(self.template).format(**{k: _value(v, True) for k, v in self.values.items()})


def parse(text: str, templates: Iterable[str]) -> Message | None:
    """The Message that `text` was written from, among `templates` (the longest that fits
    it whole), for a text stored in English and shown in the reader's language."""
    for template in sorted(templates, key=len, reverse=True):
        names = re.findall(r"\{(\w+)\}", template)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.*?)", re.escape(template))
        found = re.fullmatch(pattern, text, re.DOTALL) if len(set(names)) == len(names) else None
        if found is not None:
            return Message(template, found.groupdict())
    return None


def _value(value: Any, shown: bool) -> str:
    if isinstance(value, Message):
        return value.translated() if shown else str(value)
    french = shown and current_language.get() == "fr"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",") if french else f"{value:g}"
    if french and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", "\u202f")  # narrow non-breaking spaces in thousands
    return str(value)


class CampusError(Exception):
    """A refusal with an HTTP status, a stable code and a message that says what to do.

    The message is an English message id; with `values` it is a template (`{name}`) whose
    values the API and the CLI get filled in, and a page in the reader's language
    (`translated`)."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        where: Any = None,
        status: int | None = None,
        values: Mapping[str, Any] | None = None,
    ):
        self.text = Message(message, dict(values or {}))
        self.message = str(self.text) if values else message
        super().__init__(self.message)
        self.code = code or self.__class__.__name__
        self.where = where
        if status is not None:
            self.status = status

    def translated(self) -> str:
        """The message in the current language (its id translated, then its values)."""
        return self.text.translated()

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.where is not None:
            body["where"] = self.where
        return {"error": body}


class BadRequest(CampusError):
    status = 400


class NotAuthenticated(CampusError):
    status = 401


class Forbidden(CampusError):
    status = 403


class NotFound(CampusError):
    status = 404


class Conflict(CampusError):
    status = 409


class TooLarge(CampusError):
    status = 413


class TooManyRequests(CampusError):
    status = 429
