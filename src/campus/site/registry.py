"""The capability registry: what each capability brings to the site, declared once.

A capability declares itself with one `Capability(...)` entry in
`campus/site/capabilities.py`; nothing else needs editing to mount it:

    Capability(
        "residency",
        api=("campus.residency.api:router",),        # mounted under /api/v1, in this order
        pages=("campus.residency.pages:router",),    # HTML pages, mounted at the root
        models=("campus.residency.models",),         # modules whose tables join the metadata
        cli=(
            sub_app("residency", "campus.residency.cli:app"),   # `campus residency ...`
            command("admit", "campus.residency.cli:admit"),     # `campus admit`
        ),
        demo=("campus.residency.demo:load",),        # loader(settings, db) for `campus demo`
        demo_after=("ecosystem",),                    # capabilities whose demo data it uses
        personal_data=("campus.residency.personal_data:PART",),  # GDPR export and erasure
        home=("campus.residency.home:mine",),        # sections of a person's home page
    )

A capability with work to do in the background declares `idle=("module:function",)`: the job
worker calls each `function(db, settings)` when its queue is empty (scheduled pulls, event
reminders, mail delivery), so the worker names no capability.

Targets are written "module:attribute" strings and imported only when the site asks for them
(the app factory, the CLI, the demo, the migrations), so declaring a capability imports
nothing. Routers are mounted in the order of the entries (and of the targets within one);
demo loaders run in that order too, except that a capability's loaders wait for those of the
capabilities it names in `demo_after`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("campus.worker")


@dataclass(frozen=True)
class CliEntry:
    """A CLI entry: a Typer sub-app (`kind="app"`) or a single command (`kind="command"`)."""

    name: str
    target: str
    kind: str


def sub_app(name: str, target: str) -> CliEntry:
    """`campus NAME ...`: the Typer app at `target` ("module:attribute")."""
    return CliEntry(name, target, "app")


def command(name: str, target: str) -> CliEntry:
    """`campus NAME`: the function at `target` ("module:attribute") as a top-level command."""
    return CliEntry(name, target, "command")


@dataclass(frozen=True)
class Capability:
    """One capability's declaration; see the module docstring."""

    name: str
    api: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    cli: tuple[CliEntry, ...] = ()
    demo: tuple[str, ...] = ()
    demo_after: tuple[str, ...] = ()
    # What it holds about an account (campus.auth.personal_data.PersonalData objects), for a
    # member's export of their data and the deletion of their account.
    personal_data: tuple[str, ...] = ()
    # What it shows on a signed-in person's home ("Mon campus"): functions
    # (session, actor) -> campus.web.home.HomeSection | None, in the order given.
    home: tuple[str, ...] = ()
    # What the job worker runs when its queue is empty: functions (db, settings), in order;
    # one's trouble is logged and does not stop the others or the jobs.
    idle: tuple[str, ...] = ()
    # The jobs it lists in a project's public register entry (its releases, its Atom feed):
    # functions (session, project_id) -> jobs as the public sees them, each with its "url";
    # the register renders them in the registry's order and imports none of their owners.
    register: tuple[str, ...] = ()
    # Kinds of federated task it brings (campus.federation.kinds.TaskKind objects): run at
    # the nodes, pooled at the centre; installed for the app and for `campus node ...`.
    task_kinds: tuple[str, ...] = ()
    # The jobs it lists on a project's page for those who see the project's private side (team,
    # reviewers, DPO, staff): functions (session, project_id) -> jobs as the team sees them,
    # newest first, in the registry's order.
    project_jobs: tuple[str, ...] = ()


def load(target: str) -> Any:
    """The object named by "module:attribute" (or a module, without ":")."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def check(capabilities: Iterable[Capability]) -> None:
    """Refuse a registry that names a capability twice or waits for an unknown one."""
    names: set[str] = set()
    for capability in capabilities:
        if capability.name in names:
            raise ValueError(f"capability {capability.name!r} is declared twice")
        names.add(capability.name)
    for capability in capabilities:
        for other in capability.demo_after:
            if other not in names:
                raise ValueError(
                    f"capability {capability.name!r}: demo_after names {other!r}, "
                    f"which is not declared"
                )


def demo_order(capabilities: list[Capability]) -> list[Capability]:
    """The capabilities in declaration order, each after those named in its `demo_after`."""
    by_name = {c.name: c for c in capabilities}
    done: list[Capability] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def visit(capability: Capability) -> None:
        if capability.name in seen:
            return
        if capability.name in visiting:
            raise ValueError(f"demo_after makes a circle through {capability.name!r}")
        visiting.add(capability.name)
        for other in capability.demo_after:
            visit(by_name[other])
        visiting.discard(capability.name)
        seen.add(capability.name)
        done.append(capability)

    for capability in capabilities:
        visit(capability)
    return done


def targets(capabilities: Iterable[Capability], field: str) -> Iterator[str]:
    for capability in capabilities:
        yield from getattr(capability, field)


def loaders(capabilities: list[Capability]) -> list[Callable]:
    """Every demo loader, in demo order."""
    return [load(t) for c in demo_order(capabilities) for t in c.demo]


def personal_data(capabilities: Iterable[Capability]) -> list[Any]:
    """Every capability's personal-data part, in declaration order."""
    return [load(t) for t in targets(capabilities, "personal_data")]


def idle_round(capabilities: Iterable[Capability]) -> Callable[[Any, Any], None]:
    """Every capability's idle task as one function (db, settings): each runs in declaration
    order, and an exception in one is logged by its type (no message: it may name data) and
    does not stop the next."""
    tasks = [(target, load(target)) for target in targets(capabilities, "idle")]

    def run(db: Any, settings: Any) -> None:
        for target, task in tasks:
            try:
                task(db, settings)
            except Exception as error:  # one task's trouble must not stop the jobs
                log.warning("idle task %s: %s", target, type(error).__name__)

    return run
