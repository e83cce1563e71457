"""JSON routes of data projects, access requests, ethics review, approvals, the public
register and the opt-out registry."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.errors import BadRequest
from campus.governance import data, legal, parties, serialise, service
from campus.governance.data import (  # noqa: F401 (re-exported: tests and callers read them here)
    can_see_private,
    project_for,
    request_visible,
    reviews_of,
)
from campus.i18n import N_
from campus.optout import service as optout
from campus.web.deps import allow, client_address, db_session

router = APIRouter(tags=["governance"])


class PartnerIn(BaseModel):
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)


class ProjectIn(BaseModel):
    title: str = Field(max_length=200)
    lead_org_id: str = Field(max_length=64)
    lead_org_name: str = Field(
        "", max_length=200, description="The directory's name of the organisation when empty"
    )
    purpose: str = Field(max_length=5000)
    summary_fr: str = Field(max_length=5000)
    summary_en: str = Field("", max_length=5000)
    legal_basis: str = Field(max_length=300, description="A code of GET /api/v1/legal-bases")
    expected_benefits: str = Field(max_length=5000)
    partners: list[PartnerIn] = Field(default_factory=list, max_length=50)
    data_controller: str = Field("", max_length=200)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    cesrees_number: str = Field("", max_length=40, description="CESREES opinion number")
    cnil_number: str = Field("", max_length=40, description="CNIL decision or declaration")

    def to_input(self, session: Session) -> service.ProjectIn:
        lead_name = self.lead_org_name or parties.organisation_name(
            session, self.lead_org_id, "lead_org_id"
        )
        return service.ProjectIn(
            title=self.title,
            lead_org_id=self.lead_org_id,
            lead_org_name=lead_name,
            purpose=self.purpose,
            summary_fr=self.summary_fr,
            summary_en=self.summary_en,
            legal_basis=self.legal_basis,
            expected_benefits=self.expected_benefits,
            partners=tuple((p.id, p.name) for p in self.partners),
            data_controller=self.data_controller,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            cesrees_number=self.cesrees_number,
            cnil_number=self.cnil_number,
        )


class MemberIn(BaseModel):
    email: str = Field("", max_length=320, description="The account's address, or person_id")
    person_id: str = Field("", max_length=32, description="A directory profile with an account")
    role: str = "researcher"

    def account_id(self, session: Session, actor: Actor) -> str:
        if self.person_id:
            return parties.account_of_person(session, actor, self.person_id)
        account = auth.find_account(session, self.email) if self.email else None
        if account is None:
            raise BadRequest(
                N_("choose a person of the campus directory who has an account"),
                code="unknown_person",
                where="person_id" if not self.email else "email",
            )
        return account.id


class RequestIn(BaseModel):
    datasets: list[str] = Field(max_length=20)
    views: list[str] = Field(max_length=50)
    elements: list[str] = Field(default_factory=list, max_length=200)
    duration_days: int
    justification: str = Field(max_length=10000)


class RequestPatch(BaseModel):
    datasets: list[str] | None = None
    views: list[str] | None = None
    elements: list[str] | None = None
    duration_days: int | None = None
    justification: str | None = Field(None, max_length=10000)


class MessageIn(BaseModel):
    body: str = Field(max_length=5000)


class DecisionIn(BaseModel):
    decision: str
    comment: str = Field(max_length=5000)
    conditions: str = Field("", max_length=5000)


class ApprovalStatusIn(BaseModel):
    status: str
    reason: str = Field(max_length=2000)


class OptOutIn(BaseModel):
    kind: str = Field(description="nir (NIR/INS) or system (hospital identifier system|value)")
    value: str = Field(max_length=512)


class ReceiptIn(BaseModel):
    receipt: str = Field(max_length=64, description="The receipt given at filing (OPT-...)")


@router.get("/legal-bases", summary="The legal bases a project may name, with their references")
def api_legal_bases(actor: Actor = allow("public.read")):
    return {"legal_bases": [legal.describe(b.code) for b in legal.LEGAL_BASES]}


@router.post("/projects", status_code=201, summary="Create a data project (one is its lead)")
def api_create_project(
    body: ProjectIn, actor: Actor = allow("projects.write"), session: Session = db_session
):
    project = service.create_project(session, actor, body.to_input(session))
    return serialise.project_public(project)


@router.post("/projects/{project_id}/members", status_code=201, summary="Add a team member")
def api_add_member(
    project_id: str,
    body: MemberIn,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    project = service.get_project(session, project_id)
    member = service.add_member(session, actor, project, body.account_id(session, actor), body.role)
    return {"account_id": member.account_id, "role": member.role}


@router.post("/projects/{project_id}/requests", status_code=201, summary="Draft an access request")
def api_create_request(
    project_id: str,
    body: RequestIn,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    project = service.get_project(session, project_id)
    request = service.create_request(
        session,
        actor,
        project,
        datasets=body.datasets,
        views=body.views,
        elements=body.elements,
        duration_days=body.duration_days,
        justification=body.justification,
    )
    return serialise.request_full(session, request)


@router.get("/requests/{request_id}", summary="An access request with its reviews and messages")
def api_request(
    request_id: str, actor: Actor = allow("account.self"), session: Session = db_session
):
    """The same as /api/v1/projects/{project_id}/requests/{request_id}, by the request alone."""
    return data.request_for(session, actor, request_id)


@router.patch("/requests/{request_id}", summary="Edit a draft or a request sent back")
def api_update_request(
    request_id: str,
    body: RequestPatch,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    fields = body.model_dump(exclude_none=True)
    return serialise.request_full(
        session, service.update_request(session, actor, request, **fields)
    )


@router.post("/requests/{request_id}/submit", summary="Submit a request for ethics review")
def api_submit_request(
    request_id: str,
    http: Request,
    actor: Actor = allow("projects.write"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    service.submit_request(session, http.app.state.settings, actor, request)
    return serialise.request_full(session, request)


@router.post(
    "/requests/{request_id}/messages",
    status_code=201,
    summary="Ask a question (reviewer) or answer it (team)",
)
def api_message(
    request_id: str,
    body: MessageIn,
    http: Request,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    message = service.ask_or_answer(session, http.app.state.settings, actor, request, body.body)
    return {"kind": message.kind, "body": message.body}


@router.post("/requests/{request_id}/decision", summary="Decide on a request (assigned reviewer)")
def api_decide(
    request_id: str,
    body: DecisionIn,
    http: Request,
    actor: Actor = allow("ethics.review"),
    session: Session = db_session,
):
    request = service.get_request(session, request_id)
    service.decide(
        session,
        http.app.state.settings,
        actor,
        request,
        decision=body.decision,
        comment=body.comment,
        conditions=body.conditions,
    )
    return serialise.request_full(session, request)


@router.post("/approvals/{approval_id}/status", summary="Suspend, reactivate or revoke an approval")
def api_approval_status(
    approval_id: str,
    body: ApprovalStatusIn,
    http: Request,
    actor: Actor = allow("approvals.manage"),
    session: Session = db_session,
):
    approval = service.get_approval(session, approval_id)
    service.set_approval_status(
        session, http.app.state.settings, actor, approval, body.status, body.reason
    )
    return serialise.approval_out(approval)


@router.post("/optout", status_code=201, summary="Object to the reuse of one's health data")
def api_optout(
    body: OptOutIn,
    http: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    optout.admit(session, http.app.state.settings, client_address(http))
    receipt = optout.add(session, http.app.state.settings, body.kind, body.value, actor.label)
    return {"receipt": receipt.receipt, "kind": receipt.kind}


@router.post("/optout/check", summary="What a receipt's objection is (registered, withdrawn)")
def api_optout_check(
    body: ReceiptIn,
    http: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    """Throttled like filings; says nothing of other receipts or identifiers."""
    settings = http.app.state.settings
    return optout.by_receipt(session, settings, client_address(http), body.receipt).public()


@router.post("/optout/withdraw", summary="Withdraw the objection filed with a receipt")
def api_optout_withdraw(
    body: ReceiptIn,
    http: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    """Throttled like filings; other receipts of the same identifier stand."""
    address, receipt = client_address(http), body.receipt
    state = optout.by_receipt(session, http.app.state.settings, address, receipt, actor.label)
    return state.public()


@router.get("/optout/stats", summary="How many objections the registry holds (DPO)")
def api_optout_stats(actor: Actor = allow("optout.manage"), session: Session = db_session):
    return {"entries": optout.count(session)}
