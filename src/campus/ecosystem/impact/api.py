"""JSON routes of impact records and of the campus dashboard (with its CSV twin)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory import service as directory
from campus.ecosystem.impact import dashboard, service
from campus.web.deps import allow, db_session

router = APIRouter(tags=["impact"])
ORG_SCOPE = ("organisation", "org_id")


class ImpactIn(BaseModel):
    kind: str
    title: str = Field(max_length=200)
    occurred_on: str = Field(max_length=10, description="ISO date, e.g. 2026-03-31")
    amount: str | None = Field(default=None, max_length=20, description="Decimal, e.g. 1500000")
    currency: str = Field(default="", max_length=3)
    round: str = ""
    investors: list[str] = Field(default_factory=list)
    counterpart: str = Field(default="", max_length=200)
    counterpart_kind: str = ""
    description: str = Field(default="", max_length=5000)


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=500)


def this_year() -> int:
    return dt.datetime.now(dt.UTC).year


@router.post("/organisations/{org_id}/impact", status_code=201, summary="Record an impact (admins)")
def submit_impact(
    org_id: str,
    body: ImpactIn,
    actor: Actor = allow("impact.write", scope=ORG_SCOPE),
    session: Session = db_session,
):
    org = directory.get_organisation(session, org_id)
    return service.record_view(service.submit(session, org, body.model_dump(), by=actor))


@router.post("/impact/{record_id}/validate", summary="Validate an impact record (staff)")
def validate(
    record_id: str,
    body: DecisionIn,
    actor: Actor = allow("impact.validate"),
    session: Session = db_session,
):
    record = service.get(session, record_id)
    return service.record_view(
        service.decide(session, record, validate=True, note=body.note, by=actor)
    )


@router.post("/impact/{record_id}/reject", summary="Reject an impact record, saying why (staff)")
def reject(
    record_id: str,
    body: DecisionIn,
    actor: Actor = allow("impact.validate"),
    session: Session = db_session,
):
    record = service.get(session, record_id)
    return service.record_view(
        service.decide(session, record, validate=False, note=body.note, by=actor)
    )


@router.get("/dashboard.csv", summary="Campus figures of a year as CSV")
def get_dashboard_csv(
    year: int | None = None, actor: Actor = allow("directory.read"), session: Session = db_session
):
    data = dashboard.figures(session, year or this_year())
    return Response(
        dashboard.as_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campus-{data["year"]}.csv"'},
    )
