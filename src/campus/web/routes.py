"""Where every capability's routers are mounted: JSON under /api/v1, pages at the root."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.routing import APIRoute


def api_routers() -> list[APIRouter]:
    from campus.analysis import api as analysis_api
    from campus.audit import api as audit_api
    from campus.auth import api as auth_api
    from campus.ecosystem.directory import api as directory_api
    from campus.ecosystem.events import api as events_api
    from campus.ecosystem.impact import api as impact_api
    from campus.ecosystem.matchmaking import api as matchmaking_api
    from campus.ecosystem.programmes import api as programmes_api
    from campus.ecosystem.trainings import api as trainings_api
    from campus.governance import api as governance_api
    from campus.participation import api as participation_api
    from campus.views import api as views_api
    from campus.warehouse import api as warehouse_api
    from campus.web import shell

    return [
        shell.api,
        auth_api.router,
        audit_api.router,
        directory_api.router,
        matchmaking_api.router,
        impact_api.router,
        events_api.router,
        programmes_api.router,
        trainings_api.router,
        participation_api.router,
        governance_api.router,
        analysis_api.router,
        views_api.router,
        warehouse_api.router,
    ]


def page_routers() -> list[APIRouter]:
    from campus.analysis import pages as analysis_pages
    from campus.audit import pages as audit_pages
    from campus.auth import oidc_pages
    from campus.auth import pages as auth_pages
    from campus.ecosystem.directory import pages as directory_pages
    from campus.ecosystem.events import pages as events_pages
    from campus.ecosystem.impact import pages as impact_pages
    from campus.ecosystem.matchmaking import pages as matchmaking_pages
    from campus.ecosystem.programmes import pages as programmes_pages
    from campus.ecosystem.trainings import pages as trainings_pages
    from campus.governance import pages as governance_pages
    from campus.participation import pages as participation_pages
    from campus.views import pages as views_pages
    from campus.warehouse import pages as warehouse_pages
    from campus.web import shell

    return [
        shell.pages,
        auth_pages.router,
        oidc_pages.router,
        audit_pages.router,
        directory_pages.router,
        matchmaking_pages.router,
        impact_pages.router,
        events_pages.router,
        programmes_pages.router,
        trainings_pages.router,
        participation_pages.router,
        governance_pages.router,
        analysis_pages.router,
        views_pages.router,
        warehouse_pages.router,
    ]


API_PREFIX = "/api/v1"


def walk() -> Iterator[tuple[str, APIRoute]]:
    """Every route the app mounts, as (full path, route): what the route tests inspect."""
    for router in api_routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield API_PREFIX + route.path, route
    for router in page_routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route.path, route
