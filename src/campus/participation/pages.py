"""HTML pages of consultations: list, detail, proposals and comments, supports, moderation,
results with charts, the charter and citizen sign-up. Their JSON twins are in `api.py`."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

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
from campus.participation.service import STANCE_LABELS, STANCES, SUBJECT_LABELS
from campus.web.deps import allow, db_session, form_data
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


def _message(error: CampusError) -> str:
    return _(error.message)


def _consultation_page(
    request: Request,
    session: Session,
    actor: Actor,
    consultation_id: str,
    *,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    detail = data.consultation_detail(session, actor, consultation_id)
    return render(
        request,
        "participation/consultation.html",
        {**LABELS, **detail, "error": error, "notice": notice},
        status=status,
    )


def _proposal_page(
    request: Request,
    session: Session,
    actor: Actor,
    consultation_id: str,
    proposal_id: str,
    *,
    error: str = "",
    notice: str = "",
    status: int = 200,
    form: dict | None = None,
) -> HTMLResponse:
    consultation = service.get_consultation(session, consultation_id)
    proposal = service.get_proposal(session, consultation, proposal_id)
    return render(
        request,
        "participation/proposal.html",
        {
            **LABELS,
            "consultation": service.consultation_view(consultation),
            "proposal": service.proposal_view(session, actor, consultation, proposal),
            "supported": proposal.id in votes.my_supports(session, consultation, actor.account_id),
            "my_supports": data.supports_out(session, consultation, actor)
            if actor.authenticated
            else None,
            "charter_accepted": charter.has_accepted(session, actor.account_id),
            "can_comment": actor.authenticated
            and actor.email_verified
            and phase_of(consultation, utcnow()) in (Phase.CONTRIBUTIONS, Phase.VOTING)
            and proposal.moderation == "visible",
            "answer_statuses": ANSWER_STATUSES,
            "stance_choices": STANCES,
            "error": error,
            "notice": notice,
            "form": form or {},
        },
        status=status,
    )


def _to_charter(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/participation/charter?next={quote(next_path)}", status_code=303)


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


@page(router, "/consultations/new", no_twin="a form; its API twin is POST /api/v1/consultations")
def consultation_form(request: Request, actor: Actor = allow("consultation.manage")):
    return render(
        request,
        "participation/consultation_form.html",
        {"form": {"supports_per_person": 3, "report_threshold": 3}, "subject_types": SUBJECT_TYPES},
    )


def _local_datetime(value: str, field: str) -> dt.datetime:
    """A `datetime-local` value, read as Europe/Paris time."""
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            _("{field}: give a date and time").format(field=field), code="invalid_date", where=field
        ) from None
    return naive.replace(tzinfo=PARIS) if naive.tzinfo is None else naive


@router.post("/consultations/new", include_in_schema=False)
def consultation_create(
    request: Request,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
    submitted: FormData = form_data,
):
    form = {k: str(v) for k, v in submitted.items()}
    try:
        fields = service.ConsultationFields(
            title=form.get("title", ""),
            summary=form.get("summary", ""),
            subject_type=form.get("subject_type", ""),
            subject_id=form.get("subject_id", ""),
            subject_title=form.get("subject_title", ""),
            opens_at=_local_datetime(form.get("opens_at", ""), "opens_at"),
            contributions_at=_local_datetime(form.get("contributions_at", ""), "contributions_at"),
            voting_at=_local_datetime(form.get("voting_at", ""), "voting_at"),
            results_at=_local_datetime(form.get("results_at", ""), "results_at"),
            supports_per_person=_int(form.get("supports_per_person", "3"), "supports_per_person"),
            report_threshold=_int(form.get("report_threshold", "3"), "report_threshold"),
        )
        consultation = service.create_consultation(session, actor, fields)
    except CampusError as error:
        session.rollback()
        return render(
            request,
            "participation/consultation_form.html",
            {"form": form, "subject_types": SUBJECT_TYPES, "error": _message(error)},
            status=error.status,
        )
    return RedirectResponse(f"/consultations/{consultation.id}", status_code=303)


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(
            _("{field} must be a whole number").format(field=field),
            code="invalid_number",
            where=field,
        ) from None


@twin(
    api.router,
    router,
    CID,
    template="participation/consultation.html",
    summary="A consultation with its proposals and one's supports",
    context=lambda data: {**LABELS, **data, "error": "", "notice": ""},
)
def consultation(
    consultation_id: str,
    sort: str = "newest",
    status: str = "",
    actor: Actor = allow("public.read"),
    session: Session = db_session,
) -> dict:
    return data.consultation_detail(session, actor, consultation_id, sort[:20], status[:20])


@router.post(CID + "/close", include_in_schema=False)
def consultation_close(
    request: Request,
    consultation_id: str,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
):
    try:
        service.close_early(session, actor, service.get_consultation(session, consultation_id))
    except CampusError as error:
        session.rollback()
        return _consultation_page(
            request, session, actor, consultation_id, error=_message(error), status=error.status
        )
    return RedirectResponse(f"/consultations/{consultation_id}/results", status_code=303)


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


@router.post(CID + "/proposals/new", include_in_schema=False)
def proposal_create(
    request: Request,
    consultation_id: str,
    title: str = Form("", max_length=2000),
    body: str = Form("", max_length=20000),
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    try:
        proposal = service.create_proposal(
            session,
            request.app.state.settings,
            actor,
            consultation_row,
            title=title,
            body=body,
        )
    except CampusError as error:
        session.rollback()
        if error.code == "charter_not_accepted":
            return _to_charter(request.url.path)
        return render(
            request,
            "participation/proposal_form.html",
            {
                "consultation": service.consultation_view(consultation_row),
                "form": {"title": title, "body": body},
                "editing": False,
                "error": _message(error),
                "where": error.where,
            },
            status=error.status,
        )
    return RedirectResponse(
        f"/consultations/{consultation_id}/proposals/{proposal.id}", status_code=303
    )


@page(router, PID, twin="/api/v1" + PID)
def proposal(
    request: Request,
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    return _proposal_page(request, session, actor, consultation_id, proposal_id)


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


@router.post(PID + "/edit", include_in_schema=False)
def proposal_update(
    request: Request,
    consultation_id: str,
    proposal_id: str,
    title: str = Form("", max_length=2000),
    body: str = Form("", max_length=20000),
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    try:
        service.update_proposal(
            session, actor, consultation_row, proposal_row, title=title, body=body
        )
    except CampusError as error:
        session.rollback()
        return render(
            request,
            "participation/proposal_form.html",
            {
                "consultation": service.consultation_view(consultation_row),
                "proposal_id": proposal_id,
                "form": {"title": title, "body": body},
                "editing": True,
                "error": _message(error),
                "where": error.where,
            },
            status=error.status,
        )
    return RedirectResponse(
        f"/consultations/{consultation_id}/proposals/{proposal_id}", status_code=303
    )


@router.post(PID + "/comments", include_in_schema=False)
def comment_create(
    request: Request,
    consultation_id: str,
    proposal_id: str,
    body: str = Form("", max_length=8000),
    stance: str = Form("neutral"),
    parent_id: str = Form(""),
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    try:
        comment = service.add_comment(
            session,
            request.app.state.settings,
            actor,
            consultation_row,
            proposal_row,
            body=body,
            stance=stance,
            parent_id=parent_id or None,
        )
    except CampusError as error:
        session.rollback()
        if error.code == "charter_not_accepted":  # the charter first; the comment is kept
            draft = {"body": body, "stance": stance, "parent_id": parent_id}
            return _charter_with_draft(request, session, actor, request.url.path, draft)
        return _proposal_page(
            request,
            session,
            actor,
            consultation_id,
            proposal_id,
            error=_message(error),
            status=error.status,
            form={"body": body, "stance": stance, "parent_id": parent_id},
        )
    return RedirectResponse(
        f"/consultations/{consultation_id}/proposals/{proposal_id}#comment-{comment.id}",
        status_code=303,
    )


@router.post(PID + "/support", include_in_schema=False)
def support_toggle(
    request: Request,
    consultation_id: str,
    proposal_id: str,
    action: str = Form("add"),
    back: str = Form(""),
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    try:
        if action == "remove":
            votes.withdraw(session, actor, consultation_row, proposal_id)
        else:
            votes.support(session, actor, consultation_row, proposal_id)
    except CampusError as error:
        session.rollback()
        if back == "consultation":
            return _consultation_page(
                request, session, actor, consultation_id, error=_message(error), status=error.status
            )
        return _proposal_page(
            request,
            session,
            actor,
            consultation_id,
            proposal_id,
            error=_message(error),
            status=error.status,
        )
    if back == "consultation":
        return RedirectResponse(
            f"/consultations/{consultation_id}#proposal-{proposal_id}", status_code=303
        )
    return RedirectResponse(
        f"/consultations/{consultation_id}/proposals/{proposal_id}", status_code=303
    )


@router.post(PID + "/answer", include_in_schema=False)
def answer_submit(
    request: Request,
    consultation_id: str,
    proposal_id: str,
    status: str = Form(""),
    answer: str = Form("", max_length=20000),
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
):
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    try:
        results.answer(
            session, actor, consultation_row, proposal_row, status=status, answer_text=answer
        )
    except CampusError as error:
        session.rollback()
        return _proposal_page(
            request,
            session,
            actor,
            consultation_id,
            proposal_id,
            error=_message(error),
            status=error.status,
            form={"answer": answer, "status": status},
        )
    return RedirectResponse(
        f"/consultations/{consultation_id}/proposals/{proposal_id}", status_code=303
    )


@router.post("/participation/report", include_in_schema=False)
def report_submit(
    request: Request,
    target_type: str = Form(""),
    target_id: str = Form("", max_length=32),
    reason: str = Form("", max_length=2000),
    consultation_id: str = Form("", max_length=32),
    proposal_id: str = Form("", max_length=32),
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    try:
        moderation.report(
            session,
            request.app.state.settings,
            actor,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
        )
    except CampusError as error:
        session.rollback()
        return _proposal_page(
            request,
            session,
            actor,
            consultation_id,
            proposal_id,
            error=_message(error),
            status=error.status,
        )
    notice = _("Thank you: your report was sent to the moderators.")
    if target_type == "proposal":
        # The proposal may now be hidden pending a decision: back to its consultation.
        return _consultation_page(request, session, actor, consultation_id, notice=notice)
    return _proposal_page(request, session, actor, consultation_id, proposal_id, notice=notice)


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


@router.post("/moderation/{target_type}/{target_id}", include_in_schema=False)
def moderation_decide(
    request: Request,
    target_type: str,
    target_id: str,
    decision: str = Form(""),
    reason: str = Form("", max_length=4000),
    actor: Actor = allow("consultation.moderate"),
    session: Session = db_session,
):
    try:
        moderation.decide(
            session,
            actor,
            target_type=target_type,
            target_id=target_id,
            decision=decision,
            reason=reason,
        )
    except CampusError as error:
        session.rollback()
        return render(
            request,
            "participation/moderation.html",
            {"items": moderation.queue(session), "decisions": DECISIONS, "error": _message(error)},
            status=error.status,
        )
    return RedirectResponse("/moderation", status_code=303)


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


def _charter_with_draft(
    request: Request, session: Session, actor: Actor, comments_path: str, draft: dict
) -> HTMLResponse:
    """The charter, carrying a comment typed before accepting it: accepting publishes it."""
    proposal_path = comments_path.removesuffix("/comments")
    context = {**data.charter_status(session, actor), "next": proposal_path, "draft": draft}
    return render(request, "participation/charter.html", context)


@router.post("/participation/charter", include_in_schema=False)
def charter_accept(
    request: Request,
    next: str = Form(""),
    draft_body: str = Form("", max_length=8000),
    draft_stance: str = Form("neutral", max_length=20),
    draft_parent_id: str = Form("", max_length=32),
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    charter.accept(session, actor)
    target = safe_next(next) if next else "/consultations"
    parts = target.strip("/").split("/")
    if not draft_body or len(parts) != 4 or parts[0::2] != ["consultations", "proposals"]:
        return RedirectResponse(target, status_code=303)
    # A comment typed before the charter: published now, or shown again with the refusal.
    consultation_id, proposal_id = parts[1], parts[3]
    form = {"body": draft_body, "stance": draft_stance, "parent_id": draft_parent_id}
    consultation_row = service.get_consultation(session, consultation_id)
    proposal_row = service.get_proposal(session, consultation_row, proposal_id)
    try:
        comment = service.add_comment(
            session,
            request.app.state.settings,
            actor,
            consultation_row,
            proposal_row,
            body=draft_body,
            stance=draft_stance,
            parent_id=draft_parent_id or None,
        )
    except CampusError as error:
        session.rollback()
        charter.accept(session, actor)  # the acceptance stands; only the comment was refused
        return _proposal_page(
            request,
            session,
            actor,
            consultation_id,
            proposal_id,
            error=_message(error),
            status=error.status,
            form=form,
        )
    return RedirectResponse(f"{target}#comment-{comment.id}", status_code=303)


# --- citizen sign-up ------------------------------------------------------------------------


@page(router, "/signup", no_twin="a form; its API twin is POST /api/v1/signup")
def signup_form(request: Request, actor: Actor = allow("public.read")):
    return render(request, "participation/signup.html", {"form": {}})


@router.post("/signup", include_in_schema=False)
def signup_submit(
    request: Request,
    email: str = Form("", max_length=320),
    name: str = Form("", max_length=200),
    password: str = Form("", max_length=1024),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    try:
        signup.sign_up(
            session,
            request.app.state.settings,
            email=email,
            name=name,
            password=password,
            language=current_language.get(),
        )
    except CampusError as error:
        session.rollback()
        return render(
            request,
            "participation/signup.html",
            {
                "form": {"email": email, "name": name},
                "error": _message(error),
                "where": error.where,
            },
            status=error.status,
        )
    return render(request, "participation/signup.html", {"sent": True, "form": {}})


@page(
    router,
    "/signup/verify",
    no_twin="a form reached from a mail's link; API: POST /api/v1/signup/verify",
)
def signup_verify_form(request: Request, actor: Actor = allow("public.read")):
    # The mail's link carries the token in its fragment (#token=...), which browsers never
    # send: the page's script copies it into the form, posted in the body. No log sees it.
    return render(request, "participation/verified.html", {"confirm": True})


@router.post("/signup/verify", include_in_schema=False)
def signup_verify(
    request: Request,
    token: str = Form("", max_length=1000),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    try:
        signup.verify(session, request.app.state.settings, token)
    except CampusError as error:
        session.rollback()
        return render(
            request, "participation/verified.html", {"error": _message(error)}, status=error.status
        )
    return render(request, "participation/verified.html", {"verified": True})
