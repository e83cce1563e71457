"""HTML pages of impact records (entry by organisations, validation by staff) and of the
campus dashboard with its charts."""

from __future__ import annotations

from typing import Any

from babel.dates import get_month_names
from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.directory.vocabulary import KIND_LABELS, label
from campus.ecosystem.impact import api, dashboard, service
from campus.ecosystem.impact.api import this_year
from campus.errors import NotFound
from campus.i18n import N_, current_language
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.templating import env
from campus.web.twins import twin

router = APIRouter()
ORG_SCOPE = ("organisation", "org_id")
env.globals["impact_kind_label"] = lambda code: label(service.KIND_LABELS, code)
env.globals["round_label"] = lambda code: label(service.ROUND_LABELS, code)
env.globals["counterpart_label"] = lambda code: label(service.COUNTERPART_LABELS, code)


def _org_context(session: Session, org_id: str) -> dict[str, Any]:
    """The organisation's page beside its records: its name, the form's choices."""
    return {
        "org": directory.get_organisation(session, org_id),
        "kinds": list(service.KIND_LABELS),
        "currencies": service.CURRENCIES,
        "rounds": service.ROUNDS,
        "counterpart_kinds": service.COUNTERPART_KINDS,
    }


@twin(
    api.router,
    router,
    "/organisations/{org_id}/impact",
    template="ecosystem/impact_org.html",
    summary="An organisation's impact records (admins)",
    context=lambda session, org_id, request: (
        _org_context(session, org_id)
        | {"saved": request.query_params.get("saved") == "1", "form": {}}
    ),
)
def impact_of_organisation(
    org_id: str,
    actor: Actor = allow("impact.write", scope=ORG_SCOPE),
    session: Session = db_session,
) -> list[dict[str, Any]]:
    org = directory.get_organisation(session, org_id)
    return [service.record_view(r) for r in service.of_organisation(session, org.id)]


def _org_again(session: Session, org_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The page again with a refusal, its form filled with what was typed."""
    org = directory.get_organisation(session, org_id)
    shown = [service.record_view(r) for r in service.of_organisation(session, org.id)]
    return _org_context(session, org_id) | {"data": shown, "form": values}


@form_route(
    router,
    "/organisations/{org_id}/impact",
    model=api.ImpactIn,
    template="ecosystem/impact_org.html",
    context=_org_again,
)
def impact_submit(
    body: api.ImpactIn,
    org_id: str,
    actor: Actor = allow("impact.write", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    # The page types the investors in one field, separated by commas.
    investors = [name.strip() for typed in body.investors for name in typed.split(",")]
    found = body.model_dump() | {"investors": [name for name in investors if name]}
    service.submit(session, directory.get_organisation(session, org_id), found, by=actor)
    return f"/organisations/{org_id}/impact?saved=1"


def pending_records(session: Session) -> list[dict[str, Any]]:
    """Records waiting for validation, each with its organisation's name."""
    records = service.pending(session)
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_({r.organisation_id for r in records} or {""})
            )
        ).all()
    )
    return [
        service.record_view(r) | {"organisation_name": names.get(r.organisation_id, "")}
        for r in records
    ]


@twin(
    api.router,
    router,
    "/admin/impact",
    api_path="/impact/pending",
    template="ecosystem/impact_queue.html",
    summary="Impact records waiting for validation, with their organisation's name (staff)",
)
def impact_queue(
    actor: Actor = allow("impact.validate"), session: Session = db_session
) -> list[dict[str, Any]]:
    return pending_records(session)


@form_route(
    router,
    "/admin/impact/{record_id}/{decision}",
    model=api.DecisionIn,
    template="ecosystem/impact_queue.html",
    context=lambda session: {"data": pending_records(session)},
)
def impact_decide(
    body: api.DecisionIn,
    record_id: str,
    decision: str,
    actor: Actor = allow("impact.validate"),
    session: Session = db_session,
) -> str:
    if decision not in ("validate", "reject"):
        raise NotFound(N_("no such decision"), code="not_found", where=decision[:20])
    record = service.get(session, record_id)
    service.decide(session, record, validate=decision == "validate", note=body.note, by=actor)
    return "/admin/impact"


def _chart_data(data: dict) -> dict:
    """The figures the charts draw, with their labels in the visitor's language."""
    return {
        "labels": {
            "kinds": [label(KIND_LABELS, k["kind"]) for k in data["members_by_kind"]],
            "months": month_names(),
            "organisations": _("Organisations"),
            "people": _("People"),
            "events": _("Events"),
            "registered": _("Registered"),
            "attended": _("Attended"),
            "funds": _("Funds raised (EUR)"),
            "contracts": _("Contracts"),
            "partnerships": _("Partnerships"),
        },
        "members_by_kind": data["members_by_kind"],
        "by_month": data["by_month"],
    }


@twin(
    api.router,
    router,
    "/dashboard",
    template="ecosystem/dashboard.html",
    summary="Campus figures of a year: members, events, funds, deals",
    context=lambda data: {"chart_data": _chart_data(data), "month_names": month_names()},
)
def dashboard_page(
    year: int | None = None, actor: Actor = allow("directory.read"), session: Session = db_session
) -> dict:
    return dashboard.figures(session, year or this_year())


def month_names() -> list[str]:
    """Abbreviated month names in the current language."""
    names = get_month_names("abbreviated", locale=current_language.get())
    return [str(names[m]) for m in range(1, 13)]
