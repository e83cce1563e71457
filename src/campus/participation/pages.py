"""HTML pages of consultations: list, detail, proposals and comments, supports, moderation,
results with charts, the charter and citizen sign-up. Pages with data are twins
(`campus.web.twins.twin`, their JSON under /api/v1); forms go through
`campus.web.forms.form_route`, which rolls a refusal back and shows the form again."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import BadRequest, CampusError
from campus.i18n import current_language
from campus.i18n import gettext as _
from campus.participation import api, charter, data, moderation, results, service, signup, votes
from campus.participation.models import SUBJECT_TYPES
from campus.participation.moderation import DECISIONS
from campus.participation.phases import ORDER, PHASE_LABELS, Phase, phase_of
from campus.participation.results import ANSWER_STATUSES, STATUS_LABELS
from campus.participation.schemas import (
    AnswerIn,
    CommentIn,
    DecisionIn,
    ProposalIn,
    ReportIn,
    VerifyIn,
)
from campus.participation.service import STANCE_LABELS, STANCES, SUBJECT_LABELS
from campus.web.deps import SESSION_COOKIE, allow, db_session, set_session_cookies
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.redirects import safe_next
from campus.web.templating import PARIS, render
from campus.web.twins import twin

router = APIRouter()
CID = "/consultations/{consultation_id}"
PID = CID + "/proposals/{proposal_id}"
LABELS = {
    "phases": PHASE_LABELS,
    "statuses": STATUS_LABELS,
    "stances": STANCE_LABELS,
    "phase_order": ORDER,
    "subjects": SUBJECT_LABELS,
}


class NoFields(BaseModel):
    """A form with a button only."""


def _to_charter(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/participation/charter?next={quote(next_path)}", status_code=303)


def _proposal_url(consultation_id: str, proposal_id: str) -> str:
    return f"/consultations/{consultation_id}/proposals/{proposal_id}"


# --- consultations --------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/consultations",
    template="participation/list.html",
    summary="Consultations, newest first",
    context=lambda data: {**LABELS, "consultations": data},
)
def consultations(actor: Actor = allow("public.read"), session: Session = db_session) -> list:
    return data.consultations(session)


def _consultation_form(values: dict | None = None) -> dict:
    form = values or {"supports_per_person": 3, "report_threshold": 3}
    return {"form": form, "subject_types": SUBJECT_TYPES}


@page(router, "/consultations/new", no_twin="a form; its API twin is POST /api/v1/consultations")
def consultation_form(request: Request, actor: Actor = allow("consultation.manage")):
    return render(request, "participation/consultation_form.html", _consultation_form())


def _local_datetime(value: str, field: str) -> dt.datetime:
    """A `datetime-local` value, read as Europe/Paris time."""
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            _("{field}: give a date and time").format(field=field), code="invalid_date", where=field
        ) from None
    return naive.replace(tzinfo=PARIS) if naive.tzinfo is None else naive


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(
            _("{field} must be a whole number").format(field=field),
            code="invalid_number",
            where=field,
        ) from None


class ConsultationForm(BaseModel):
    """The staff form: the API's fields, with dates as `datetime-local` (Paris time) values."""

    title: str = Field("", max_length=2000)
    summary: str = Field("", max_length=40000)
    subject_type: str = Field("", max_length=40)
    subject_id: str = Field("", max_length=64)
    subject_title: str = Field("", max_length=1200)
    opens_at: str = Field("", max_length=40)
    contributions_at: str = Field("", max_length=40)
    voting_at: str = Field("", max_length=40)
    results_at: str = Field("", max_length=40)
    supports_per_person: str = Field("3", max_length=10)
    report_threshold: str = Field("3", max_length=10)

    def fields(self) -> service.ConsultationFields:
        dates = ("opens_at", "contributions_at", "voting_at", "results_at")
        numbers = ("supports_per_person", "report_threshold")
        return service.ConsultationFields(
            title=self.title,
            summary=self.summary,
            subject_type=self.subject_type,
            subject_id=self.subject_id,
            subject_title=self.subject_title,
            **{name: _local_datetime(getattr(self, name), name) for name in dates},
            **{name: _int(getattr(self, name), name) for name in numbers},
        )


@form_route(
    router,
    "/consultations/new",
    model=ConsultationForm,
    template="participation/consultation_form.html",
    context=_consultation_form,
)
def consultation_create(
    body: ConsultationForm,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
) -> str:
    consultation = service.create_consultation(session, actor, body.fields())
    return f"/consultations/{consultation.id}"


def _consultation_extras(data: dict) -> dict:
    return {**LABELS, **data, "notice": ""}


