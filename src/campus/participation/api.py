"""JSON routes of consultations, proposals, comments, supports, moderation, results, charter
and citizen sign-up. The GET twins of the pages are mounted from `pages.py` by `twin`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.i18n import gettext as _
from campus.participation import charter, moderation, results, service, signup, votes
from campus.participation.data import supports_out
from campus.participation.schemas import (
    AnswerIn,
    CommentIn,
    ConsultationIn,
    DecisionIn,
    ProposalIn,
    ReportIn,
    SignupIn,
    SupportsOut,
    VerifyIn,
)
from campus.web.deps import allow, db_session

router = APIRouter(tags=["participation"])
CID = "/consultations/{consultation_id}"
PID = CID + "/proposals/{proposal_id}"


@router.post("/consultations", status_code=201, summary="Create a consultation (staff)")
def create_consultation(
    body: ConsultationIn,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
):
    fields = service.ConsultationFields(**body.model_dump())
    return service.consultation_view(service.create_consultation(session, actor, fields))


@router.post(CID + "/close", summary="Close a consultation early (staff)")
def close_consultation(
    consultation_id: str,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    return service.consultation_view(service.close_early(session, actor, consultation))


@router.post(CID + "/proposals", status_code=201, summary="File a proposal")
def create_proposal(
    consultation_id: str,
    body: ProposalIn,
    request: Request,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    proposal = service.create_proposal(
        session,
        request.app.state.settings,
        actor,
        consultation,
        title=body.title,
        body=body.body,
    )
    return service.proposal_view(session, actor, consultation, proposal)


@router.put(PID, summary="Edit one's proposal (until voting opens)")
def update_proposal(
    consultation_id: str,
    proposal_id: str,
    body: ProposalIn,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    proposal = service.get_proposal(session, consultation, proposal_id)
    service.update_proposal(
        session, actor, consultation, proposal, title=body.title, body=body.body
    )
    return service.proposal_view(session, actor, consultation, proposal)


@router.post(PID + "/comments", status_code=201, summary="Comment on a proposal")
def add_comment(
    consultation_id: str,
    proposal_id: str,
    body: CommentIn,
    request: Request,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    proposal = service.get_proposal(session, consultation, proposal_id)
    comment = service.add_comment(
        session,
        request.app.state.settings,
        actor,
        consultation,
        proposal,
        body=body.body,
        stance=body.stance,
        parent_id=body.parent_id,
    )
    return {"id": comment.id, "stance": comment.stance, "body": comment.body}


@router.put(PID + "/support", response_model=SupportsOut, summary="Support a proposal")
def support(
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    votes.support(session, actor, consultation, proposal_id)
    return supports_out(session, consultation, actor)


@router.delete(PID + "/support", response_model=SupportsOut, summary="Withdraw a support")
def withdraw(
    consultation_id: str,
    proposal_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    votes.withdraw(session, actor, consultation, proposal_id)
    return supports_out(session, consultation, actor)


@router.get(CID + "/supports", response_model=SupportsOut, summary="One's supports")
def my_supports(
    consultation_id: str,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    return supports_out(session, consultation, actor)


@router.post(PID + "/answer", summary="Answer a proposal once voting closed (staff)")
def answer(
    consultation_id: str,
    proposal_id: str,
    body: AnswerIn,
    actor: Actor = allow("consultation.manage"),
    session: Session = db_session,
):
    consultation = service.get_consultation(session, consultation_id)
    proposal = service.get_proposal(session, consultation, proposal_id)
    results.answer(
        session, actor, consultation, proposal, status=body.status, answer_text=body.answer
    )
    return service.proposal_view(session, actor, consultation, proposal)


@router.get(CID + "/results.csv", summary="Results as CSV")
def get_results_csv(
    consultation_id: str, actor: Actor = allow("public.read"), session: Session = db_session
):
    data = results.results(session, service.get_consultation(session, consultation_id))
    return Response(
        results.as_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="consultation-{consultation_id}.csv"'
        },
    )


@router.post("/participation/reports", status_code=201, summary="Report a proposal or comment")
def report(
    body: ReportIn,
    request: Request,
    actor: Actor = allow("consultation.contribute"),
    session: Session = db_session,
):
    row = moderation.report(
        session,
        request.app.state.settings,
        actor,
        target_type=body.target_type,
        target_id=body.target_id,
        reason=body.reason,
    )
    return {"id": row.id, "target_type": row.target_type, "target_id": row.target_id}


@router.post(
    "/participation/moderation/{target_type}/{target_id}",
    summary="Hide or restore a contribution, with a reason (moderators)",
)
def decide(
    target_type: str,
    target_id: str,
    body: DecisionIn,
    actor: Actor = allow("consultation.moderate"),
    session: Session = db_session,
):
    item = moderation.decide(
        session,
        actor,
        target_type=target_type,
        target_id=target_id,
        decision=body.decision,
        reason=body.reason,
    )
    return {
        "target_type": target_type,
        "target_id": item.id,
        "moderation": item.moderation,
        "moderation_reason": item.moderation_reason,
    }


@router.post("/participation/charter", summary="Accept the participation charter")
def accept_charter(actor: Actor = allow("consultation.contribute"), session: Session = db_session):
    row = charter.accept(session, actor)
    return {"version": row.version, "accepted": True, "accepted_at": row.accepted_at}


@router.post("/signup", status_code=202, summary="Citizen sign-up (mails a verification link)")
def api_signup(
    body: SignupIn,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    signup.sign_up(
        session,
        request.app.state.settings,
        email=body.email,
        name=body.name,
        password=body.password,
        language=body.language,
    )
    return {"message": _("check your mailbox: a link to confirm your address was sent")}


@router.post("/signup/verify", summary="Verify an email address from the mailed link's token")
def api_verify(
    body: VerifyIn,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    account = signup.verify(session, request.app.state.settings, body.token)
    return {"email_verified": account.email_verified}
