"""HTML pages of the directory: search, organisation profiles and their administration,
person profiles, one's own profile and invitations."""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Form, Request
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.db import versions
from campus.ecosystem.directory import api, data, service
from campus.ecosystem.directory.schemas import (
    DirectoryOut,
    InvitationAcceptIn,
    InvitationIn,
    LogoIn,
    MemberRoleIn,
    NoFields,
    OrganisationIn,
    PersonIn,
)
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES, label
from campus.errors import CampusError
from campus.i18n import current_language
from campus.i18n import gettext as _
from campus.web.deps import allow, db_session
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
AVATAR_TONES = 6  # .avatar-0 to .avatar-5 in directory.css, each 4.5:1 or more under white


def initials(name: str) -> str:
    """The letters of an avatar, first and last word: "Jean-Marc Roux-Combaluzier" -> "JR"."""
    words = [w for w in name.split() if w[:1].isalnum()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def avatar_tone(key: str) -> int:
    """A stable colour for one person's avatar, from their id."""
    return zlib.crc32(key.encode()) % AVATAR_TONES


env.globals["initials"] = initials
env.globals["avatar_tone"] = avatar_tone
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


ORG_LISTS = ("themes", "expertise", "needs")
PERSON_LISTS = ("competences", "expertise", "needs")


def _with_typed(
    shown: dict[str, Any], values: dict[str, Any], lists: tuple[str, ...]
) -> dict[str, Any]:
    """The stored fields with what was typed over them, to fill a refused form again: a list
    with no box ticked is not sent, nor is an unticked box (both mean none)."""
    typed = {k: v for k, v in values.items() if k in shown and k not in lists}
    for name in lists:
        found = values.get(name, [])
        typed[name] = [found] if isinstance(found, str) else list(found)
    return {**shown, **typed}


@twin(
    api.router,
    router,
    "/organisations/{org_id}/edit",
    api_path="/organisations/{org_id}/admin",
    template="ecosystem/org_edit.html",
    summary="What an organisation's admins manage: the whole profile, every member and the "
    "open invitations (its admins)",
    context=lambda data: {"org": data, **_vocabularies()},
)
def organisation_edit(
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> dict[str, Any]:
    return data.organisation_admin(session, org_id)


def _edit_again(session: Session, org_id: str) -> dict[str, Any]:
    """The admin page again, with a refusal (campus.web.forms renders it)."""
    shown = data.organisation_admin(session, org_id)
    return {"data": shown, "org": shown, **_vocabularies()}


def _profile_again(session: Session, org_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The admin page again, its profile form filled with what was typed."""
    context = _edit_again(session, org_id)
    return context | {"org": _with_typed(context["org"], values, ORG_LISTS)}


def _admin_form(path: str, model: type[BaseModel], again=_edit_again):
    return form_route(router, path, model=model, template="ecosystem/org_edit.html", context=again)


@_admin_form("/organisations/{org_id}/edit", OrganisationIn, _profile_again)
def organisation_save(
    body: OrganisationIn,
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    org = service.get_organisation(session, org_id)
    # Every field, sent or not: the form shows them all, and browsers send no list with
    # no box ticked nor an unticked box, which then mean none (None empties a list).
    service.update_organisation(session, org, body.model_dump(), by=actor)
    return f"/organisations/{org_id}/edit?saved=1"


@_admin_form("/organisations/{org_id}/logo", LogoIn)
def organisation_logo(
    body: LogoIn,
    request: Request,
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    content = body.logo.file.read(service.LOGO_MAX_BYTES + 1)
    org = service.get_organisation(session, org_id)
    service.save_logo(session, request.app.state.settings, org, content, by=actor)
    return f"/organisations/{org_id}/edit?saved=1"


@_admin_form("/organisations/{org_id}/invitations", InvitationIn)
def organisation_invite(
    body: InvitationIn,
    request: Request,
    org_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    org = service.get_organisation(session, org_id)
    settings = request.app.state.settings
    service.invite(session, settings, org, email=body.email, role=body.role, by=actor)
    return f"/organisations/{org_id}/edit?invited=1"


@_admin_form("/organisations/{org_id}/invitations/{invitation_id}/revoke", NoFields)
def organisation_invitation_revoke(
    org_id: str,
    invitation_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    org = service.get_organisation(session, org_id)
    service.revoke_invitation(session, org, invitation_id, by=actor)
    return f"/organisations/{org_id}/edit"


@_admin_form("/organisations/{org_id}/members/{person_id}/role", MemberRoleIn)
def organisation_member_role(
    body: MemberRoleIn,
    org_id: str,
    person_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    org = service.get_organisation(session, org_id)
    service.set_member_role(session, org, person_id, body.role, by=actor)
    return f"/organisations/{org_id}/edit"


@_admin_form("/organisations/{org_id}/members/{person_id}/remove", NoFields)
def organisation_member_remove(
    org_id: str,
    person_id: str,
    actor: Actor = allow("organisation.edit", scope=ORG_SCOPE),
    session: Session = db_session,
) -> str:
    org = service.get_organisation(session, org_id)
    service.remove_member(session, org, person_id, by=actor)
    return f"/organisations/{org_id}/edit"


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


def _profile_context(data: dict[str, Any], request: Request) -> dict[str, Any]:
    saved = request.query_params.get("saved") == "1"
    return {"person": data, "saved": saved, **_vocabularies()}


@twin(
    api.router,
    router,
    "/profile",
    api_path="/me/profile",
    template="ecosystem/directory_profile.html",
    summary="One's own person profile",
    context=_profile_context,
)
def my_profile(actor: Actor = allow("account.self"), session: Session = db_session) -> dict:
    return data.own_profile(session, actor)


def _my_profile_again(session: Session, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    shown = data.own_profile(session, actor)
    person = _with_typed(shown, values, PERSON_LISTS) | {"visible": "visible" in values}
    return {"data": shown, "person": person, **_vocabularies()}


@form_route(
    router,
    "/profile",
    model=PersonIn,
    template="ecosystem/directory_profile.html",
    context=_my_profile_again,
)
def my_profile_save(
    body: PersonIn, actor: Actor = allow("account.self"), session: Session = db_session
) -> str:
    person = data.own_person(session, actor)
    # Every field, as for an organisation: an unticked `visible` (not sent) hides it.
    service.update_person(session, person, body.model_dump(), by=actor)
    return "/profile?saved=1"


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
