"""Kinds of federated task: what a node computes for a task, and how the centre checks and
pools the answers. Federation knows one kind itself, `analysis` (the declarative analyses and
the logistic regression); another capability brings its own (evaluation's `evaluation`) and
the site composes it (`task_kinds=` in `campus.site.capabilities`, installed by
`campus.site.app.wire_task_kinds` for the centre's app and for `campus node ...`), so
federation imports no capability that uses it.

Every kind goes through the same machinery: a task signed per node, verified at the node
before any data is read (signature, expiry, node, dataset, scope), the node's answer refused
whole unless `check_answer` accepts it, `{"failed": true}` for a run that failed on the data
(the reason stays at the node), the deadline and the approval's consent to complete without
every node, and the team's data-independent view of the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campus.errors import BadRequest


@dataclass(frozen=True)
class TaskKind:
    """One kind of federated task.

    - `run(node, payload)`, at the node after the task was verified: the answer (JSON-able),
      computed on the node's own data under its own disclosure control;
    - `check_answer(task, body)`, at the centre: the answer to store, or BadRequest when it
      has not the shape of the task (its signed payload; nothing of a refused answer is kept);
    - `pool(session, settings, job, answers)`, at the centre once the job may complete, with
      `answers` the (node name, answer) of every node that answered: the job's result;
    - `finished(session, job)`, at the centre once the job's status is final (pooled, failed,
      refused, missed_deadline): what the capability does with it (optional).
    """

    name: str
    run: Callable[[Any, dict[str, Any]], dict[str, Any]]
    check_answer: Callable[[Any, Any], dict[str, Any]]
    pool: Callable[[Any, Any, Any, list[tuple[str, dict[str, Any]]]], dict[str, Any]]
    finished: Callable[[Any, Any], None] | None = None


ANALYSIS = "analysis"
_KINDS: dict[str, TaskKind] = {}


def install(kinds: list[TaskKind]) -> None:
    """The kinds the site composes (besides `analysis`, which federation handles itself)."""
    for kind in kinds:
        if kind.name == ANALYSIS:
            raise ValueError("the analysis kind is federation's own")
        _KINDS[kind.name] = kind


def get(name: str) -> TaskKind:
    kind = _KINDS.get(name)
    if kind is None:
        raise BadRequest(
            f"no federated task kind {name!r} here (known: {', '.join(names())})",
            code="unknown_task_kind",
            where="kind",
        )
    return kind


def names() -> list[str]:
    return [ANALYSIS, *sorted(_KINDS)]
