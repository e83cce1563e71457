"""JSON routes of views: validate, compile (show the SQL), preview on a dummy twin, examples."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from campus.auth.actor import Actor
from campus.errors import BadRequest, NotFound
from campus.views import service
from campus.views.sources import dataset_source
from campus.web.deps import allow, db_session

router = APIRouter(prefix="/views", tags=["views"])


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = service.load_json(raw, name="the request body")
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object", where="$")
    return data


def _view_of(body: dict[str, Any]) -> Any:
    """The view: `{"view": {...}, ...}`, or the ViewDefinition itself as the body."""
    return body.get("view", body)


@router.post("/validate", summary="Check a ViewDefinition and list its columns")
async def api_validate(request: Request, strict: bool = False, actor: Actor = allow("dummy.use")):
    described = service.describe(_view_of(await _body(request)), strict=strict)
    keys = ("resource", "name", "columns", "warnings")
    return {"valid": True, **{k: described[k] for k in keys}}


@router.post("/compile", summary="Compile a ViewDefinition to SQL (duckdb or spark)")
async def api_compile(
    request: Request,
    dialect: str = "duckdb",
    strict: bool = False,
    actor: Actor = allow("dummy.use"),
):
    body = await _body(request)
    table = body.get("table") if "view" in body else None
    return service.describe(_view_of(body), dialect, table, strict=strict)


@router.post("/preview", summary="Run a ViewDefinition on a dataset's dummy twin (first rows)")
async def api_preview(request: Request, strict: bool = False, actor: Actor = allow("dummy.use")):
    body = await _body(request)
    if "view" not in body or not isinstance(body.get("dataset"), str):
        raise BadRequest(
            'send {"view": {...}, "dataset": "name", "version": "v0001" (optional)}',
            where="$",
        )
    limit = body.get("limit", service.PREVIEW_ROWS)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise BadRequest("limit must be an integer from 1 to 1000", where="$.limit")
    settings = request.app.state.settings

    def run() -> dict[str, Any]:
        source = dataset_source(
            settings.warehouse_path, body["dataset"], body.get("version"), dummy=True
        )
        return {
            "dataset": source.label,
            **service.preview(body["view"], source, limit=limit, strict=strict),
        }

    # The body is read on the loop; the query runs in DuckDB, off the loop.
    return await run_in_threadpool(run)


@router.get("/library", summary="The example views shipped with Campus")
def api_library(actor: Actor = allow("dummy.use")):
    return [
        {
            "name": name,
            "resource": view["resource"],
            "title": service.library_title(name, view),
            "view": view,
        }
        for name, view in service.library().items()
    ]


@router.get("/library/{name}", summary="One example view")
def api_library_view(name: str, actor: Actor = allow("dummy.use")):
    views = service.library()
    if name not in views:
        raise NotFound(f"no example view {name!r}", code="not_found")
    return views[name]


@router.post(
    "/saved",
    status_code=201,
    summary="Save a view under a name: its key names it in access requests and analyses",
)
async def api_save(
    request: Request, actor: Actor = allow("dummy.use"), session: Session = db_session
):
    body = await _body(request)
    if "view" not in body or not isinstance(body.get("name"), str):
        raise BadRequest('send {"name": "...", "view": {...}}', where="$")

    def save() -> dict[str, Any]:  # a write: off the event loop
        return service.saved_out(service.save_view(session, actor, body["name"], body["view"]))

    return await run_in_threadpool(save)
