"""Validation of the directory's fields, shared by every entry point, and who may read or
edit what."""

from __future__ import annotations

import re
from typing import Any

import nh3

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.policy import get as permission
from campus.auth.roles import ScopeType
from campus.db.base import utcnow
from campus.ecosystem.directory import search
from campus.errors import BadRequest
from campus.i18n import N_
from campus.text import LINE_BREAK

SLUG_RE = re.compile(r"[^a-z0-9]+")
PHONE_RE = re.compile(r"^[0-9+ ().-]{6,40}\Z")
INVITATION_DAYS = 7
INVITATION_SALT = "campus.ecosystem.invitation"
LOGO_MAX_BYTES = 512 * 1024
RICH_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "blockquote"}
RICH_ATTRIBUTES = {"a": {"href", "title"}}
PER_PAGE_MAX = 100
MAX_HEADCOUNT = 1_000_000


# --- helpers ------------------------------------------------------------------------------------


def sanitise_rich_text(html: str) -> str:
    """Keep a few formatting tags; drop scripts, styles, event handlers and unsafe links."""
    return nh3.clean(
        html,
        tags=RICH_TAGS,
        attributes=RICH_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def _text(
    value: Any, where: str, *, max_length: int, required: bool = False, one_line: bool = False
) -> str:
    """Trimmed text; in a `one_line` field (a name, a city: names go into mail subjects) any
    line break becomes a space."""
    text = "" if value is None else str(value)
    if one_line:
        text = re.sub(r" {2,}", " ", LINE_BREAK.sub(" ", text))
    text = text.strip()
    if required and not text:
        raise BadRequest(N_("this field is required"), code="required", where=where)
    if len(text) > max_length:
        raise BadRequest(
            N_("this field is too long"), code="too_long", where=f"{where} (max {max_length})"
        )
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise BadRequest(N_("this field holds control characters"), code="invalid", where=where)
    return text


def _email(value: Any, where: str, *, required: bool = False) -> str:
    text = _text(value, where, max_length=320, required=required)
    if not text:
        return ""
    try:
        return auth.normalise_email(text)
    except auth.AuthError:
        raise BadRequest(
            N_("not a valid email address"), code="invalid_email", where=where
        ) from None


def _url(value: Any, where: str) -> str:
    text = _text(value, where, max_length=300)
    if text and not re.match(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", text):
        raise BadRequest(
            N_("a web address starts with http:// or https://"), code="invalid_url", where=where
        )
    return text


def _whole(value: Any, where: str, low: int, high: int, out_of_range: str) -> int | None:
    """A whole number from `low` to `high`, or None when empty; `out_of_range` says the bounds."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(N_("not a whole number"), code="invalid_number", where=where) from None
    if not low <= number <= high:
        raise BadRequest(out_of_range, code="out_of_range", where=where)
    return number


def _year(value: Any, where: str) -> int | None:
    return _whole(value, where, 1800, utcnow().year, N_("the year must be from 1800 to this year"))


def _count(value: Any, where: str) -> int | None:
    return _whole(value, where, 0, MAX_HEADCOUNT, N_("the number must be from 0 to 1,000,000"))


def slugify(name: str) -> str:
    return SLUG_RE.sub("-", search.fold(name)).strip("-")[:70] or "organisation"


def can_read_members_only(actor: Actor) -> bool:
    """Member-only fields are for those who may read the member directory."""
    return permission("directory.read").allows(actor)


def may_edit(actor: Actor, organisation_id: str) -> bool:
    return permission("organisation.edit").allows(actor, ScopeType.ORGANISATION, organisation_id)
