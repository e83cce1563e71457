"""JSON routes of the warehouse: datasets and versions, streamed upload, dummy twin (the
catalogue and the datasets list are twins of their pages, in `pages`)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import unquote

import pyarrow.parquet as pq
from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.errors import BadRequest, NotFound
from campus.warehouse import layout, service, uploads
from campus.warehouse.bulk.pull import pull_stored
from campus.web.deps import allow, db_session

router = APIRouter(tags=["warehouse"])


def _owner_of_named_dataset(request: Request, session: Session, actor: Actor) -> str:
    dataset = service.get_dataset(session, str(request.path_params.get("name", "")))
    return dataset.owner_org if dataset is not None else ""


def _any_stewarded_organisation(request: Request, session: Session, actor: Actor) -> str:
    owners = sorted(actor.scope_ids(Role.DATA_STEWARD, "organisation"))
    return owners[0] if owners else ""


def steward(permission: str, *, dataset_in_path: bool = True) -> Any:
    """`allow(permission)` for data stewards: a global data steward, or one scoped to the
    organisation that owns the dataset named by the `name` path parameter (`service.may_steward`
    says the same). A route that names no dataset (`dataset_in_path=False`: a list, a form)
    lets a steward of any organisation in; the service then checks each dataset."""
    owner = _owner_of_named_dataset if dataset_in_path else _any_stewarded_organisation
    return allow(permission, scope=("organisation", owner))


@router.get("/datasets/{name}", summary="A dataset, its policy and versions")
def get_dataset(
    name: str,
    request: Request,
    actor: Actor = steward("dataset.ingest"),
    session: Session = db_session,
):
    dataset = service.require_dataset(session, name)
    service.sync(session, request.app.state.settings, dataset)
    return service.describe(dataset)


@router.get("/datasets/{name}/versions/{version}", summary="A version's manifest")
def get_version(
    name: str,
    version: str,
    request: Request,
    actor: Actor = steward("dataset.ingest"),
    session: Session = db_session,
):
    service.require_dataset(session, name)
    return service.manifest(request.app.state.settings, name, version)


@router.delete(
    "/datasets/{name}/versions/{version}", status_code=204, summary="Drop a dataset version"
)
def drop_version(
    name: str,
    version: str,
    request: Request,
    actor: Actor = steward("dataset.manage"),
    session: Session = db_session,
):
    service.drop(session, request.app.state.settings, actor, name, version)
    return Response(status_code=204)


@router.post(
    "/datasets/{name}/upload",
    summary="Stream one FHIR file (Bundle JSON or Bulk NDJSON, optionally .gz) into a new version",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    name: str,
    request: Request,
    x_filename: str | None = Header(
        None,
        description="the file's name, percent-encoded UTF-8, e.g. Patient.ndjson.gz or "
        "bundle.json: a header, since file names can hold patient names and URLs reach "
        "access logs",
    ),
    on_error: Literal["skip", "abort"] = "abort",
    strict: bool = False,
    incremental: bool = Query(
        False,
        description="build on the dataset's latest version: the file's resources upserted "
        "by type and id onto it (a file of changes)",
    ),
    actor: Actor = steward("dataset.ingest"),
):
    settings = request.app.state.settings
    if not x_filename:
        raise BadRequest(
            "name the file in the X-Filename header (percent-encoded UTF-8), never in the URL: "
            "file names can hold patient names",
            code="bad_filename",
            where="X-Filename",
        )
    # Everything that can be refused is, before the body is read.
    service.check_name(name)
    base_version = service.incremental_base(settings, name) if incremental else None
    label = uploads.clean_filename(unquote(x_filename))
    uploads.check_declared(settings, request.headers.get("content-length"))
    path = await uploads.receive(settings, request.stream(), label)
    try:
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
    finally:
        path.unlink(missing_ok=True)
    return _report_response(report)


class DatasetSettings(BaseModel):
    """What a steward sets on a dataset: the error tolerance and the Bulk Data source."""

    error_tolerance: int | None = Field(None, ge=0, le=1_000_000_000)
    pull_source: dict[str, Any] | None = None
    forget_pull_source: bool = False


@router.put("/datasets/{name}/settings", summary="Error tolerance and Bulk Data source")
def put_settings(
    name: str,
    body: DatasetSettings,
    request: Request,
    actor: Actor = steward("dataset.manage"),
    session: Session = db_session,
):
    apply_settings(session, actor, name, body)
    return service.describe(service.require_dataset(session, name))


def apply_settings(session: Session, actor: Actor, name: str, body: DatasetSettings) -> None:
    """A steward's settings, from the API or the datasets page's form."""
    if body.error_tolerance is not None:
        service.set_error_tolerance(session, actor, name, body.error_tolerance)
    if body.pull_source is not None or body.forget_pull_source:
        service.set_pull_source(session, actor, name, body.pull_source)


@router.post(
    "/datasets/{name}/pull",
    summary="Pull from the dataset's Bulk Data server into a new version",
    responses={
        201: {"description": "published"},
        422: {"description": "nothing published"},
        502: {"description": "the server failed"},
    },
)
async def pull(
    name: str,
    request: Request,
    on_error: Literal["skip", "abort"] = "abort",
    since: str | None = None,
    actor: Actor = steward("dataset.ingest"),
):
    db, settings = request.app.state.db, request.app.state.settings
    report = await run_in_threadpool(pull_stored, db, settings, actor, name, on_error, since)
    return _report_response(report)


def _report_response(report) -> JSONResponse:
    body = report.as_dict()
    if report.status == "unchanged":  # an incremental pull that found nothing new
        return JSONResponse(status_code=200, content=body)
    if report.status != "published":
        message = (
            f"nothing was published: {report.errors} resource(s) failed (on_error=abort, the "
            "default; on_error=skip publishes the others)"
            if report.status == "aborted"
            else "nothing was published: no resource could be landed"
        )
        return JSONResponse(
            status_code=422,
            content={
                "error": {"code": f"ingest_{report.status}", "message": message},
                "report": body,
            },
        )
    return JSONResponse(status_code=201, content=body)


@router.get("/datasets/{name}/dummy/{type_name}", summary="Rows of a version's dummy twin")
def dummy_rows(
    name: str,
    type_name: str,
    request: Request,
    version: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
):
    service.require_dataset(session, name)
    try:
        found = layout.resolve(request.app.state.settings.warehouse_path, name, version)
    except ValueError as error:
        raise NotFound(str(error), code="not_found", where="version") from None
    tables = found.tables("dummy")
    if type_name not in tables:
        raise NotFound(
            f"the dummy twin of {name} {found.version} has no {type_name} table "
            f"(it has: {', '.join(tables) or 'none'})",
            code="not_found",
            where="type_name",
        )
    table = pq.read_table(tables[type_name])
    rows = table.slice(offset, limit).to_pylist()
    return {
        "dataset": name,
        "version": found.version,
        "type": type_name,
        "total": table.num_rows,
        "rows": rows,
    }
