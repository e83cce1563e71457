"""API shapes of consultations, proposals, comments, supports, reports and sign-up."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field


class ConsultationIn(BaseModel):
    title: str = Field(max_length=2000)
    summary: str = Field(max_length=40000)
    subject_type: str = Field(default="", description="'data_project' or 'programme', or empty")
    subject_id: str = Field(default="", max_length=64)
    subject_title: str = Field(default="", max_length=1200)
    opens_at: AwareDatetime
    contributions_at: AwareDatetime
    voting_at: AwareDatetime
    results_at: AwareDatetime
    supports_per_person: int = 3
    report_threshold: int = 3
    proposals_per_hour: int | None = None


class ProposalIn(BaseModel):
    title: str = Field(max_length=2000)
    body: str = Field(max_length=20000)


class CommentIn(BaseModel):
    body: str = Field(max_length=8000)
    stance: str = "neutral"
    parent_id: str | None = Field(default=None, max_length=32)


class AnswerIn(BaseModel):
    status: str = Field(description="under_study, accepted or rejected")
    answer: str = Field(max_length=20000)


class ReportIn(BaseModel):
    target_type: str = Field(description="proposal or comment")
    target_id: str = Field(max_length=32)
    reason: str = Field(max_length=2000)


class DecisionIn(BaseModel):
    decision: str = Field(description="hide or restore")
    reason: str = Field(max_length=4000)


class SignupIn(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    language: str = "fr"


class VerifyIn(BaseModel):
    token: str = Field(max_length=1000)


class SupportsOut(BaseModel):
    supports: list[str]
    limit: int
    left: int
