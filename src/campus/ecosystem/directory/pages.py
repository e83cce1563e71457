"""HTML pages of the directory: search, organisation profiles and their administration,
person profiles, one's own profile and invitations."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db import versions
from campus.ecosystem.directory import api, data, service
from campus.ecosystem.directory.schemas import DirectoryOut, InvitationAcceptIn
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES, label
from campus.errors import CampusError, NotFound
from campus.i18n import N_, current_language
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session, form_data
from campus.web.forms import form_route
from campus.web.fragments import FragmentCache
from campus.web.pages_registry import page
from campus.web.templating import env, render
from campus.web.twins import twin

router = APIRouter()
# The result table is the same for everyone allowed to search: cached by filters, language
# and the directory's data version (moved by every write to its tables).
RESULTS = FragmentCache()
SEARCHES = FragmentCache()  # the search's data, for the page and its JSON twin
RESULTS_TEMPLATE = env.get_template("ecosystem/_directory_results.html")
ORG_SCOPE = ("organisation", "org_id")

env.globals["theme_label"] = lambda code: label(THEMES, code)
env.globals["skill_label"] = lambda code: label(SKILLS, code)
env.globals["kind_label"] = lambda code: label(KIND_LABELS, code)
VOCABULARIES = {"kind": KIND_LABELS, "theme": THEMES, "skill": SKILLS}


@lru_cache(maxsize=512)
def _options(language: str, name: str, selected: str) -> Markup:
    vocabulary = VOCABULARIES[name]
    return Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            code, Markup(" selected") if code == selected else "", label(vocabulary, code)
        )
        for code in vocabulary
    )


def vocabulary_options(name: str, selected: str) -> Markup:
    """The <option>s of a filter's vocabulary in the current language, one selected: the
    search form shows some eighty of them on every directory request, so they are cached
    (the key is bounded: a language, a vocabulary and one of its codes or none)."""
    vocabulary = VOCABULARIES[name]
    return _options(current_language.get(), name, selected if selected in vocabulary else "")


env.globals["vocabulary_options"] = vocabulary_options


def _vocabularies() -> dict[str, Any]:
    return {"kinds": list(KIND_LABELS), "themes": list(THEMES), "skills": list(SKILLS)}


def _results_html(
    data: dict[str, Any], session: Session, filters: dict[str, str], page: int, per_page: int
) -> dict[str, Any]:
    """The page's result cards and pager, rendered once per language, filters and data
    version (the same for everyone allowed to search)."""

    def results() -> Markup:
        # An autoescaped template's output is safe HTML.
        return Markup(RESULTS_TEMPLATE.render(result=data, filters=filters))  # noqa: S704

    key = (current_language.get(), *filters.values(), page, per_page)
    html = RESULTS.get(key, versions.stamp(session, "directory"), results)
    return {"filters": filters, "results": html}


@twin(
    api.router,
    router,
    "/directory",
    template="ecosystem/directory_search.html",
    summary="Search organisations or people, the most relevant first (the name, then tags, "
    "then the rest of the text)",
    response_model=DirectoryOut,
    context=lambda data, session, q, section, kind, theme, skill, page, per_page: _results_html(
        data,
        session,
        {"q": q, "section": section, "kind": kind, "theme": theme, "skill": skill},
        page,
        per_page,
    ),
)
async def directory(
    q: str = "",
    section: str = "organisations",
    kind: str = "",
    theme: str = "",
    skill: str = "",
    page: int = 1,
    per_page: int = 20,
    actor: Actor = allow("directory.read"),
    session: Session = db_session,
) -> dict[str, Any]:
    # The same for everyone allowed to search: kept by filters and the directory's data
    # version (moved by every write to its tables).
    def found() -> Any:
        result = service.search_directory(
            session,
            query=q,
            section=section,
            kind=kind,
            theme=theme,
            skill=skill,
            page=page,
            per_page=per_page,
        )
        return api.directory_out(result)

    key = (q, section, kind, theme, skill, page, per_page)
    return SEARCHES.get(key, versions.stamp(session, "directory"), found)


@twin(
    api.router,
    router,
    "/organisations/{org_id}",
    template="ecosystem/org_profile.html",
    summary="An organisation's profile",
    context=lambda data, actor, session: {
        "org": data,
        "members_only": service.can_read_members_only(actor),
        "can_edit": service.may_edit(actor, data["id"]),
        "is_member": actor.authenticated
        and any(
            o.id == data["id"]
            for o in service.organisations_of_account(session, actor.account_id or "")
        ),
    },
)
def organisation(
    org_id: str, actor: Actor = allow("public.read"), session: Session = db_session
) -> dict[str, Any]:
    return data.organisation_profile(session, actor, org_id)


def _admin_context(session: Session, org_id: str) -> dict[str, Any]:
    org = service.get_organisation(session, org_id)
    return {
        "org": org,
        "members": service.members_of(session, org),
        "invitations": service.open_invitations(session, org),
        **_vocabularies(),
    }


@page(router, "/organisations/{org_id}/edit", twin="/api/v1/organisations/{org_id}")
def organisation_edit(
    request: Request,
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    return render(request, "ecosystem/org_edit.html", _admin_context(session, org_id))


def _admin_error(request: Request, session: Session, org_id: str, error: CampusError):
    session.rollback()
    message = _(error.message) + (f" ({error.where})" if error.where else "")
    context = _admin_context(session, org_id) | {"error": message}
    return render(request, "ecosystem/org_edit.html", context, status=error.status)


@router.post("/organisations/{org_id}/edit", include_in_schema=False)
def organisation_save(
    request: Request,
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
    form: FormData = form_data,
):
    data: dict[str, Any] = {
        name: str(form.get(name, ""))
        for name in (
            "name",
            "kind",
            "city",
            "website",
            "summary_fr",
            "summary_en",
            "description_html",
            "contact_email",
            "phone",
            "headcount",
            "founded_year",
        )
    }
    for name in ("themes", "expertise", "needs"):
        data[name] = [str(v) for v in form.getlist(name)]
    try:
        org = service.get_organisation(session, org_id)
        service.update_organisation(session, org, data, by=actor)
    except CampusError as error:
        return _admin_error(request, session, org_id, error)
    return RedirectResponse(f"/organisations/{org_id}/edit?saved=1", status_code=303)


@router.post("/organisations/{org_id}/logo", include_in_schema=False)
def organisation_logo(
    request: Request,
    org_id: str,
    logo: UploadFile,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    content = logo.file.read(service.LOGO_MAX_BYTES + 1)
    try:
        org = service.get_organisation(session, org_id)
        service.save_logo(session, request.app.state.settings, org, content, by=actor)
    except CampusError as error:
        return _admin_error(request, session, org_id, error)
    return RedirectResponse(f"/organisations/{org_id}/edit?saved=1", status_code=303)


@router.post("/organisations/{org_id}/invitations", include_in_schema=False)
def organisation_invite(
    request: Request,
    org_id: str,
    email: str = Form(..., max_length=320),
    role: str = Form("member"),
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    try:
        org = service.get_organisation(session, org_id)
        service.invite(session, request.app.state.settings, org, email=email, role=role, by=actor)
    except CampusError as error:
        return _admin_error(request, session, org_id, error)
    return RedirectResponse(f"/organisations/{org_id}/edit?invited=1", status_code=303)


@router.post("/organisations/{org_id}/invitations/{invitation_id}/revoke", include_in_schema=False)
def organisation_invitation_revoke(
    request: Request,
    org_id: str,
    invitation_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    try:
        org = service.get_organisation(session, org_id)
        service.revoke_invitation(session, org, invitation_id, by=actor)
    except CampusError as error:
        return _admin_error(request, session, org_id, error)
    return RedirectResponse(f"/organisations/{org_id}/edit", status_code=303)


@router.post("/organisations/{org_id}/members/{person_id}/role", include_in_schema=False)
def organisation_member_role(
    request: Request,
    org_id: str,
    person_id: str,
    role: str = Form(...),
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    try:
        org = service.get_organisation(session, org_id)
        service.set_member_role(session, org, person_id, role, by=actor)
    except CampusError as error:
        return _admin_error(request, session, org_id, error)
    return RedirectResponse(f"/organisations/{org_id}/edit", status_code=303)


@router.post("/organisations/{org_id}/members/{person_id}/remove", include_in_schema=False)
def organisation_member_remove(
    request: Request,
    org_id: str,
    person_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
):
    try:
        org = service.get_organisation(session, org_id)
        service.remove_member(session, org, person_id, by=actor)
    except CampusError as error:
        return _admin_error(request, session, org_id, error)
    return RedirectResponse(f"/organisations/{org_id}/edit", status_code=303)


def _is_me(session: Session, actor: Actor, person: dict[str, Any]) -> bool:
    mine = service.person_of_account(session, actor.account_id or "")
    return mine is not None and mine.id == person["id"]


@twin(
    api.router,
    router,
    "/people/{person_id}",
    template="ecosystem/directory_person.html",
    summary="A person's profile",
    context=lambda data, actor, session: {"person": data, "is_me": _is_me(session, actor, data)},
)
def person(
    person_id: str, actor: Actor = allow("directory.read"), session: Session = db_session
) -> dict[str, Any]:
    return service.person_view(service.get_person(session, person_id, actor))


def _own(session: Session, actor: Actor):
    account = session.get(Account, actor.account_id or "")
    if account is None:
        raise NotFound(N_("no such person"), code="not_found")
    return service.ensure_person(session, account)


@page(router, "/profile", twin="/api/v1/me/profile")
def my_profile(
    request: Request, actor: Actor = allow("account.self"), session: Session = db_session
):
    person = _own(session, actor)
    return render(
        request,
        "ecosystem/directory_profile.html",
        {
            "person": person,
            "organisations": service.organisations_of_account(session, actor.account_id or ""),
            "saved": request.query_params.get("saved") == "1",
            **_vocabularies(),
        },
    )


@router.post("/profile", include_in_schema=False)
def my_profile_save(
    request: Request,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
    form: FormData = form_data,
):
    data: dict[str, Any] = {
        name: str(form.get(name, ""))
        for name in ("display_name", "job_title", "city", "bio_html", "contact_email")
    }
    for name in ("competences", "expertise", "needs"):
        data[name] = [str(v) for v in form.getlist(name)]
    data["visible"] = form.get("visible") == "on"
    person = _own(session, actor)
    try:
        service.update_person(session, person, data, by=actor)
    except CampusError as error:
        session.rollback()
        person = _own(session, actor)
        return render(
            request,
            "ecosystem/directory_profile.html",
            {
                "person": person,
                "organisations": service.organisations_of_account(session, actor.account_id or ""),
                "error": _(error.message) + (f" ({error.where})" if error.where else ""),
                **_vocabularies(),
            },
            status=error.status,
        )
    return RedirectResponse("/profile?saved=1", status_code=303)


# An invitation's link carries its token in the URL fragment (#token=...), which browsers
# never send: the page's script copies it into a form, posted in the body. No log sees it.
@page(
    router,
    "/invitations",
    no_twin="a single-use form reached from a mail; API: POST /api/v1/invitations/accept",
)
def invitation(request: Request, actor: Actor = allow("public.read")):
    return render(request, "ecosystem/org_invitation.html", {})


@router.post("/invitations", include_in_schema=False)
def invitation_open(
    request: Request,
    token: str = Form("", max_length=1000),
    actor: Actor = allow("public.read"),
    session: Session = db_session,
):
    """The invitation a posted token names: whom it is from and the role, before accepting."""
    try:
        found = service.read_invitation(session, request.app.state.settings, token)
        org = service.get_organisation(session, found.organisation_id)
    except CampusError as error:
        context = {"error": _(error.message), "token": token}
        return render(request, "ecosystem/org_invitation.html", context, status=error.status)
    context = {"invitation": found, "org": org, "token": token}
    return render(request, "ecosystem/org_invitation.html", context)


@form_route(
    router,
    "/invitations/accept",
    model=InvitationAcceptIn,
    template="ecosystem/org_invitation.html",
    context=lambda values: {"token": values.get("token", "")},
)
def invitation_accept(
    request: Request,
    body: InvitationAcceptIn,
    actor: Actor = allow("account.self"),
    session: Session = db_session,
) -> str:
    settings = request.app.state.settings
    membership = service.accept_invitation(session, settings, body.token, actor)
    return f"/organisations/{membership.organisation_id}"
