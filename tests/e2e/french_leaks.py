"""Find English interface text in a page rendered in French.

The English texts are the message ids of the French catalogues (src/campus/locales/fr/*.po)
whose French translation differs from them. A page leaks one when a text node (or a label,
placeholder, title or alternative text) equals it, or when a text node contains a message id
of four words or more; `%(name)s` placeholders match any text. Text inside `code`, `pre`,
`script`, `style` and elements marked `lang="en"` is not interface text in French.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parents[2] / "src" / "campus" / "locales" / "fr"
_PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|\{[a-z_0-9]+\}")
_SPACES = re.compile(r"\s+")
_SKIPPED_TAGS = {"code", "pre", "script", "style", "textarea", "kbd", "samp"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_TEXT_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


@dataclass(frozen=True)
class Message:
    msgid: str
    pattern: re.Pattern[str]
    long: bool
    plain: bool
    msgid_words: frozenset[str]


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


@cache
def english_messages() -> tuple[Message, ...]:
    """Message ids that the French catalogues translate into something else."""
    found: dict[str, Message] = {}
    for po in sorted(LOCALES.glob("*.po")):
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        for message in catalogue:
            if not message.id or not message.string or message.fuzzy:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in ids:
                english = _normal(msgid)
                if english.casefold() in {_normal(s).casefold() for s in strings}:
                    continue
                if not re.search(r"[A-Za-z]{3}", _PLACEHOLDER.sub("", english)):
                    continue
                parts = _PLACEHOLDER.split(english)
                regex = "(?:.+?)".join(re.escape(part) for part in parts)
                long = len(_PLACEHOLDER.sub("", english).split()) >= 4
                words = frozenset(w for part in parts for w in part.split() if len(w) > 2)
                found[english] = Message(english, re.compile(regex), long, len(parts) == 1, words)
    return tuple(found.values())


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        skip = tag in _SKIPPED_TAGS or (values.get("lang") or "").startswith("en")
        if not (skip or self._skipping()):
            for name in _TEXT_ATTRIBUTES:
                if values.get(name):
                    self.texts.append(values[name] or "")
            if (
                tag == "input"
                and values.get("type") in ("submit", "button")
                and values.get("value")
            ):
                self.texts.append(values["value"] or "")
        if tag not in _VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.texts.append(data)


def leaks(html: str) -> list[str]:
    """The English message ids found in `html`'s interface text."""
    parser = _Texts()
    parser.feed(html)
    texts = {_normal(text) for text in parser.texts}
    joined = "\n".join(texts)
    found = set()
    for message in english_messages():
        if message.plain:
            if message.msgid in texts or (message.long and message.msgid in joined):
                found.add(message.msgid)
        elif message.msgid_words & set(joined.split()) and any(
            message.pattern.fullmatch(text) or (message.long and message.pattern.search(text))
            for text in texts
        ):
            found.add(message.msgid)
    return sorted(found)


# English words that French interface text never holds: finds English written outside the
# catalogues (a note composed in code, a status word, a data label shown raw). Not words that
# French spells the same ("multiple", "distribution").
ENGLISH_WORDS = frozenset(
    "the of and with under nearest rounded suppressed cell cells counts female male "  # noqa: SIM905
    "queued running finished released pending waiting outputs worker hidden withheld shown "
    "group groups people values never".split()
)


def english_words(html: str) -> list[str]:
    """The words of ENGLISH_WORDS in `html`'s interface text (as `leaks` reads it)."""
    parser = _Texts()
    parser.feed(html)
    words = {w.casefold() for text in parser.texts for w in re.findall(r"[A-Za-z]+", text)}
    return sorted(words & ENGLISH_WORDS)
