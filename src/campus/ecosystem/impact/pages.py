"""HTML pages of impact records (entry by organisations, validation by staff) and of the
campus dashboard with its charts."""

from __future__ import annotations

from typing import Any

from babel.dates import get_month_names
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campus.auth.actor import Actor
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.directory.vocabulary import KIND_LABELS, label
from campus.ecosystem.impact import api, dashboard, service
from campus.ecosystem.impact.api import this_year
from campus.errors import CampusError
from campus.i18n import current_language
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session, form_data
from campus.web.pages_registry import page
from campus.web.templating import env, render
from campus.web.twins import twin

router = APIRouter()
ORG_SCOPE = ("organisation", "org_id")
env.globals["impact_kind_label"] = lambda code: label(service.KIND_LABELS, code)


def _org_page(request: Request, session: Session, org_id: str, status: int = 200, **extra: Any):
    org = directory.get_organisation(session, org_id)
    return render(
        request,
        "ecosystem/impact_org.html",
        {
            "org": org,
            "records": service.of_organisation(session, org.id),
            "kinds": list(service.KIND_LABELS),
            "currencies": service.CURRENCIES,
            "rounds": service.ROUNDS,
            "counterpart_kinds": service.COUNTERPART_KINDS,
            "form": {},
            **extra,
        },
        status=status,
    )


@page(router, "/organisations/{org_id}/impact", twin="/api/v1/organisations/{org_id}/impact")
def impact_of_organisation(
    request: Request,
    org_id: str,
    actor: Actor = allow("impact.write", scope=ORG_SCOPE),
    session: Session = db_session,
):
    return _org_page(request, session, org_id, saved=request.query_params.get("saved") == "1")


@router.post("/organisations/{org_id}/impact", include_in_schema=False)
def impact_submit(
    request: Request,
    org_id: str,
    actor: Actor = allow("impact.write", scope=ORG_SCOPE),
    session: Session = db_session,
    form: FormData = form_data,
):
    data = {
        name: str(form.get(name, ""))
        for name in (
            "kind",
            "title",
            "occurred_on",
            "amount",
            "currency",
            "round",
            "counterpart",
            "counterpart_kind",
            "description",
        )
    }
    data["investors"] = [i for i in str(form.get("investors", "")).split(",") if i.strip()]
    try:
        org = directory.get_organisation(session, org_id)
        service.submit(session, org, data, by=actor)
    except CampusError as error:
        session.rollback()
        message = _(error.message) + (f" ({error.where})" if error.where else "")
        return _org_page(
            request,
            session,
            org_id,
            error=message,
            form={**data, "investors": ", ".join(data["investors"])},
            status=error.status,
        )
    return RedirectResponse(f"/organisations/{org_id}/impact?saved=1", status_code=303)


@page(router, "/admin/impact", twin="/api/v1/impact/pending")
def impact_queue(
    request: Request, actor: Actor = allow("impact.validate"), session: Session = db_session
):
    records = service.pending(session)
    names = {
        o.id: o.name
        for o in session.query(Organisation).filter(
            Organisation.id.in_({r.organisation_id for r in records})
        )
    }
    return render(
        request,
        "ecosystem/impact_queue.html",
        {"records": records, "names": names, "error": request.query_params.get("error", "")},
    )


@router.post("/admin/impact/{record_id}/{decision}", include_in_schema=False)
def impact_decide(
    request: Request,
    record_id: str,
    decision: str,
    note: str = Form("", max_length=500),
    actor: Actor = allow("impact.validate"),
    session: Session = db_session,
):
    if decision not in ("validate", "reject"):
        return RedirectResponse("/admin/impact", status_code=303)
    try:
        record = service.get(session, record_id)
        service.decide(session, record, validate=decision == "validate", note=note, by=actor)
    except CampusError as error:
        session.rollback()
        return render(
            request,
            "ecosystem/impact_queue.html",
            {"records": service.pending(session), "names": {}, "error": _(error.message)},
            status=error.status,
        )
    return RedirectResponse("/admin/impact", status_code=303)


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