@twin(
    api.router,
    router,
    CID,
    template="participation/consultation.html",
    summary="A consultation with its proposals and one's supports",
    context=_consultation_extras,
)
def consultation(
    consultation_id: str,
    sort: str = "newest",
    status: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict:
    return data.consultation_detail(session, actor, consultation_id, sort[:20], status[:20])


def _consultation_again(session: Session, actor: Actor, consultation_id: str) -> dict:
    """The consultation's page again, with the refusal (form_route adds it)."""
    return _consultation_extras(data.consultation_detail(session, actor, consultation_id))


@form_route(
    router,
    CID + "/close",
    model=NoFields,
    template="participation/consultation.html",
    context=_consultation_again,
)
def consultation_close(
    body: NoFields,
    consultation_id: str,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
) -> str:
    service.close_early(session, actor, service.get_consultation(session, consultation_id))
    return f"/consultations/{consultation_id}/results"


# --- proposals ------------------------------------------------------------------------------


@page(
    router,
    CID + "/proposals/new",
    no_twin="a form; its API twin is POST /api/v1/consultations/{consultation_id}/proposals",
)
def proposal_form(
    request: Request,
    consultation_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    if not charter.has_accepted(session, actor.account_id):
        return _to_charter(request.url.path)
    return render(
        request,
        "participation/proposal_form.html",
        {"consultation": service.consultation_view(consultation_row), "form": {}, "editing": False},
    )


def _proposal_form_again(
    session: Session, consultation_id: str, values: dict, proposal_id: str = ""
) -> dict:
    """The proposal form again, with what was typed (form_route adds the refusal)."""
    consultation_row = service.get_consultation(session, consultation_id)
    return {
        "consultation": service.consultation_view(consultation_row),
        "form": values,
        "editing": bool(proposal_id),
        "proposal_id": proposal_id,
    }


@form_route(
    router,
    CID + "/proposals/new",
    model=ProposalIn,
    template="participation/proposal_form.html",
    context=_proposal_form_again,
)
def proposal_create(
    body: ProposalIn,
    request: Request,
    consultation_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    if not charter.has_accepted(session, actor.account_id):
        return _to_charter(request.url.path)
    consultation_row = service.get_consultation(session, consultation_id)
    proposal = service.create_proposal(
        session,
        request.app.state.settings,
        actor,
        consultation_row,
        title=body.title,
        body=body.body,
    )
    return _proposal_url(consultation_id, proposal.id)


def _proposal_extras(
    session: Session,
    actor: Actor,
    consultation_id: str,
    data: dict,
    values: dict | None = None,
) -> dict:
    """What the proposal page shows beside its data: the consultation, what the reader may do
    (support, comment, answer) and what they typed when a form was refused."""
    consultation_row = service.get_consultation(session, consultation_id)
    mine = votes.my_supports(session, consultation_row, actor.account_id)
    return {
        **LABELS,
        "proposal": data,
        "consultation": service.consultation_view(consultation_row),
        "supported": data["id"] in mine,
        "my_supports": _my_supports(session, consultation_row, actor),
        "charter_accepted": charter.has_accepted(session, actor.account_id),
        "can_comment": actor.authenticated
        and actor.email_verified
        and phase_of(consultation_row, utcnow()) in (Phase.CONTRIBUTIONS, Phase.VOTING)
        and data["moderation"] == "visible",
        "answer_statuses": ANSWER_STATUSES,
        "stance_choices": STANCES,
        "notice": "",
        "form": values or {},
    }


def _my_supports(session: Session, consultation_row, actor: Actor) -> dict | None:
    if not actor.authenticated:
        return None
    return data.supports_out(session, consultation_row, actor).model_dump()


@twin(
    api.router,
    router,
    PID,
    template="participation/proposal.html",
    summary="A proposal with its comment threads",
    context=_proposal_extras,
)
def proposal(
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict:
    return data.proposal_detail(session, actor, consultation_id, proposal_id)


def _proposal_again(
    session: Session, actor: Actor, consultation_id: str, proposal_id: str, values: dict
) -> dict:
    """The proposal's page again, with what was typed (form_route adds the refusal)."""
    shown = data.proposal_detail(session, actor, consultation_id, proposal_id)
    return {**_proposal_extras(session, actor, consultation_id, shown, values), "data": shown}


@page(router, PID + "/edit", no_twin="a form; its API twin is PUT /api/v1" + PID)
def proposal_edit_form(
    request: Request,
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    if proposal_row.author_id != actor.account_id:
        raise CampusError(_("only its author can edit a proposal"), code="not_author", status=403)
    return render(
        request,
        "participation/proposal_form.html",
        {
            "consultation": service.consultation_view(consultation_row),
            "proposal_id": proposal_row.id,
            "form": {"title": proposal_row.title, "body": proposal_row.body},
            "editing": True,
        },
    )


@form_route(
    router,
    PID + "/edit",
    model=ProposalIn,
    template="participation/proposal_form.html",
    context=_proposal_form_again,
)
def proposal_update(
    body: ProposalIn,
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
) -> str:
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    service.update_proposal(
        session, actor, consultation_row, proposal_row, title=body.title, body=body.body
    )
    return _proposal_url(consultation_id, proposal_id)


@form_route(
    router,
    PID + "/comments",
    model=CommentIn,
    template="participation/proposal.html",
    context=_proposal_again,
)
def comment_create(
    body: CommentIn,
    request: Request,
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    """The one way a comment is published from the pages. Before the charter is accepted the
    charter is shown with the comment kept in its form; accepting it posts the comment here
    again (see `charter_accept`)."""
    path = _proposal_url(consultation_id, proposal_id)
    if not charter.has_accepted(session, actor.account_id):
        draft = {"body": body.body, "stance": body.stance, "parent_id": body.parent_id or ""}
        shown = {**data.charter_status(session, actor), "next": path, "draft": draft}
        return render(request, "participation/charter.html", shown)
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    comment = service.add_comment(
        session,
        request.app.state.settings,
        actor,
        consultation_row,
        proposal_row,
        body=body.body,
        stance=body.stance,
        parent_id=body.parent_id,
    )
    return f"{path}#comment-{comment.id}"


class SupportForm(BaseModel):
    action: str = Field("add", max_length=10, description="add or remove")
    back: str = Field("", max_length=20, description="'consultation' to go back to its page")


def _support_again(
    session: Session, actor: Actor, consultation_id: str, proposal_id: str, values: dict
) -> dict:
    """The page the support was given from, again, with the refusal."""
    if values.get("back") == "consultation":
        return _consultation_again(session, actor, consultation_id)
    return _proposal_again(session, actor, consultation_id, proposal_id, {})


@form_route(
    router,
    PID + "/support",
    model=SupportForm,
    template="participation/support_refused.html",
    context=_support_again,
)
def support_toggle(
    body: SupportForm,
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
) -> str:
    consultation_row = service.get_consultation(session, consultation_id)
    if body.action == "remove":
        votes.withdraw(session, actor, consultation_row, proposal_id)
    else:
        votes.support(session, actor, consultation_row, proposal_id)
    if body.back == "consultation":
        return f"/consultations/{consultation_id}#proposal-{proposal_id}"
    return _proposal_url(consultation_id, proposal_id)


@form_route(
    router,
    PID + "/answer",
    model=AnswerIn,
    template="participation/proposal.html",
    context=_proposal_again,
)
def answer_submit(
    body: AnswerIn,
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
) -> str:
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    results.answer(
        session, actor, consultation_row, proposal_row, status=body.status, answer_text=body.answer
    )
    return _proposal_url(consultation_id, proposal_id)


class ReportForm(ReportIn):
    """A report, with the proposal page it was sent from."""

    consultation_id: str = Field("", max_length=32)
    proposal_id: str = Field("", max_length=32)


def _report_again(session: Session, actor: Actor, values: dict) -> dict:
    consultation_id, proposal_id = values.get("consultation_id", ""), values.get("proposal_id", "")
    return _proposal_again(session, actor, str(consultation_id), str(proposal_id), {})


@form_route(
    router,
    "/participation/report",
    model=ReportForm,
    template="participation/proposal.html",
    context=_report_again,
)
def report_submit(
    body: ReportForm,
    request: Request,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    moderation.report(
        session,
        request.app.state.settings,
        actor,
        target_type=body.target_type,
        target_id=body.target_id,
        reason=body.reason,
    )
    notice = _("Thank you: your report was sent to the moderators.")
    if body.target_type == "proposal":
        # The proposal may now be hidden pending a decision: back to its consultation.
        shown = _consultation_again(session, actor, body.consultation_id)
        return render(request, "participation/consultation.html", {**shown, "notice": notice})
    shown = _proposal_again(session, actor, body.consultation_id, body.proposal_id, {})
    return render(request, "participation/proposal.html", {**shown, "notice": notice})


# --- results --------------------------------------------------------------------------------


def _chart(data: dict) -> dict:
    return {
        "label": _("Supports"),
        "labels": [row["title"] for row in data["proposals"]],
        "values": [row["supports"] for row in data["proposals"]],
    }


@twin(
    api.router,
    router,
    CID + "/results",
    template="participation/results.html",
    summary="Results: supports, statuses and answers",
    context=lambda data: {**LABELS, **data, "chart": _chart(data)},
)
def results_page(
    consultation_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict:
    return results.results(session, service.get_consultation(session, consultation_id))


# --- moderation -----------------------------------------------------------------------------


@twin(
    api.router,
    router,
    "/moderation",
    api_path="/participation/moderation",
    template="participation/moderation.html",
    summary="The moderation queue (moderators)",
    context=lambda data: {"items": data, "decisions": DECISIONS},
)
def moderation_page(
    actor: Actor = allow("consultation.moderate"), session: Session = db_session
) -> list:
    return moderation.queue(session)


@form_route(
    router,
    "/moderation/{target_type}/{target_id}",
    model=DecisionIn,
    template="participation/moderation.html",
    context=lambda session: {"items": moderation.queue(session), "decisions": DECISIONS},
)
def moderation_decide(
    body: DecisionIn,
    target_type: str,
    target_id: str,
    actor: Actor = allow("consultation.moderate"),
    session: Session = db_session,
) -> str:
    moderation.decide(
        session,
        actor,
        target_type=target_type,
        target_id=target_id,
        decision=body.decision,
        reason=body.reason,
    )
    return "/moderation"


# --- charter --------------------------------------------------------------------------------


def _charter_context(data: dict, request: Request) -> dict:
    next_path = request.query_params.get("next", "")
    return {**data, "next": safe_next(next_path) if next_path else ""}


@twin(
    api.router,
    router,
    "/participation/charter",
    template="participation/charter.html",
    summary="The participation charter",
    context=_charter_context,
)
def charter_page(actor: Actor = allow("public.read"), session: Session = db_session) -> dict:
    return data.charter_status(session, actor)


class CharterForm(BaseModel):
    """Accepting the charter; a comment typed before it travels with it (see comment_create)."""

    next: str = Field("", max_length=2000)
    body: str = Field("", max_length=8000)


@form_route(
    router,
    "/participation/charter",
    model=CharterForm,
    template="participation/charter.html",
    context=lambda session, actor, values: {
        **data.charter_status(session, actor),
        "next": safe_next(str(values.get("next", "")), ""),
    },
)
def charter_accept(
    body: CharterForm,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    charter.accept(session, actor)
    target = safe_next(body.next) if body.next else "/consultations"
    parts = urlsplit(target).path.strip("/").split("/")
    if body.body and len(parts) == 4 and parts[0::2] == ["consultations", "proposals"]:
        # The kept comment is posted again, body and all (307 keeps the method), to the one
        # route that publishes comments: the acceptance is committed with this answer, so a
        # refused comment there leaves it standing.
        return RedirectResponse(_proposal_url(parts[1], parts[3]) + "/comments", 307)
    return target


# --- citizen sign-up ------------------------------------------------------------------------


@page(router, "/signup", no_twin="a form; its API twin is POST /api/v1/signup")
def signup_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "participation/signup.html", {"form": {}})


class SignupForm(BaseModel):
    """The sign-up form: the API's fields, the language being the page's."""

    email: str = Field("", max_length=320)
    name: str = Field("", max_length=200)
    password: str = Field("", max_length=1024)


@form_route(
    router,
    "/signup",
    model=SignupForm,
    template="participation/signup.html",
    context=lambda values: {"form": {k: values.get(k, "") for k in ("email", "name")}},
)
def signup_submit(
    body: SignupForm,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> HTMLResponse:
    settings = request.app.state.settings
    signup.sign_up(
        session,
        settings,
        email=body.email,
        name=body.name,
        password=body.password,
        language=current_language.get(),
    )
    response = render(request, "participation/signup.html", {"sent": True, "form": {}})
    # Whatever the outcome (a new account or not): this browser may be signed in by the link.
    earlier = request.cookies.get(signup.BROWSER_COOKIE)
    response.set_cookie(
        signup.BROWSER_COOKIE,
        signup.browser_mark(settings, body.email, earlier),
        max_age=settings.signup_link_hours * 3600,
        path="/signup",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@page(
    router,
    "/signup/verify",
    no_twin="a form reached from a mail's link; API: POST /api/v1/signup/verify",
)
def signup_verify_form(request: Request, actor: Actor = allow("public.read")):
    # The mail's link carries the token in its fragment (#token=...), which browsers never
    # send: the page's script copies it into the form, posted in the body. No log sees it.
    return render(request, "participation/verified.html", {"confirm": True})


@form_route(router, "/signup/verify", model=VerifyIn, template="participation/verified.html")
def signup_verify(
    body: VerifyIn,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> HTMLResponse:
    settings = request.app.state.settings
    browser = request.cookies.get(signup.BROWSER_COOKIE)
    account, opened = signup.verify_and_sign_in(session, settings, body.token, browser)
    if opened is None:
        return render(request, "participation/verified.html", {"verified": True})
    if earlier := request.cookies.get(SESSION_COOKIE):
        auth.logout(session, earlier)  # whoever was signed in here is no longer
    shown = {"verified": True, "signed_in": account.email}
    response = render(request, "participation/verified.html", shown)
    set_session_cookies(response, settings, opened.cookie_value)
    response.delete_cookie(signup.BROWSER_COOKIE, path="/signup")
    return response
