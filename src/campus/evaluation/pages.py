"""The benchmarks, each leaderboard and a submission's status: pages and their JSON twins,
each page rendering what its twin's data function returns."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.errors import BadRequest
from campus.evaluation import api, sandbox, service
from campus.evaluation.definition import MAX_MODEL_BYTES
from campus.i18n import N_
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/benchmarks",
    template="evaluation/benchmarks.html",
    summary="Every benchmark (definitions are public)",
)
def benchmarks(
    actor: Actor = allow("public.read"), session: Session = db_session
) -> list[dict[str, Any]]:
    return [service.benchmark_public(b) for b in service.list_benchmarks(session)]


@twin(
    api.router,
    router,
    "/benchmarks/{benchmark_id}",
    template="evaluation/leaderboard.html",
    summary="A benchmark and its leaderboard",
)
def leaderboard(
    benchmark_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return service.leaderboard(session, service.get_benchmark(session, benchmark_id))


@twin(
    api.router,
    router,
    "/submissions/{submission_id}",
    template="evaluation/submission.html",
    summary="A submission as this account may see it",
    context=lambda data: {"error_shown": sandbox.shown(data.get("error") or "")},
)
def submission(
    submission_id: str,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict[str, Any]:
    return api.submission_view(session, actor, submission_id, request.app.state.settings)


class SubmissionForm(BaseModel):
    """The submission form: the API's fields (`api.SubmissionIn`), with the ONNX file
    uploaded instead of written in base64 and the model card's fields one by one."""

    file: Any = Field(default=None, description="The ONNX file (an upload)")
    family: str = Field(max_length=80)
    threshold: float
    output: str | None = Field(default=None, max_length=200)
    card_name: str = Field(default="", max_length=2000)
    card_version: str = Field(default="", max_length=2000)
    card_intended_use: str = Field(default="", max_length=2000)
    card_training_data: str = Field(default="", max_length=2000)
    card_regulatory_status: str = Field(default="", max_length=2000)
    federated: str = Field(default="", max_length=64)

    @field_validator("threshold", mode="before")
    @classmethod
    def _decimal_comma(cls, value: Any) -> Any:
        return value.strip().replace(",", ".") if isinstance(value, str) else value

    def card(self) -> dict[str, str]:
        return {field: getattr(self, f"card_{field}") for field in service.CARD_FIELDS}

    def model_bytes(self) -> bytes:
        """The uploaded file, read to one byte past the largest model any benchmark takes
        (the model check then names the benchmark's own limit)."""
        upload = getattr(self.file, "file", None)
        data = upload.read(MAX_MODEL_BYTES + 1) if upload is not None else b""
        if not data:
            raise BadRequest(N_("choose the model's ONNX file"), where="file")
        return data


def _submit_context(session: Session, benchmark_id: str, values: dict | None = None) -> dict:
    row = service.get_benchmark(session, benchmark_id)
    return {
        "benchmark": service.benchmark_public(row),
        "federated": service.federated_choices(session, row),
        "values": values or {},
    }


@page(
    router,
    "/benchmarks/{benchmark_id}/submit",
    no_twin="a form; its API twin is POST /api/v1/benchmarks/{benchmark_id}/submissions",
)
def submit_page(
    request: Request,
    benchmark_id: str,
    actor: Actor = allow("models.submit"),
    session: Session = db_session,
):
    return render(request, "evaluation/submit.html", _submit_context(session, benchmark_id))


@form_route(
    router,
    "/benchmarks/{benchmark_id}/submit",
    model=SubmissionForm,
    template="evaluation/submit.html",
    context=lambda session, benchmark_id, values: _submit_context(session, benchmark_id, values),
)
def submit_form(
    request: Request,
    benchmark_id: str,
    body: SubmissionForm,
    actor: Actor = allow("models.submit"),
    session: Session = db_session,
) -> str:
    row = service.submit(
        session,
        request.app.state.settings,
        actor,
        service.get_benchmark(session, benchmark_id),
        model=body.model_bytes(),
        card=body.card(),
        family=body.family,
        threshold=body.threshold,
        output=body.output,
        federated=body.federated or None,
    )
    return f"/submissions/{row.id}"
