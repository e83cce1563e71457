"""HTML pages of the warehouse: public catalogue, member detail, datasets, upload, drop.

`/catalogue`, `/catalogue/{name}` and `/datasets` are twins (`campus.web.twins.twin`): their
data is their JSON under /api/v1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.warehouse import api, messages, service, uploads
from campus.warehouse.api import steward
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.middleware import too_large_text
from campus.web.pages_registry import page
from campus.web.templating import render, spelled_date
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/catalogue",
    template="warehouse/catalogue.html",
    summary="Public summary of every dataset (latest versions)",
    context=lambda data: {"datasets": data},
)
def public_catalogue(
    request: Request, actor: Actor = allow("public.read"), session: Session = db_session
) -> list[dict[str, Any]]:
    return service.public_catalogue(session, request.app.state.settings)


@twin(
    api.router,
    router,
    "/catalogue/{name}",
    template="warehouse/detail.html",
    summary="Catalogue detail of a dataset version (members)",
    context=lambda data: {"dataset": data, "cat": data},
)
def catalogue_detail(
    name: str,
    request: Request,
    version: str | None = None,
    actor: Actor = allow("catalogue.read"),
    session: Session = db_session,
) -> dict[str, Any]:
    dataset = service.require_dataset(session, name)
    data = service.catalogue(request.app.state.settings, name, version, detail=True)
    return {"title": dataset.title, "description": dataset.description, **data}


def _datasets_extras(data: list[dict[str, Any]]) -> dict[str, Any]:
    """What the datasets page adds to its data: forms on each, texts in the reader's language."""
    return {
        "rows": [(d, True) for d in data],
        "translate_problem": messages.translate,
        "when": lambda iso: spelled_date(dt.datetime.fromisoformat(iso)),
    }


@twin(
    api.router,
    router,
    "/datasets",
    template="warehouse/datasets.html",
    summary="Datasets and their versions (data stewards)",
    context=_datasets_extras,
)
def datasets(
    request: Request,
    actor: Actor = steward("dataset.ingest", dataset_in_path=False),
    session: Session = db_session,
) -> list[dict[str, Any]]:
    settings = request.app.state.settings
    return [service.describe(d) for d in service.stewarded_datasets(session, settings, actor)]


@page(
    router,
    "/datasets/upload",
    no_twin="a form; its API twin is POST /api/v1/datasets/{name}/upload",
)
def upload_form(
    request: Request,
    dataset: str = "",
    actor: Actor = steward("dataset.ingest", dataset_in_path=False),
):
    return render(request, "warehouse/upload.html", {"dataset": dataset})


def _upload_error(error: CampusError, limit: int) -> str:
    """The refusal in the page's language (the size cap's message holds a number)."""
    if error.code == "too_large":
        return too_large_text(limit, upload=True)
    return _(error.message)


@router.post("/datasets/upload", include_in_schema=False)
async def upload_submit(
    request: Request, actor: Actor = steward("dataset.ingest", dataset_in_path=False)
):
    settings = request.app.state.settings
    form = await request.form()
    name = str(form.get("dataset", "")).strip()
    on_error = "skip" if form.get("on_error") == "skip" else "abort"
    strict = form.get("strict") == "on"
    incremental = form.get("incremental") == "on"
    upload = form.get("file")
    context = {"dataset": name}
    path = None
    try:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise CampusError(_("Choose a file to upload."), code="no_file", where="file")
        service.check_name(name)
        base_version = service.incremental_base(settings, name) if incremental else None
        label = uploads.clean_filename(upload.filename)
        uploads.check_declared(settings, request.headers.get("content-length"))
        path = await uploads.receive_file(settings, upload, label)
        report = await run_in_threadpool(
            service.ingest,
            request.app.state.db,
            settings,
            actor,
            name,
            [path],
            labels=[label],
            on_error=on_error,
            strict=strict,
            base_version=base_version,
        )
    except CampusError as error:
        return render(
            request,
            "warehouse/upload.html",
            {**context, "error": _upload_error(error, settings.max_upload_bytes)},
            status=error.status,
        )
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    status = 201 if report.status == "published" else 422
    return render(
        request,
        "warehouse/report.html",
        {"report": report, "translate_problem": messages.translate},
        status=status,
    )


@router.post("/datasets/{name}/versions/{version}/drop", include_in_schema=False)
def drop_submit(
    name: str,
    version: str,
    request: Request,
    actor: Actor = steward("dataset.manage"),
    session: Session = db_session,
):
    service.drop(session, request.app.state.settings, actor, name, version)
    return RedirectResponse("/datasets", status_code=303)


class SettingsForm(BaseModel):
    """The settings form's fields: flat, read into the API's `DatasetSettings`."""

    error_tolerance: int | None = Field(None, ge=0, le=1_000_000_000)
    base_url: str = ""
    client_id: str = ""
    key_ref: str = ""
    group: str = ""
    types: str = ""
    every: str = ""
    daily_at: str = ""
    timezone: str = ""
    every_hours: str = ""

    def settings(self) -> api.DatasetSettings:
        """The same settings as the API takes them (no server address: none stored)."""
        source = None
        if self.base_url.strip():
            source = {
                "base_url": self.base_url.strip(),
                "client_id": self.client_id.strip(),
                "key_ref": self.key_ref.strip(),
                "group": self.group,
                "types": self.types,
                "schedule": self.schedule(),
            }
        return api.DatasetSettings(
            error_tolerance=self.error_tolerance or 0,
            pull_source=source,
            forget_pull_source=source is None,
        )

    def schedule(self) -> dict[str, Any] | None:
        """The schedule as the API takes it: `every` is none, daily or hours."""
        if self.every == "daily":
            return {
                "daily_at": self.daily_at.strip(),
                "timezone": self.timezone.strip() or "Europe/Paris",
            }
        if self.every == "hours":
            hours = self.every_hours.strip()
            return {"every_hours": int(hours) if hours.isdigit() else hours}
        return None


@form_route(
    router,
    "/datasets/{name}/settings",
    model=SettingsForm,
    page=datasets,
)
def settings_submit(
    name: str,
    body: SettingsForm,
    actor: Actor = steward("dataset.manage"),
    session: Session = db_session,
) -> str:
    """The dataset's error tolerance and Bulk Data source with its schedule (twin: PUT
    .../settings, the same function). Written `def`: the writes, and the check of the
    server's address (a name lookup), run on the thread pool."""
    api.apply_settings(session, actor, name, body.settings())
    return "/datasets"


class PullForm(BaseModel):
    """The pull form: what to do with invalid resources (as the API's `on_error`)."""

    on_error: Literal["skip", "abort"] = "abort"


@form_route(
    router,
    "/datasets/{name}/pull",
    model=PullForm,
    page=datasets,
)
def pull_submit(
    name: str,
    body: PullForm,
    request: Request,
    actor: Actor = steward("dataset.ingest"),
    session: Session = db_session,
) -> Response:
    """Pull from the stored server now (twin: POST /api/v1/datasets/{name}/pull), on the
    thread pool; the pull's report is the answer."""
    from campus.warehouse.bulk.pull import pull_stored

    db, settings = request.app.state.db, request.app.state.settings
    report = pull_stored(db, settings, actor, name, body.on_error, None)
    return render(
        request,
        "warehouse/report.html",
        {"report": report, "translate_problem": messages.translate},
        status={"published": 201, "unchanged": 200}.get(report.status, 422),
    )
