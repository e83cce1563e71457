"""Cleaning of what people type: plain-text titles and reasons, rich-text bodies sanitised
with nh3 to a small safe subset. Every refusal names the field and says what to change."""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

from campus.errors import BadRequest, TooLarge
from campus.i18n import N_
from campus.i18n import gettext as _

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
RAW_FACTOR = 3  # raw input may be this many times the limit (markup) before it is refused
_TAG = re.compile(r"<[^>]*>")
_LOOKS_LIKE_MARKUP = re.compile(r"<[A-Za-z/!]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL = {"Cc", "Cf"}
# How a refusal names the field it is about, in the reader's language (`where` keeps the
# field's own name, for forms and API clients).
FIELD_LABELS = {
    "title": N_("the title"),
    "body": N_("the text"),
    "summary": N_("the summary"),
    "subject_title": N_("the title of the project or programme"),
    "reason": N_("the reason"),
    "answer": N_("the answer"),
}


def _label(field: str) -> str:
    return _(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def _strip_controls(value: str, keep_newlines: bool) -> str:
    return "".join(
        ch
        for ch in value
        if (keep_newlines and ch in "\n\t") or unicodedata.category(ch) not in _CONTROL
    )


def plain(value: str | None, *, field: str, minimum: int, maximum: int) -> str:
    """A one-line plain text (titles): controls removed, spaces collapsed, length checked."""
    text = _SPACES.sub(" ", _strip_controls(value or "", keep_newlines=False)).strip()
    if len(text) > maximum * RAW_FACTOR:
        raise TooLarge(
            _("{field} is far too long: {maximum} characters at most").format(
                field=_label(field), maximum=maximum
            ),
            code="too_long",
            where=field,
        )
    if not minimum <= len(text) <= maximum:
        raise BadRequest(
            _("{field} must have {minimum} to {maximum} characters (it has {length})").format(
                field=_label(field), minimum=minimum, maximum=maximum, length=len(text)
            ),
            code="invalid_length",
            where=field,
        )
    return text


def multiline(value: str | None, *, field: str, minimum: int, maximum: int) -> str:
    """Plain text that keeps its line breaks (moderation reasons, report reasons)."""
    text = _strip_controls(value or "", keep_newlines=True).replace("\r\n", "\n").strip()
    if len(text) > maximum * RAW_FACTOR:
        raise TooLarge(
            _("{field} is far too long: {maximum} characters at most").format(
                field=_label(field), maximum=maximum
            ),
            code="too_long",
            where=field,
        )
    if not minimum <= len(text) <= maximum:
        raise BadRequest(
            _("{field} must have {minimum} to {maximum} characters (it has {length})").format(
                field=_label(field), minimum=minimum, maximum=maximum, length=len(text)
            ),
            code="invalid_length",
            where=field,
        )
    return text


def _paragraphs(text: str) -> str:
    """Plain text typed in a textarea becomes paragraphs and line breaks."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    return "".join("<p>" + html.escape(b).replace("\n", "<br>") + "</p>" for b in blocks)


def rich(value: str | None, *, field: str, minimum: int, maximum: int) -> str:
    """Rich text reduced to p, br, strong, em, lists and nofollow links; visible length checked."""
    raw = _strip_controls(value or "", keep_newlines=True)
    if len(raw) > maximum * RAW_FACTOR:
        raise TooLarge(
            _("{field} is far too long: {maximum} characters at most").format(
                field=_label(field), maximum=maximum
            ),
            code="too_long",
            where=field,
        )
    source = raw if _LOOKS_LIKE_MARKUP.search(raw) else _paragraphs(raw)
    cleaned = nh3.clean(
        source,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    ).strip()
    length = len(visible_text(cleaned))
    if not minimum <= length <= maximum:
        raise BadRequest(
            _(
                "{field} must have {minimum} to {maximum} characters of text (it has {length})"
            ).format(field=_label(field), minimum=minimum, maximum=maximum, length=length),
            code="invalid_length",
            where=field,
        )
    return cleaned


def visible_text(fragment: str) -> str:
    """The text a reader sees in a sanitised fragment (for lengths, excerpts and CSV)."""
    text = _TAG.sub(" ", fragment.replace("<br>", "\n"))
    return _SPACES.sub(" ", html.unescape(text)).strip()


def excerpt(fragment: str, length: int = 160) -> str:
    text = visible_text(fragment)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
