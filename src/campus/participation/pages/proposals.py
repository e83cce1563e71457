"""Proposal pages: writing and editing a proposal, comments, supports, answers and reports."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db.base import utcnow
from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.participation import api, charter, data, moderation, results, service, votes
from campus.participation.pages._shared import (
    CID,
    LABELS,
    PID,
    consultation_again,
    proposal_url,
    router,
    to_charter,
)
from campus.participation.phases import Phase, phase_of
from campus.participation.results import ANSWER_STATUSES
from campus.participation.schemas import (
    AnswerIn,
    CommentIn,
    ProposalIn,
    ReportIn,
)
from campus.participation.service import STANCES
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.pages_registry import page
from campus.web.templating import render
from campus.web.twins import twin

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
        return to_charter(request.url.path)
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
        return to_charter(request.url.path)
    consultation_row = service.get_consultation(session, consultation_id)
    proposal = service.create_proposal(
        session,
        request.app.state.settings,
        actor,
        consultation_row,
        title=body.title,
        body=body.body,
    )
    return proposal_url(consultation_id, proposal.id)


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
    return proposal_url(consultation_id, proposal_id)


@form_route(router, PID + "/comments", model=CommentIn, page=proposal)
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
    path = proposal_url(consultation_id, proposal_id)
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
        return consultation_again(session, actor, consultation_id)
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
    return proposal_url(consultation_id, proposal_id)


@form_route(router, PID + "/answer", model=AnswerIn, page=proposal)
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
    return proposal_url(consultation_id, proposal_id)


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
        shown = consultation_again(session, actor, body.consultation_id)
        return render(request, "participation/consultation.html", {**shown, "notice": notice})
    shown = _proposal_again(session, actor, body.consultation_id, body.proposal_id, {})
    return render(request, "participation/proposal.html", {**shown, "notice": notice})
