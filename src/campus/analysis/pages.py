"""HTML pages: try an analysis on dummy data, submit jobs, follow them, check outputs.

The job page and the checks list are twins (`campus.web.twins.twin`): their data is what
`campus.analysis.outward` gives the reader, the same as the JSON. The page adds only how to
read it: translated labels and disclosure notes, French dates, and charts where a suppressed
cell is drawn as "supprimé", never as a zero bar.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session

from campus import i18n
from campus.analysis import api, outward, service, sources
from campus.auth.actor import Actor
from campus.errors import CampusError
from campus.governance import service as governance
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import format_number, render, spelled_date
from campus.web.twins import twin

router = APIRouter()

EXAMPLE = """title: Patients by sex
dataset: hopital-synthea
views:
  patients: {library: patient_demographics}
cohort:
  view: patients
outputs:
  - {type: counts, name: by_sex, group_by: [gender]}
"""

# Statuses while a worker may still change them: the page polls its status block then.
LIVE = ("queued", "running")
POLL_SECONDS = 3

# The disclosure notes the engine writes (campus.analysis.disclosure and results), as
# catalogue messages: stored results keep English notes, pages show them translated.
NOTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (
            r"(?P<count>\d+) cell\(s\) under (?P<threshold>\d+) suppressed",
            N_("%(count)s cell(s) under %(threshold)s suppressed"),
        ),
        (
            r"(?P<count>\d+) more cell\(s\) suppressed so that none can be recomputed from totals",
            N_("%(count)s more cell(s) suppressed so that none can be recomputed from totals"),
        ),
        (
            r"counts rounded to the nearest multiple of (?P<base>\d+)",
            N_("counts rounded to the nearest multiple of %(base)s"),
        ),
        (
            r"cumulative counts rounded to multiples of (?P<base>\d+)",
            N_("cumulative counts rounded to multiples of %(base)s"),
        ),
        (
            r"each quantile is the mean of the (?P<k>\d+) values around it; "
            r"min and max never shown",
            N_("each quantile is the mean of the %(k)s values around it; min and max never shown"),
        ),
        (
            r"(?P<count>\d+) group\(s\) under (?P<threshold>\d+) values hidden",
            N_("%(count)s group(s) under %(threshold)s values hidden"),
        ),
        (
            r"quantiles whose (?P<k>\d+) values would overlap another's withheld",
            N_("quantiles whose %(k)s values would overlap another's withheld"),
        ),
        (
            r"a group under (?P<threshold>\d+) people hidden",
            N_("a group under %(threshold)s people hidden"),
        ),
        (
            r"curve cut where fewer than the threshold remain at risk",
            N_("curve cut where fewer than the threshold remain at risk"),
        ),
        (
            r"one person per group: withheld as a row-level table; group by a coarser column "
            r"or band it \(width, part\)",
            N_(
                "one person per group: withheld as a row-level table; group by a coarser "
                "column or band it (width, part)"
            ),
        ),
        (
            r"the cohort has fewer than (?P<threshold>\d+) people: nothing is shown",
            N_("the cohort has fewer than %(threshold)s people: nothing is shown"),
        ),
    )
)

# Words the engine writes in tables: output kinds, the columns it adds, coded values.
WORDS = {
    "counts": N_("counts"),
    "crosstab": N_("cross-tabulation"),
    "histogram": N_("histogram"),
    "bin": N_("bin"),
    "rate": N_("rate"),
    "quantiles": N_("quantiles"),
    "time_to_event": N_("time to event"),
    "count": N_("count"),
    "events": N_("events"),
    "day": N_("day"),
    "at_risk": N_("at risk"),
    "survival": N_("survival"),
    "female": N_("female"),
    "male": N_("male"),
    "other": N_("other"),
    "unknown": N_("unknown"),
}


def note_text(note: str) -> str:
    """A disclosure note in the reader's language (an unknown note is shown as written)."""
    for pattern, message in NOTES:
        found = pattern.fullmatch(note)
        if found:
            return _(message) % found.groupdict()
    return note


def word(value: Any) -> Any:
    """A word the engine writes, translated; any other value unchanged."""
    if isinstance(value, str) and value in WORDS:
        return _(WORDS[value])
    return value


def when(value: str | None) -> str:
    """An ISO date and time as the reader's language writes it ("8 déc. 2026 à 14:00")."""
    if not value:
        return ""
    try:
        return spelled_date(dt.datetime.fromisoformat(value))
    except ValueError:
        return value


