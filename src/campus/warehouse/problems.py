"""Problems found while ingesting: where (file, line or entry, resource, element) and what."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem. `line` is set for NDJSON, `entry` (0-based) for Bundles."""

    severity: Severity
    file: str
    message: str
    line: int | None = None
    entry: int | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def location(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.entry is not None:
            return f"{self.file}#entry[{self.entry}]"
        return self.file


class ProblemLog:
    """Problems kept in full up to `limit`; beyond it only counted, so memory stays bounded."""

    def __init__(self, limit: int = 1000):
        self.limit = limit
        self.items: list[Problem] = []
        self.errors = 0
        self.warnings = 0

    def add(self, problem: Problem) -> None:
        if problem.severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.items) < self.limit:
            self.items.append(problem)

    def merge(self, items: list[Problem], errors: int, warnings: int) -> None:
        self.errors += errors
        self.warnings += warnings
        room = self.limit - len(self.items)
        if room > 0:
            self.items.extend(items[:room])

    @property
    def omitted(self) -> int:
        return self.errors + self.warnings - len(self.items)
