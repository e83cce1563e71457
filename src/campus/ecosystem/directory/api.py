"""JSON routes of the directory: organisations, people, members, invitations, logos."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory import data, service
from campus.ecosystem.directory.schemas import (
    InvitationAcceptIn,
    InvitationIn,
    InvitationOut,
    MemberOut,
    MemberRoleIn,
    OrganisationIn,
    PersonIn,
    VocabularyOut,
)
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES
from campus.errors import BadRequest
from campus.i18n import N_
from campus.web.deps import allow, db_session

router = APIRouter(tags=["directory"])
ORG_SCOPE = ("organisation", "org_id")


def directory_out(result: service.DirectoryPage) -> dict[str, Any]:
    return {
        "section": result.kind,
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
        "items": result.items,
    }


@router.get("/vocabulary", response_model=VocabularyOut, summary="Kinds, themes and skills")
def vocabulary(actor: Actor = allow("public.read")):
    return {
        "kinds": {k: list(v) for k, v in KIND_LABELS.items()},
        "themes": {k: list(v) for k, v in THEMES.items()},
        "skills": {k: list(v) for k, v in SKILLS.items()},
    }


@router.post("/organisations", status_code=201, summary="Create an organisation (staff)")
def create_organisation(
    body: OrganisationIn, actor: Actor = allow("organisation.edit"), session: Session = db_session
):
    org = service.create_organisation(session, body.model_dump(exclude_unset=True), by=actor)
    return service.organisation_view(org, members_only=True)


@router.patch("/organisations/{org_id}", summary="Edit an organisation's profile (its admins)")
def update_organisation(
    org_id: str,
    body: OrganisationIn,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    org = service.get_organisation(session, org_id)
    service.update_organisation(session, org, body.model_dump(exclude_unset=True), by=actor)
    return service.organisation_view(org, members_only=True)


@router.put(
    "/organisations/{org_id}/logo", summary="Upload a logo (PNG, JPEG or WebP, 512 KB at most)"
)
def upload_logo(
    org_id: str,
    request: Request,
    logo: UploadFile,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    content = logo.file.read(service.LOGO_MAX_BYTES + 1)
    org = service.get_organisation(session, org_id)
    service.save_logo(session, request.app.state.settings, org, content, by=actor)
    return service.organisation_view(org, members_only=True)


@router.get("/organisations/{org_id}/logo", summary="An organisation's logo image")
def get_logo(
    org_id: str,
    request: Request,
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    org = service.get_organisation(session, org_id)
    path = service.logo_file(request.app.state.settings, org)
    return FileResponse(
        path,
        media_type=org.logo_type,
        headers={"Cache-Control": "public, max-age=3600", "Content-Security-Policy": "sandbox"},
    )


@router.get(
    "/organisations/{org_id}/members",
    response_model=list[MemberOut],
    summary="Members of an organisation",
)
def list_members(
    org_id: str, actor: Actor = allow("directory.read"), session: Session = db_session
):
    org = service.get_organisation(session, org_id)
    return [
        {
            "person_id": m.person_id,
            "display_name": m.person.display_name,
            "job_title": m.person.job_title,
            "role": m.role,
            "position": m.position,
        }
        for m in service.members_of(session, org)
        if m.person.visible or service.may_edit(actor, org.id)
    ]


@router.put(
    "/organisations/{org_id}/members/{person_id}/role",
    response_model=MemberOut,
    summary="Make a member an admin, or an admin a member (its admins)",
)
def set_member_role(
    org_id: str,
    person_id: str,
    body: MemberRoleIn,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    org = service.get_organisation(session, org_id)
    m = service.set_member_role(session, org, person_id, body.role, by=actor)
    return {
        "person_id": m.person_id,
        "display_name": m.person.display_name,
        "job_title": m.person.job_title,
        "role": m.role,
        "position": m.position,
    }


@router.delete(
    "/organisations/{org_id}/members/{person_id}",
    status_code=204,
    summary="Remove a member (its admins)",
)
def remove_member(
    org_id: str,
    person_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    org = service.get_organisation(session, org_id)
    service.remove_member(session, org, person_id, by=actor)
    return Response(status_code=204)


@router.get(
    "/organisations/{org_id}/invitations",
    response_model=list[InvitationOut],
    summary="Open invitations of an organisation (its admins)",
)
def list_invitations(
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    return service.open_invitations(session, service.get_organisation(session, org_id))


@router.post(
    "/organisations/{org_id}/invitations",
    response_model=InvitationOut,
    status_code=201,
    summary="Invite someone by email (its admins)",
)
def invite(
    org_id: str,
    body: InvitationIn,
    request: Request,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    org = service.get_organisation(session, org_id)
    invitation, _link = service.invite(
        session, request.app.state.settings, org, email=body.email, role=body.role, by=actor
    )
    return invitation


@router.delete(
    "/organisations/{org_id}/invitations/{invitation_id}",
    status_code=204,
    summary="Withdraw an invitation (its admins)",
)
def revoke_invitation(
    org_id: str,
    invitation_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    org = service.get_organisation(session, org_id)
    service.revoke_invitation(session, org, invitation_id, by=actor)
    return Response(status_code=204)


@router.post(
    "/invitations/accept",
    summary="Accept an invitation (signed-in invitee); the token comes in the body, never in a "
    "URL, so that no log sees it",
)
def accept_invitation(
    body: InvitationAcceptIn,
    request: Request,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
):
    settings = request.app.state.settings
    membership = service.accept_invitation(session, settings, body.token, actor)
    return {
        "organisation_id": membership.organisation_id,
        "person_id": membership.person_id,
        "role": membership.role,
    }


@router.patch("/me/profile", summary="Edit one's own person profile")
def update_my_profile(
    body: PersonIn, actor: Actor = allow("account.self"), session: Session = db_session
):
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise BadRequest(N_("nothing to change"), code="empty_update")
    person = service.update_person(session, data.own_person(session, actor), changes, by=actor)
    return service.person_view(person)


@router.get("/me/organisations", summary="The organisations one belongs to")
def my_organisations(actor: Actor = allow("account.self"), session: Session = db_session):
    return [
        {
            **service.organisation_view(org, members_only=True),
            "can_edit": service.may_edit(actor, org.id),
        }
        for org in service.organisations_of_account(session, actor.account_id or "")
    ]