def cell(value: Any) -> str:
    """A published value: numbers with the reader's decimal mark (up to four decimals, as the
    engine rounds rates and survival), lists joined, the engine's words translated."""
    if isinstance(value, (list, tuple)):
        return " · ".join(cell(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(word(value))
    if isinstance(value, int) or float(value).is_integer():
        return format_number(value)
    text = f"{value:,.4f}".rstrip("0")
    if i18n.current_language.get() == "fr":
        return text.replace(",", "\u202f").replace(".", ",")
    return text


def notes_text(notes: list[str]) -> str:
    """A table's disclosure notes, translated, joined as the reader's language punctuates."""
    joiner = "\u202f; " if i18n.current_language.get() == "fr" else "; "
    return joiner.join(note_text(n) for n in notes)


def _label(values: list[Any]) -> str:
    return " · ".join(str(word(v)) for v in values)


def charts(result: dict | None) -> list[dict]:
    """Chart specs for analysis.js: bars of counts and rates, lines of survival curves.

    A suppressed cell has no bar: its value is null and its index is listed in
    `suppressed`, which the script labels "supprimé" on the chart.
    """
    if not result:
        return []
    specs = []
    for table in result.get("tables", []):
        columns, rows = table["columns"], table["rows"]
        kind = table["kind"]
        if kind in ("counts", "histogram", "rate") and len(columns) >= 2:
            dims = len(columns) - (3 if kind == "rate" else 1)
            if dims != 1:
                continue  # one bar per group: a one-dimension table only
            inner = [r for r in rows if r[0] != "*"]
            values = [r[-1] for r in inner]
            specs.append(
                {
                    "type": "bar",
                    "title": table["name"],
                    "labels": [_label([r[0]]) for r in inner],
                    "values": values,
                    "suppressed": [i for i, v in enumerate(values) if v is None],
                    "suppressed_label": _("suppressed"),
                }
            )
        elif kind == "time_to_event":
            groups: dict[str, list] = {}
            width = len(columns) - 4
            for r in rows:
                groups.setdefault(_label(r[:width]) or _("all"), []).append(
                    {"x": r[width], "y": r[-1]}
                )
            specs.append(
                {"type": "line", "title": table["name"], "series": groups, "x_label": _("days")}
            )
    return specs


def reading_aids() -> dict[str, Any]:
    """What the tables template uses to write the engine's words in the reader's language."""
    return {"notes_text": notes_text, "word": word, "cell": cell, "when": when}


@page(router, "/analysis", no_twin="a form; its API twin is POST /api/v1/analyses/dummy")
def dummy_form(request: Request, actor: Actor = allow("dummy.use")):
    return render(
        request,
        "analysis/dummy.html",
        {"definition": EXAMPLE, "library": sources.library_names(), **reading_aids()},
    )


@router.post("/analysis", include_in_schema=False)
def dummy_run(
    request: Request,
    definition: str = Form(..., max_length=256 * 1024),
    actor: Actor = allow("dummy.use"),
    session: Session = db_session,
):
    context = {"definition": definition, "library": sources.library_names(), **reading_aids()}
    try:
        result = service.run_dummy(request.app.state.settings, definition, session)
    except CampusError as error:
        where = f" ({error.where})" if error.where else ""
        return render(
            request,
            "analysis/dummy.html",
            context | {"error": _(error.message) + where},
            status=error.status,
        )
    return render(
        request,
        "analysis/dummy.html",
        context | {"result": result, "charts_json": json.dumps(charts(result))},
    )


def _submission(session: Session, project_id: str, values: dict | None = None) -> dict:
    """The job form again: the project's usable approvals and what was typed."""
    approvals = [
        a
        for a in governance.project_approvals(session, project_id)
        if governance.approval_state(a) == "active"
    ]
    return {"project_id": project_id, "approvals": approvals, "values": values or {}}


@form_route(
    router,
    "/projects/{project_id}/jobs",
    model=api.JobIn,
    template="analysis/job_new.html",
    context=lambda session, project_id, values: _submission(session, project_id, values),
)
def job_submit(
    request: Request,
    project_id: str,
    body: api.JobIn,
    actor: Actor = allow("jobs.run", scope=("project", "project_id")),
    session: Session = db_session,
) -> str:
    job = api.submit(request, session, actor, project_id, body)
    return f"/jobs/{job.id}"


def _job_extras(actor: Actor, data: dict) -> dict[str, Any]:
    """Page-only extras of a job: may the reader check it, its charts, the polling."""
    released = data["release_status"] == "released"
    may_check = (
        actor.has_role("output_checker")
        and actor.account_id != data.get("author")
        and data["release_status"] == "pending"
        and not any(c["checker"] == actor.account_id for c in data.get("checks", []))
    )
    return {
        "j": data,
        "may_check": may_check,
        "live": data["status"] in LIVE,
        "poll_seconds": POLL_SECONDS,
        "charts_json": json.dumps(charts(data.get("outputs")) if released else []),
        **reading_aids(),
    }


@twin(
    api.router,
    router,
    "/jobs/{job_id}",
    template="analysis/job.html",
    summary="A job: definition, status, logs, checks (and outputs)",
    context=lambda actor, data: _job_extras(actor, data),
)
def job(
    job_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return api.job_view(session, actor, service.get_job(session, job_id))


def _job_page(session: Session, actor: Actor, job_id: str) -> dict[str, Any]:
    """The job page's whole context (to show it again with a refused check's error)."""
    data = job(job_id, actor=actor, session=session)
    return {"data": data, **_job_extras(actor, data)}


@form_route(
    router,
    "/jobs/{job_id}/checks",
    model=api.CheckIn,
    template="analysis/job.html",
    context=lambda session, actor, job_id: _job_page(session, actor, job_id),
)
def job_check(
    request: Request,
    job_id: str,
    body: api.CheckIn,
    actor: Actor = allow("outputs.check"),
    session: Session = db_session,
) -> str:
    api.check(request, session, actor, job_id, body)
    return f"/jobs/{job_id}"


@twin(
    api.router,
    router,
    "/checks",
    template="analysis/checks.html",
    summary="Job outputs waiting for one's output check",
    context=lambda: {"when": when},
)
def checks(actor: Actor = allow("outputs.check"), session: Session = db_session) -> dict:
    return {
        "jobs": [
            outward.public(j) | {"project_id": j.project_id}
            for j in service.jobs_to_check(session, actor)
        ]
    }
