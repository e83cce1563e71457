"""The pages anyone reads: the public register of data projects (filters, CSV, Atom feed)
and the opt-out (filing, receipt check and withdrawal). Each page with data is a twin of its
JSON (`campus.web.twins.twin`); each form posts through `campus.web.forms.form_route`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.governance import api, register, service
from campus.governance.data import named_from
from campus.optout import service as optout
from campus.web.deps import allow, client_address, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


# --- public register ----------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/register",
    template="governance/register.html",
    summary="The public register of data projects, filtered by text, status, year, organisation",
)
def register_data(
    q: str = "",
    status: str = "",
    year: int | None = None,
    organisation: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict[str, Any]:
    return register.search(session, q, status, year, organisation)


@page(
    router,
    "/register.csv",
    no_twin="a CSV file, not a page: the rows of /api/v1/register, from the same function",
)
def register_csv(
    request: Request,
    q: str = "",
    status: str = "",
    year: int | None = None,
    organisation: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    """The register's rows as filtered, as CSV (formulas neutralised)."""
    found = register.search(session, q, status, year, organisation)
    body = register.csv_text(found["projects"], request.app.state.settings.base_url)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="registre-projets.csv"'},
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


@twin(
    api.router,
    router,
    "/register/{project_id}",
    template="governance/register_project.html",
    summary="One project of the public register",
    context=lambda session, actor, data: {"p": data, **named_from(session, actor)},
)
def register_project(
    project_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return register.entry(session, service.get_project(session, project_id))


# --- opt-out ------------------------------------------------------------------------------------


@page(router, "/opposition", no_twin="a form; its API twin is POST /api/v1/optout")
def optout_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "governance/optout.html", {"values": {}})


@form_route(router, "/opposition", model=api.OptOutIn, template="governance/optout.html")
def optout_submit(
    body: api.OptOutIn,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    """The receipt is shown once, on this answer (never in a URL)."""
    settings = request.app.state.settings
    optout.admit(session, settings, client_address(request))
    receipt = optout.add(session, settings, body.kind, body.value, actor.label)
    return render(request, "governance/optout_receipt.html", {"receipt": receipt})


@page(
    router,
    "/opposition/suivi",
    no_twin="a form; its API twins are POST /api/v1/optout/check and /api/v1/optout/withdraw",
)
def optout_check_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "governance/optout_check.html", {"values": {}})


def _receipt_route(path: str, *, withdraw: bool) -> None:
    """POST `path`: check (or withdraw) the objection of the receipt posted in the form's
    body, never in a URL (whoever holds it may withdraw)."""

    def handler(
        body: api.ReceiptIn,
        request: Request,
        actor: Actor = allow("public.read"),
        session: Session = db_session,
    ):
        settings, address = request.app.state.settings, client_address(request)
        withdrawn_by = actor.label if withdraw else None
        state = optout.by_receipt(session, settings, address, body.receipt, withdrawn_by)
        shown = {"found": state.public(), "done": "withdrawn" if withdraw else ""}
        return render(request, "governance/optout_check.html", shown)

    handler.__name__ = "optout_withdraw" if withdraw else "optout_check"
    form_route(router, path, model=api.ReceiptIn, template="governance/optout_check.html")(handler)


_receipt_route("/opposition/suivi", withdraw=False)
_receipt_route("/opposition/retrait", withdraw=True)
