"""Accent-insensitive full-text search shared by SQLite and PostgreSQL.

Every searchable row keeps `search_text`: its name and texts in both languages, folded
(accents removed, lowercased, punctuation turned into spaces). A query is folded the same
way and split into tokens; a row matches when its search text contains every token. French
and English plurals are folded too, so "hôpitaux" finds "hôpital" and "startups" "startup";
a token folded to "-ie" is also looked for as "-y", so "companies" finds "company" (English)
while "thérapies" still finds "thérapie" (French).
Behaviour is identical on both databases because both run the same LIKE.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, and_, case, or_
from sqlalchemy.orm import InstrumentedAttribute

_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_TOKENS = 8
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "Œ": "oe", "Æ": "ae"})


def fold(text: str) -> str:
    """Lowercase, without accents, words separated by single spaces."""
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.lower()).strip()


def stem(token: str) -> str:
    """A light plural folding that works for French and English alike."""
    if len(token) > 4 and token.endswith("aux"):
        return token[:-2]  # hopitaux -> hopita (matches hopital)
    if len(token) > 3 and token[-1] in "sx":
        return token[:-1]
    return token


def spellings(token: str) -> tuple[str, ...]:
    """The forms a (stemmed) token is looked for under. Dropping the "s" of an "-ies" plural
    gives the French singular ("therapies" -> "therapie") but not the English one
    ("companies" -> "companie", not in "company"): an "-ie" token is also looked for as "-y"."""
    if len(token) > 3 and token.endswith("ie"):
        return (token, token[:-2] + "y")
    return (token,)


def _contains(column: InstrumentedAttribute, token: str, pattern: str) -> ColumnElement[bool]:
    """`column LIKE pattern` for one spelling of the token, or for any of them."""
    return or_(*(column.like(pattern.format(form)) for form in spellings(token)))


def tokens(query: str) -> list[str]:
    """The distinct search tokens of a query, stemmed, at most MAX_TOKENS."""
    seen: list[str] = []
    for word in fold(query).split():
        word = stem(word)
        if word and word not in seen:
            seen.append(word)
    return seen[:MAX_TOKENS]


def document(*parts: str | list[str] | None) -> str:
    """The search text of a row from its parts (strings or lists of strings)."""
    words: list[str] = []
    for part in parts:
        if not part:
            continue
        words.extend(part if isinstance(part, list) else [part])
    return " " + fold(" ".join(words)) + " "


def matches(column: InstrumentedAttribute, query: str) -> ColumnElement[bool] | None:
    """A WHERE clause requiring every token of the query, or None for an empty query."""
    words = tokens(query)
    if not words:
        return None
    # Tokens hold only [a-z0-9]: no LIKE wildcard can be smuggled in.
    return and_(*(_contains(column, word, "%{}%") for word in words))


def rank(column: InstrumentedAttribute, query: str) -> ColumnElement[int]:
    """0 when the text starts with the query's first token (a name match), else 1."""
    words = tokens(query)
    if not words:
        return case((column.is_(None), 1), else_=0)
    return case(
        (_contains(column, words[0], " {}%"), 0),
        (_contains(column, words[0], "% {}%"), 1),
        else_=2,
    )


def _found_in(text: str, token: str) -> bool:
    return any(form in text for form in spellings(token))


def relevance(words: list[str], name: str, tags: list[str]) -> int:
    """How well a matching row answers the query's tokens, lower first: per token 0 when the
    name holds it, 1 when a tag (theme, expertise, competence) does, 2 when only the rest of
    the text does (description, city, summaries)."""
    name_text, tag_text = fold(name), fold(" ".join(tags))
    score = 0
    for word in words:
        if not _found_in(name_text, word):
            score += 1 if _found_in(tag_text, word) else 2
    return score


def matched(words: list[str], labels: dict[str, list[str]]) -> list[str]:
    """The codes whose labels (in either language) hold one of the query's tokens."""
    return [
        code
        for code, texts in labels.items()
        if any(_found_in(fold(" ".join(texts)), word) for word in words)
    ]
