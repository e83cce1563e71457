"""HTML pages: public register and its Atom feed, opt-out form, projects, requests, reviews."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.errors import CampusError, NotFound
from campus.governance import api, optout, register, serialise, service
from campus.governance.models import Approval
from campus.i18n import gettext as _
from campus.web.deps import allow, client_address, db_session
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()


@page(router, "/register", twin="/api/v1/register")
def register_page(
    request: Request,
    q: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return render(
        request, "governance/register.html", {"projects": register.listing(session, q), "q": q}
    )


@page(
    router,
    "/register/feed.atom",
    no_twin="an Atom feed of the register; its data is /api/v1/register",
)
def register_feed(
    request: Request, actor: Actor = allow("public.read"), session: Session = db_session
):
    body = register.atom(register.feed_items(session), request.app.state.settings.base_url)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@page(router, "/register/{project_id}", twin="/api/v1/register/{project_id}")
def register_project_page(
    request: Request,
    project_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    entry = register.entry(session, service.get_project(session, project_id))
    return render(request, "governance/register_project.html", {"p": entry})


@page(router, "/opposition", no_twin="a form; its API twin is POST /api/v1/optout")
def optout_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "governance/optout.html")


@router.post("/opposition", include_in_schema=False)
def optout_submit(
    request: Request,
    kind: str = Form(...),
    value: str = Form(..., max_length=512),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    try:
        optout.admit(session, settings, client_address(request))
        receipt = optout.add(session, settings, kind, value, actor.label)
    except CampusError as error:
        session.rollback()  # a refused filing counts nothing
        return render(
            request,
            "governance/optout.html",
            {"error": _(error.message), "kind": kind},
            status=error.status,
        )
    return render(request, "governance/optout_receipt.html", {"receipt": receipt})


@page(router, "/projects", twin="/api/v1/projects")
def projects_page(
    request: Request, actor: Actor = allow("account.self"), session: Session = db_session
):
    data = api.api_my_projects(actor=actor, session=session)
    return render(request, "governance/projects.html", {"projects": data["projects"]})


@router.post("/projects", include_in_schema=False)
def project_create(
    request: Request,
    title: str = Form(..., max_length=200),
    lead_org_id: str = Form(..., max_length=64),
    lead_org_name: str = Form(..., max_length=200),
    partners: str = Form("", max_length=5000),
    purpose: str = Form(..., max_length=5000),
    summary_fr: str = Form(..., max_length=5000),
    summary_en: str = Form("", max_length=5000),
    legal_basis: str = Form(..., max_length=300),
    expected_benefits: str = Form(..., max_length=5000),
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    form = {
        "title": title,
        "lead_org_id": lead_org_id,
        "lead_org_name": lead_org_name,
        "partners": partners,
        "purpose": purpose,
        "summary_fr": summary_fr,
        "summary_en": summary_en,
        "legal_basis": legal_basis,
        "expected_benefits": expected_benefits,
    }
    try:
        pairs = []
        for line in partners.splitlines():
            if line.strip():
                pid, sep, pname = line.partition("|")
                if not sep:
                    raise CampusError("write one partner a line as id|name", where="partners")
                pairs.append((pid.strip(), pname.strip()))
        project = service.create_project(
            session,
            actor,
            service.ProjectIn(
                title=title,
                lead_org_id=lead_org_id,
                lead_org_name=lead_org_name,
                purpose=purpose,
                summary_fr=summary_fr,
                summary_en=summary_en,
                legal_basis=legal_basis,
                expected_benefits=expected_benefits,
                partners=tuple(pairs),
            ),
        )
    except CampusError as error:
        session.rollback()
        data = api.api_my_projects(actor=actor, session=session)
        return render(
            request,
            "governance/projects.html",
            {"projects": data["projects"], "error": _(error.message), "form": form},
            status=400,
        )
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


def _project_context(session: Session, actor: Actor, project_id: str) -> dict:
    from campus.analysis import service as analysis

    data = api.project_for(session, actor, project_id)
    private = "requests" in data
    approvals = [a for a in data["approvals"] if a["state"] == "active"]
    jobs = analysis.project_jobs(session, project_id) if private else []
    return {"p": data, "private": private, "active_approvals": approvals, "jobs": jobs}


@page(router, "/projects/{project_id}", twin="/api/v1/projects/{project_id}")
def project_page(
    request: Request,
    project_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return render(request, "governance/project.html", _project_context(session, actor, project_id))


def _project_error(request: Request, session: Session, actor: Actor, project_id: str, error):
    session.rollback()
    context = _project_context(session, actor, project_id) | {"error": _(error.message)}
    return render(request, "governance/project.html", context, status=error.status)


@router.post("/projects/{project_id}/members", include_in_schema=False)
def project_add_member(
    request: Request,
    project_id: str,
    email: str = Form(..., max_length=320),
    role: str = Form("researcher"),
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    try:
        project = service.get_project(session, project_id)
        account = auth.find_account(session, email)
        if account is None:
            raise NotFound(f"no account {email}", where="email")
        service.add_member(session, actor, project, account.id, role)
    except CampusError as error:
        return _project_error(request, session, actor, project_id, error)
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


@router.post("/projects/{project_id}/requests", include_in_schema=False)
def project_new_request(
    request: Request,
    project_id: str,
    datasets: str = Form(..., max_length=2000),
    views: str = Form(..., max_length=5000),
    elements: str = Form("", max_length=10000),
    duration_days: int = Form(...),
    justification: str = Form(..., max_length=10000),
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    try:
        project = service.get_project(session, project_id)
        access = service.create_request(
            session,
            actor,
            project,
            datasets=datasets,
            views=views,
            elements=elements,
            duration_days=duration_days,
            justification=justification,
        )
    except CampusError as error:
        return _project_error(request, session, actor, project_id, error)
    return RedirectResponse(f"/projects/{project_id}/requests/{access.id}", status_code=303)


def _request_context(session: Session, actor: Actor, request_id: str) -> dict:
    access = api.request_visible(session, actor, request_id)
    project = service.get_project(session, access.project_id)
    data = serialise.request_full(session, access)
    approval = session.scalar(select(Approval).where(Approval.request_id == access.id))
    names = {}
    for review in data["reviews"]:
        account = auth.get_account(session, review["reviewer"])
        names[review["reviewer"]] = account.name if account else review["reviewer"]
    for message in data["messages"]:
        account = auth.get_account(session, message["author"])
        names[message["author"]] = account.name if account else message["author"]
    return {
        "r": data,
        "project": serialise.project_public(project),
        "names": names,
        "is_team": service.is_member(session, project.id, actor.account_id) or actor.is_staff,
        "my_review": next((v for v in data["reviews"] if v["reviewer"] == actor.account_id), None),
        "can_manage_approval": approval is not None
        and service.can_manage_approval(session, actor, approval),
    }


@page(router, "/projects/{project_id}/requests/{request_id}", twin="/api/v1/requests/{request_id}")
def request_page(
    request: Request,
    project_id: str,
    request_id: str,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    return render(request, "governance/request.html", _request_context(session, actor, request_id))


def _request_action(request: Request, session: Session, actor: Actor, request_id: str, action):
    try:
        access = service.get_request(session, request_id)
        action(access)
    except CampusError as error:
        session.rollback()
        context = _request_context(session, actor, request_id) | {"error": _(error.message)}
        return render(request, "governance/request.html", context, status=error.status)
    return RedirectResponse(f"/projects/{access.project_id}/requests/{access.id}", status_code=303)


@router.post("/requests/{request_id}/submit", include_in_schema=False)
def request_submit(
    request: Request,
    request_id: str,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    return _request_action(
        request,
        session,
        actor,
        request_id,
        lambda access: service.submit_request(session, settings, actor, access),
    )


@router.post("/requests/{request_id}/edit", include_in_schema=False)
def request_edit(
    request: Request,
    request_id: str,
    datasets: str = Form(..., max_length=2000),
    views: str = Form(..., max_length=5000),
    elements: str = Form("", max_length=10000),
    duration_days: int = Form(...),
    justification: str = Form(..., max_length=10000),
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    return _request_action(
        request,
        session,
        actor,
        request_id,
        lambda access: service.update_request(
            session,
            actor,
            access,
            datasets=datasets,
            views=views,
            elements=elements,
            duration_days=duration_days,
            justification=justification,
        ),
    )


@router.post("/requests/{request_id}/messages", include_in_schema=False)
def request_message(
    request: Request,
    request_id: str,
    body: str = Form(..., max_length=5000),
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    return _request_action(
        request,
        session,
        actor,
        request_id,
        lambda access: service.ask_or_answer(session, settings, actor, access, body),
    )


@router.post("/requests/{request_id}/decision", include_in_schema=False)
def request_decide(
    request: Request,
    request_id: str,
    decision: str = Form(...),
    comment: str = Form(..., max_length=5000),
    conditions: str = Form("", max_length=5000),
    actor: Actor = allow("ethics.review"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    return _request_action(
        request,
        session,
        actor,
        request_id,
        lambda access: service.decide(
            session,
            settings,
            actor,
            access,
            decision=decision,
            comment=comment,
            conditions=conditions,
        ),
    )


@router.post("/approvals/{approval_id}/status", include_in_schema=False)
def approval_status(
    request: Request,
    approval_id: str,
    status: str = Form(...),
    reason: str = Form(..., max_length=2000),
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
):
    approval = service.get_approval(session, approval_id)
    settings = request.app.state.settings
    return _request_action(
        request,
        session,
        actor,
        approval.request_id,
        lambda _access: service.set_approval_status(
            session, settings, actor, approval, status, reason
        ),
    )


@page(router, "/reviews", twin="/api/v1/reviews")
def reviews_page(
    request: Request, actor: Actor = allow("ethics.review"), session: Session = db_session
):
    return render(request, "governance/reviews.html", {"reviews": api.reviews_of(session, actor)})
