"""The view editor: write or paste a ViewDefinition, validate it, see its SQL, preview it on a
dummy twin, and save it under a name to ask for it in an access request.

`/views` and `/views/saved/{key}` are twins (`campus.web.twins.twin`): their data is their
JSON under /api/v1/views.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.views import api, service
from campus.views.sources import dataset_source
from campus.warehouse import layout
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.templating import render, spelled_date
from campus.web.twins import twin

router = APIRouter()

DEFAULT_EXAMPLE = "patient_demographics"


def _datasets(request: Request) -> list[str]:
    root = request.app.state.settings.warehouse_path
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and layout.DATASET_NAME.match(p.name) and layout.versions(root, p.name)
    )


def _when(iso: str) -> str:
    import datetime as dt

    return spelled_date(dt.datetime.fromisoformat(iso))


def _start(session: Session, example: str) -> dict[str, Any]:
    """The view the editor opens with: a library view, or a saved view by its key."""
    if service.is_saved_key(example):
        saved = service.saved_view(session, example)
        return {"name": saved.key, "title": saved.title, "view": saved.definition}
    examples = service.library()
    name = example if example in examples else DEFAULT_EXAMPLE
    view = examples[name]
    return {"name": name, "title": service.library_title(name, view), "view": view}


def _editor_extras(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "view_text": json.dumps(data["start"]["view"], indent=2, ensure_ascii=False),
        "when": _when,
    }


@twin(
    api.router,
    router,
    "/views",
    api_path="",
    template="views/editor.html",
    summary="The view editor's data: library views, datasets with a dummy twin, one's saved "
    "views, and the view it opens with",
    context=lambda data: _editor_extras(data),
)
def editor(
    request: Request,
    example: str = "",
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
) -> dict[str, Any]:
    return {
        "library": [
            {"name": name, "title": service.library_title(name, view), "resource": view["resource"]}
            for name, view in service.library().items()
        ],
        "datasets": _datasets(request),
        "saved": [service.saved_out(s) for s in service.saved_views(session, actor.account_id)],
        "start": _start(session, example),
    }


class EditorForm(BaseModel):
    """The editor's form: the view's text, what to do with it, where to preview it."""

    view: str = Field("", max_length=service.MAX_VIEW_BYTES)
    dataset: str = ""
    action: Literal["validate", "preview", "save"] = "validate"
    dialect: Literal["duckdb", "spark"] = "duckdb"
    name: str = Field("", max_length=500)


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """What was typed into the editor, shown again around a refusal."""
    typed = {k: values.get(k, "") for k in ("dataset", "dialect", "name")}
    return {"view_text": values.get("view", ""), **typed}


@form_route(router, "/views", model=EditorForm, page=editor, context=_typed)
def editor_submit(
    request: Request,
    body: EditorForm,
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
) -> str | Response:
    """Save a view (then its page), or show the editor again with the view checked, its SQL
    and, for a preview, its first rows on a dataset's dummy twin."""
    parsed = service.load_json(body.view)
    if body.action == "save":
        return f"/views/saved/{service.save_view(session, actor, body.name, parsed).key}"
    extra: dict[str, Any] = {"dataset": body.dataset, "dialect": body.dialect, "name": body.name}
    extra["described"] = service.describe(parsed, body.dialect)
    if body.action == "preview":
        if not body.dataset:
            raise CampusError(
                _("Choose a dataset to preview the view on its dummy twin."), where="dataset"
            )
        settings = request.app.state.settings
        source = dataset_source(settings.warehouse_path, body.dataset, None, dummy=True)
        extra["preview"] = service.preview(parsed, source)
        extra["source"] = source.label
    data = editor(request, actor=actor, session=session)
    context = {"data": data, **_editor_extras(data), "view_text": body.view, **extra}
    return render(request, "views/editor.html", context)


@twin(
    api.router,
    router,
    "/views/saved/{key}",
    api_path="/saved/{key}",
    template="views/saved.html",
    summary="A saved view: its name, key and definition (read by anyone who has its key)",
    context=lambda data: {
        "when": _when,
        "view_text": json.dumps(data["view"], indent=2, ensure_ascii=False),
    },
)
def saved(
    key: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return service.saved_out(service.saved_view(session, key))
