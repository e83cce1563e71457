"""Row pre-filters on raw resources: a cheap, sound shortcut before the views' JSON work.

A view read only through criteria such as `code eq "230690007"` needs only the rows whose
view value equals that text. When the column is a plain navigation of the resource (no
function that transforms values) and the text is plain (letters, digits, `.`, `-`, `_`,
`:`, `|`, space), the text appears verbatim in the resource's JSON, so rows without it can
be skipped before the view is computed: `contains(resource, 'text')` is a necessary
condition, never a sufficient one — the exact criterion is still applied afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from campus.analysis.definition import Analysis, Criterion, IndexDate, TimeToEvent

PLAIN_PATH = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|first\(\)|ofType\([A-Za-z]+\)))*$"
)
PLAIN_TEXT = re.compile(r"^[A-Za-z0-9 ._:|-]{1,200}\Z")


def _column_paths(select: list[dict[str, Any]], out: dict[str, str]) -> dict[str, str]:
    for each in select:
        for column in each.get("column", []):
            out[column.get("name", "")] = column.get("path", "")
        _column_paths(each.get("select", []), out)
        for branch in each.get("unionAll", []):
            _column_paths([branch], out)
    return out


def _needs(criterion: Criterion, paths: dict[str, str]) -> str | None:
    """A necessary condition on `resource` for rows meeting the criterion, or None."""
    if not PLAIN_PATH.match(paths.get(criterion.column, "")):
        return None
    if criterion.op in ("eq", "starts_with"):
        values = [criterion.value]
    elif criterion.op == "in":
        values = list(criterion.value or [])  # type: ignore[arg-type]
    else:
        return None
    if not values or not all(isinstance(v, str) and PLAIN_TEXT.match(v) for v in values):
        return None
    # contains() is spelled the same in DuckDB and Spark SQL; the text needs no escaping.
    return "(" + " OR ".join(f"contains(resource, '{v}')" for v in values) + ")"


def _all_of(criteria: list[Criterion], paths: dict[str, str]) -> str | None:
    """A necessary condition for rows meeting every criterion: any one that can be written."""
    for criterion in criteria:
        needed = _needs(criterion, paths)
        if needed:
            return needed
    return None


def prefilters(analysis: Analysis, views: dict[str, dict[str, Any]]) -> dict[str, str]:
    """View name -> SQL condition on the `resource` column, for views read only filtered."""
    cohort = analysis.cohort
    out: dict[str, str] = {}
    for name, view in views.items():
        if name == cohort.view:
            continue
        paths = _column_paths(view.get("select", []), {})
        uses: list[str | None] = []
        own = [c for c in cohort.include if c.view == name]
        for criterion in own + [c for c in cohort.exclude if c.view == name]:
            uses.append(_needs(criterion, paths))
        if isinstance(cohort.index_date, IndexDate) and cohort.index_date.view == name:
            uses.append(_all_of([c for c in own if c.within_days is None], paths))
        for output in analysis.outputs:
            for criterion in getattr(output, "event", None) or []:
                if isinstance(criterion, Criterion) and criterion.view == name:
                    uses.append(_needs(criterion, paths))
            if isinstance(output, TimeToEvent) and output.event.view == name:
                uses.append(_all_of(output.event.where, paths))
        if uses and all(uses):
            out[name] = "(" + " OR ".join(dict.fromkeys(u for u in uses if u)) + ")"
    return out
