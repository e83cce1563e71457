"""The view editor: write or paste a ViewDefinition, validate it, see its SQL and a preview."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, Request

from campus.auth.actor import Actor
from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.views import service
from campus.views.sources import dataset_source
from campus.warehouse import layout
from campus.web.deps import allow
from campus.web.pages_registry import page
from campus.web.templating import render

router = APIRouter()


def _datasets(request: Request) -> list[str]:
    root = request.app.state.settings.warehouse_path
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and layout.DATASET_NAME.match(p.name) and layout.versions(root, p.name)
    )


def _context(request: Request, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "view_text": text,
        "examples": service.library(),
        "datasets": _datasets(request),
        **extra,
    }


@page(router, "/views", twin="/api/v1/views/library")
def editor(request: Request, example: str = "", actor: Actor = allow("dummy.use")):
    examples = service.library()
    chosen = examples.get(example) or examples["patient_demographics"]
    return render(request, "views/editor.html", _context(request, json.dumps(chosen, indent=2)))


@router.post("/views", include_in_schema=False)
def editor_submit(
    request: Request,
    view: str = Form("", max_length=service.MAX_VIEW_BYTES),
    dataset: str = Form(""),
    action: str = Form("validate"),
    dialect: str = Form("duckdb"),
    actor: Actor = allow("dummy.use"),
):
    extra: dict[str, Any] = {"dataset": dataset, "dialect": dialect}
    status = 200
    try:
        parsed = service.load_json(view)
        described = service.describe(parsed, "spark" if dialect == "spark" else "duckdb")
        extra["described"] = described
        if action == "preview":
            if not dataset:
                raise CampusError(_("Choose a dataset to preview the view on its dummy twin."))
            settings = request.app.state.settings
            source = dataset_source(settings.warehouse_path, dataset, None, dummy=True)
            extra["preview"] = service.preview(parsed, source)
            extra["source"] = source.label
    except CampusError as error:
        extra["error"] = _(error.message)
        extra["error_where"] = error.where
        status = error.status
    return render(request, "views/editor.html", _context(request, view, **extra), status=status)
