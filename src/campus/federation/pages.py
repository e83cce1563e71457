"""The federation overview (nodes, federated datasets, jobs) and one federated job: pages
and their JSON twins, each page rendering what its twin's data function returns."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from campus import i18n
from campus.analysis import reading as analysis_reading
from campus.auth.actor import Actor
from campus.federation import api, regression
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin

router = APIRouter()


@twin(
    api.router,
    router,
    "/federation",
    template="federation/index.html",
    summary="Nodes, federated datasets and the federated jobs you follow",
)
def federation(
    actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return api.overview(session, actor)


@twin(
    api.router,
    router,
    "/federation/datasets/{name}",
    template="federation/dataset.html",
    summary="A federated dataset: each node's aggregate catalogue and dummy twin",
)
def federated_dataset(
    name: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return api.dataset(name, session)


# The words and notes pooling adds to the engine's (campus.analysis.reading), translated.
WORDS = {
    "bin": N_("bin"),
    "summary": N_("mean and standard deviation"),
    "mean": N_("mean"),
    "sd": N_("standard deviation"),
    "logistic_regression": N_("logistic regression"),
    "term": N_("term"),
    "coefficient": N_("coefficient"),
    "standard_error": N_("standard error"),
    "ci_low": N_("95% CI, low"),
    "ci_high": N_("95% CI, high"),
    "odds_ratio": N_("odds ratio"),
    "(intercept)": N_("(intercept)"),
}
NOTES = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (
            r"withheld: the cohort is under the threshold at one node or more, or pooled",
            N_("withheld: the cohort is under the threshold at one node or more, or pooled"),
        ),
        (
            r"sums of the nodes' published \(rounded\) counts",
            N_("sums of the nodes' published (rounded) counts"),
        ),
        (
            r"(?P<count>\d+) cell\(s\) suppressed at a node stay suppressed",
            N_("%(count)s cell(s) suppressed at a node stay suppressed"),
        ),
        (
            r"(?P<count>\d+) more cell\(s\) suppressed after pooling",
            N_("%(count)s more cell(s) suppressed after pooling"),
        ),
        (
            r"mean and standard deviation from the sums of every node .* clamped to "
            r"\[(?P<low>[^,]+), (?P<high>[^\]]+)\].*",
            N_(
                "mean and standard deviation from the sums of every node (n, Σx, Σx²), each "
                "value clamped to [%(low)s, %(high)s]; the mean rounded to a step of at least "
                "(high - low) / n and the standard deviation to (high - low) / √n, so that no "
                "one person's value can be read from two jobs; counts rounded"
            ),
        ),
        (
            r"(?P<count>\d+) group\(s\) under (?P<threshold>\d+) values, at a node or pooled",
            N_("%(count)s group(s) under %(threshold)s values, at a node or pooled"),
        ),
        (
            r"Kaplan-Meier from the risk sets \(at risk, events\) summed across nodes",
            N_("Kaplan-Meier from the risk sets (at risk, events) summed across nodes"),
        ),
        (
            r"groups missing at a node \(absent or under its threshold\) not pooled",
            N_("groups missing at a node (absent or under its threshold) not pooled"),
        ),
        (
            r"a curve stops where a node's stops \(its risk set under threshold\)",
            N_("a curve stops where a node's stops (its risk set under threshold)"),
        ),
        (
            r"logistic regression by Newton-Raphson over the nodes' scores and information "
            r"matrices, converged in (?P<iterations>\d+) iteration\(s\); every node had at "
            r"least (?P<threshold>\d+) rows, events, non-events and rows of each level of a "
            r"binary covariate; n rounded",
            N_(
                "logistic regression by Newton-Raphson over the nodes' scores and information "
                "matrices, converged in %(iterations)s iteration(s); every node had at least "
                "%(threshold)s rows, events, non-events and rows of each level of a binary "
                "covariate; n rounded"
            ),
        ),
        (re.escape(regression.WITHHELD), regression.WITHHELD),
        (re.escape(regression.SINGULAR), regression.SINGULAR),
        (re.escape(regression.DIVERGED), regression.DIVERGED),
        (
            r"approximate: read from the pooled histogram.*",
            N_(
                "approximate: read from the pooled histogram by linear interpolation within a "
                "bin (at most one bin width off, plus the counts' rounding); none where the "
                "quantile falls in an open first or last bin or a bin is suppressed"
            ),
        ),
    )
)


def word(value: Any) -> Any:
    if isinstance(value, str) and value in WORDS:
        return _(WORDS[value])
    return analysis_reading.word(value)


def cell(value: Any) -> str:
    """A published value; a quantile that cannot be read from the histogram is a dash."""
    if isinstance(value, (list, tuple)):
        return " · ".join("—" if v is None else cell(v) for v in value)
    return analysis_reading.cell(value)


def notes_text(notes: list[str]) -> str:
    """Pooling's notes and the engine's, in the reader's language."""
    out = []
    for note in notes:
        for pattern, message in NOTES:
            found = pattern.fullmatch(note)
            if found:
                out.append(_(message) % found.groupdict())
                break
        else:
            out.append(analysis_reading.note_text(note))
    return ("\u202f; " if i18n.current_language.get() == "fr" else "; ").join(out)


@twin(
    api.router,
    router,
    "/federated-jobs/{job_id}",
    template="federation/job.html",
    summary="A federated job as you may see it",
    context=lambda: (
        analysis_reading.reading_aids() | {"word": word, "cell": cell, "notes_text": notes_text}
    ),
)
def federated_job(
    job_id: str,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict[str, Any]:
    return api.job(job_id, request, actor, session)


@twin(
    api.router,
    router,
    "/approvals/{approval_id}/federated-partial",
    template="federation/partial.html",
    summary="Whether the approval's federated jobs may complete without every node",
)
def partial_page(
    approval_id: str,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
) -> dict[str, Any]:
    return api.partial_setting(approval_id, actor, session)


@form_route(
    router, "/approvals/{approval_id}/federated-partial", model=api.PartialIn, page=partial_page
)
def partial_submit(
    body: api.PartialIn,
    approval_id: str,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
) -> str:
    from campus.federation import service

    service.allow_partial(session, actor, approval_id, body.allowed)
    return f"/approvals/{approval_id}/federated-partial?saved=1"
