"""French by default, English by switch or Accept-Language, from gettext catalogues.

Message ids are English. `locales/fr/*.po` hold the French translations, one catalogue per
capability; English needs none. The current language lives in a context variable set for
each request, so templates and services share it.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALES = Path(__file__).parent / "locales"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@lru_cache
def catalogue(language: str) -> dict[str, str]:
    """All msgid -> msgstr pairs of one language, merged from its .po files."""
    messages: dict[str, str] = {}
    folder = LOCALES / language
    if not folder.is_dir():
        return messages
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and isinstance(message.id, str):
                    text = str(message.string)
                    messages[message.id] = typography(text) if language == "fr" else text
    return messages


_BEFORE_PUNCTUATION = re.compile(r" ([:;!?])(?=\s|$|[\"'»)])")


def typography(text: str) -> str:
    """French spacing: the space before `:` becomes non-breaking, the one before `;`, `!`
    and `?` a narrow non-breaking space, so no line ever starts with them."""
    return _BEFORE_PUNCTUATION.sub(
        lambda m: ("\u00a0" if m.group(1) == ":" else "\u202f") + m.group(1), text
    )


def gettext(message: str) -> str:
    language = current_language.get()
    if language == "en":
        return message
    return catalogue(language).get(message, message)


@lru_cache
def plurals(language: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """(msgid, msgid_plural) -> its forms, from the entries of one language with a plural."""
    forms: dict[tuple[str, str], tuple[str, ...]] = {}
    for po in sorted((LOCALES / language).glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale=language):
                # Forms: singular, then plural (a third, CLDR's French "many", is unused).
                written = tuple(s for s in message.string if s) if message.string else ()
                if isinstance(message.id, tuple) and len(written) >= 2:
                    forms[message.id[0], message.id[1]] = tuple(
                        typography(s) if language == "fr" else s for s in written
                    )
    return forms


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n`: French takes the singular for 0 and 1 ("0 commentaire neutre"),
    from an entry with `msgid_plural`; otherwise each form is its own message."""
    language = current_language.get()
    if language == "en":
        return singular if n == 1 else plural
    forms = plurals(language).get((singular, plural))
    if forms:
        return forms[0 if n <= 1 else 1]
    return gettext(singular if n == 1 else plural)


_ = gettext


def pick(fr: str, en: str) -> str:
    """Choose between two stored translations of user content (e.g. a public summary)."""
    return en if current_language.get() == "en" and en else fr


def negotiate(accept_language: str | None) -> str | None:
    """The best supported language from an Accept-Language header, or None."""
    if not accept_language:
        return None
    ranked = []
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip().split(";")
        tag = piece[0].strip().lower()[:2]
        quality = 1.0
        for parameter in piece[1:]:
            if parameter.strip().startswith("q="):
                try:
                    quality = float(parameter.strip()[2:])
                except ValueError:
                    quality = 0.0
        if tag in LANGUAGES and quality > 0:
            ranked.append((-quality, index, tag))
    return min(ranked)[2] if ranked else None


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; translate it where it is shown."""
    return message
