"""Statistical disclosure control of aggregate tables, before anyone sees them.

A table of counts is a grid over its dimensions (group-by columns). Its margins (totals over
one or more dimensions, shown as `ALL`) are published too, so a suppressed cell could be
recomputed from a margin and the other cells of its line. The rules, applied in order:

1. primary suppression: every cell, margin included, with 0 < count < threshold is hidden;
2. secondary suppression: in every line (the cells that differ in one dimension only, with
   the margin that sums them), a lone hidden cell is protected by hiding the smallest visible
   cell of the line too, preferring non-zero inner cells; repeated until no line changes;
3. rounding: every visible count is rounded to the nearest multiple of the base.

Differential privacy, when asked, adds noise before these steps (see `privacy.py`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALL = "*"  # the label of a margin (total over a dimension)
MAX_CELLS = 20_000

Key = tuple[Hashable, ...]


@dataclass
class Report:
    """What disclosure control did to one table, for the job page and the output checkers."""

    threshold: int
    rounding_base: int
    cells: int = 0
    primary: int = 0
    secondary: int = 0
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "rounding_base": self.rounding_base,
            "cells": self.cells,
            "primary_suppressed": self.primary,
            "secondary_suppressed": self.secondary,
            "notes": list(self.notes),
        }


def round_to(value: float, base: int) -> int:
    """Round half up to the nearest multiple of `base` (base 1 keeps integers)."""
    base = max(base, 1)
    return base * math.floor(value / base + 0.5)


def complete_grid(
    cells: Mapping[Key, float], levels: list[list[Hashable]] | None = None
) -> dict[Key, float]:
    """Every combination of the observed levels of each dimension, absent ones as zero."""
    if not cells:
        return {}
    width = len(next(iter(cells)))
    if levels is None:
        levels = [sorted({k[d] for k in cells}, key=_sort_key) for d in range(width)]
    size = 1
    for each in levels:
        size *= max(len(each), 1)
    if size > MAX_CELLS:
        raise ValueError(
            f"the table would have {size} cells (more than {MAX_CELLS}): group by fewer or "
            "coarser columns"
        )
    return {key: float(cells.get(key, 0)) for key in itertools.product(*levels)}


def with_margins(cells: Mapping[Key, float]) -> dict[Key, float]:
    """The cells plus every margin: each subset of dimensions replaced by ALL, summed."""
    if not cells:
        return {}
    width = len(next(iter(cells)))
    full: dict[Key, float] = dict(cells)
    for key, value in cells.items():
        for size in range(1, width + 1):
            for positions in itertools.combinations(range(width), size):
                margin = tuple(ALL if i in positions else key[i] for i in range(width))
                full[margin] = full.get(margin, 0.0) + value
    return full


def suppress(full: Mapping[Key, float], threshold: int) -> tuple[set[Key], int, int]:
    """Keys to hide (primary then secondary), the primary count and the secondary count."""
    hidden = {k for k, v in full.items() if 0 < v < threshold}
    primary = len(hidden)
    if not full:
        return hidden, 0, 0
    width = len(next(iter(full)))
    lines: list[list[Key]] = []
    for d in range(width):
        grouped: dict[Key, list[Key]] = {}
        for key in full:
            grouped.setdefault(key[:d] + key[d + 1 :], []).append(key)
        lines.extend(members for members in grouped.values() if len(members) > 1)
    changed = True
    while changed:
        changed = False
        for members in lines:
            lone = [k for k in members if k in hidden]
            if len(lone) != 1:
                continue
            visible = [k for k in members if k not in hidden]
            if not visible:
                continue
            choice = min(visible, key=lambda k: (full[k] == 0, ALL in k, full[k]))
            hidden.add(choice)
            changed = True
    return hidden, primary, len(hidden) - primary


def protect(
    cells: Mapping[Key, float],
    *,
    threshold: int,
    base: int,
    levels: list[list[Hashable]] | None = None,
) -> tuple[dict[Key, int | None], Report]:
    """Complete the grid, add margins, suppress and round: key -> published count or None."""
    report = Report(threshold=threshold, rounding_base=base)
    full = with_margins(complete_grid(cells, levels))
    hidden, report.primary, report.secondary = suppress(full, threshold)
    report.cells = len(full)
    published: dict[Key, int | None] = {
        key: None if key in hidden else round_to(max(value, 0.0), base)
        for key, value in full.items()
    }
    if report.primary:
        report.notes.append(f"{report.primary} cell(s) under {threshold} suppressed")
    if report.secondary:
        report.notes.append(
            f"{report.secondary} more cell(s) suppressed so that none can be recomputed from totals"
        )
    if base > 1:
        report.notes.append(f"counts rounded to the nearest multiple of {base}")
    return published, report


def _sort_key(value: Hashable) -> tuple[int, float, str]:
    """Natural order: bands and numbers by their value, then text; missing values last."""
    if value is None:
        return (2, 0.0, "")
    text = str(value)
    head = text.lstrip("<≥").split("–", 1)[0]
    try:
        number = float(head)
    except ValueError:
        return (1, 0.0, text)
    return (0, number - (0.5 if text.startswith("<") else 0.0), text)
