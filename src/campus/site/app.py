"""The app factory: the web kit's app around every capability's routers."""

from __future__ import annotations

from fastapi import FastAPI

from campus.db.engine import Database
from campus.governance import data as governance_data
from campus.governance import register
from campus.ops import web as ops_web
from campus.settings import Settings
from campus.site import registry, routes
from campus.site.capabilities import CAPABILITIES
from campus.web.app import build_app


def wire_register() -> None:
    """The jobs governance lists of a project, from the capabilities that run them (analysis,
    federation): in the public register, their `register=` functions (for the app and for
    `campus project ...`); on the project's page, their `project_jobs=` functions."""
    register.OTHER_JOBS[:] = [registry.load(t) for t in registry.targets(CAPABILITIES, "register")]
    governance_data.TEAM_JOBS[:] = [
        registry.load(t) for t in registry.targets(CAPABILITIES, "project_jobs")
    ]


def wire_task_kinds() -> None:
    """The kinds of federated task that capabilities bring (`task_kinds=`: a federated
    evaluation), for the centre's app and for `campus node ...`."""
    from campus.federation import kinds

    kinds.install([registry.load(t) for t in registry.targets(CAPABILITIES, "task_kinds")])


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    app = build_app(
        settings,
        database,
        api_routers=routes.api_routers(),
        page_routers=routes.page_routers(),
    )
    # What each capability holds about an account: a member's export and account deletion.
    app.state.personal_data = registry.personal_data(CAPABILITIES)
    # What the in-process job worker (the demo) runs when idle: the capabilities' idle tasks.
    app.state.idle_round = registry.idle_round(CAPABILITIES)
    wire_register()
    wire_task_kinds()
    # Request ids, JSON request logs, metrics and /metrics, around everything else.
    ops_web.install(app, routes.walk())
    return app
