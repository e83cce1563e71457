"""The engine's words in the reader's language: disclosure notes, table words, published
values and chart specs, shared by the pages of local and federated jobs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from campus import i18n
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.templating import format_number, spelled_date

# The disclosure notes the engine writes (campus.analysis.disclosure and results), as
# catalogue messages: stored results keep English notes, pages show them translated.
NOTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (
            r"(?P<count>\d+) cell\(s\) under (?P<threshold>\d+) suppressed",
            N_("%(count)s cell(s) under %(threshold)s suppressed"),
        ),
        (
            r"(?P<count>\d+) more cell\(s\) suppressed so that none can be recomputed from totals",
            N_("%(count)s more cell(s) suppressed so that none can be recomputed from totals"),
        ),
        (
            r"counts rounded to the nearest multiple of (?P<base>\d+)",
            N_("counts rounded to the nearest multiple of %(base)s"),
        ),
        (
            r"cumulative counts rounded to multiples of (?P<base>\d+)",
            N_("cumulative counts rounded to multiples of %(base)s"),
        ),
        (
            r"each quantile is the mean of the (?P<k>\d+) values around it; "
            r"min and max never shown",
            N_("each quantile is the mean of the %(k)s values around it; min and max never shown"),
        ),
        (
            r"(?P<count>\d+) group\(s\) under (?P<threshold>\d+) values hidden",
            N_("%(count)s group(s) under %(threshold)s values hidden"),
        ),
        (
            r"quantiles whose (?P<k>\d+) values would overlap another's withheld",
            N_("quantiles whose %(k)s values would overlap another's withheld"),
        ),
        (
            r"a group under (?P<threshold>\d+) people hidden",
            N_("a group under %(threshold)s people hidden"),
        ),
        (
            r"curve cut where fewer than the threshold remain at risk",
            N_("curve cut where fewer than the threshold remain at risk"),
        ),
        (
            r"one person per group: withheld as a row-level table; group by a coarser column "
            r"or band it \(width, part\)",
            N_(
                "one person per group: withheld as a row-level table; group by a coarser "
                "column or band it (width, part)"
            ),
        ),
        (
            r"the cohort has fewer than (?P<threshold>\d+) people: nothing is shown",
            N_("the cohort has fewer than %(threshold)s people: nothing is shown"),
        ),
    )
)

# Words the engine writes in tables: output kinds, the columns it adds, coded values.
WORDS = {
    "counts": N_("counts"),
    "crosstab": N_("cross-tabulation"),
    "histogram": N_("histogram"),
    "bin": N_("bin"),
    "rate": N_("rate"),
    "quantiles": N_("quantiles"),
    "time_to_event": N_("time to event"),
    "count": N_("count"),
    "events": N_("events"),
    "day": N_("day"),
    "at_risk": N_("at risk"),
    "survival": N_("survival"),
    "female": N_("female"),
    "male": N_("male"),
    "other": N_("other"),
    "unknown": N_("unknown"),
}


def note_text(note: str) -> str:
    """A disclosure note in the reader's language (an unknown note is shown as written)."""
    for pattern, message in NOTES:
        found = pattern.fullmatch(note)
        if found:
            return _(message) % found.groupdict()
    return note


def word(value: Any) -> Any:
    """A word the engine writes, translated; any other value unchanged."""
    if isinstance(value, str) and value in WORDS:
        return _(WORDS[value])
    return value


def when(value: str | None) -> str:
    """An ISO date and time as the reader's language writes it ("8 déc. 2026 à 14:00")."""
    if not value:
        return ""
    try:
        return spelled_date(dt.datetime.fromisoformat(value))
    except ValueError:
        return value


def cell(value: Any) -> str:
    """A published value: numbers with the reader's decimal mark (up to four decimals, as the
    engine rounds rates and survival), lists joined, the engine's words translated."""
    if isinstance(value, (list, tuple)):
        return " · ".join(cell(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(word(value))
    if isinstance(value, int) or float(value).is_integer():
        return format_number(value)
    text = f"{value:,.4f}".rstrip("0")
    if i18n.current_language.get() == "fr":
        return text.replace(",", "\u202f").replace(".", ",")
    return text


def notes_text(notes: list[str]) -> str:
    """A table's disclosure notes, translated, joined as the reader's language punctuates."""
    joiner = "\u202f; " if i18n.current_language.get() == "fr" else "; "
    return joiner.join(note_text(n) for n in notes)


def _label(values: list[Any]) -> str:
    return " · ".join(str(word(v)) for v in values)


def charts(result: dict | None) -> list[dict]:
    """Chart specs for analysis.js: bars of counts and rates, lines of survival curves.

    A suppressed cell has no bar: its value is null and its index is listed in
    `suppressed`, which the script labels "supprimé" on the chart.
    """
    if not result:
        return []
    specs = []
    for table in result.get("tables", []):
        columns, rows = table["columns"], table["rows"]
        kind = table["kind"]
        if kind in ("counts", "histogram", "rate") and len(columns) >= 2:
            dims = len(columns) - (3 if kind == "rate" else 1)
            if dims != 1:
                continue  # one bar per group: a one-dimension table only
            inner = [r for r in rows if r[0] != "*"]
            values = [r[-1] for r in inner]
            specs.append(
                {
                    "type": "bar",
                    "title": table["name"],
                    "labels": [_label([r[0]]) for r in inner],
                    "values": values,
                    "suppressed": [i for i, v in enumerate(values) if v is None],
                    "suppressed_label": _("suppressed"),
                }
            )
        elif kind == "time_to_event":
            groups: dict[str, list] = {}
            width = len(columns) - 4
            for r in rows:
                groups.setdefault(_label(r[:width]) or _("all"), []).append(
                    {"x": r[width], "y": r[-1]}
                )
            specs.append(
                {"type": "line", "title": table["name"], "series": groups, "x_label": _("days")}
            )
    return specs


def reading_aids() -> dict[str, Any]:
    """What the tables template uses to write the engine's words in the reader's language."""
    return {"notes_text": notes_text, "word": word, "cell": cell, "when": when}
