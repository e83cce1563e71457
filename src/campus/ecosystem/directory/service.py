"""Organisations, people, memberships, invitations and logos: the only way in for CLI, API
and pages. Validation lives here, so every entry point refuses the same bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth import service as auth
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.auth.policy import get as permission
from campus.auth.roles import Role, ScopeType
from campus.db.base import utcnow
from campus.db.engine import lock, read
from campus.ecosystem.directory import images, search
from campus.ecosystem.directory.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    OrgRole,
    Person,
)
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES, both_labels
from campus.ecosystem.directory.vocabulary import check_codes as _codes
from campus.errors import BadRequest, Conflict, Forbidden, NotFound, TooLarge
from campus.i18n import N_
from campus.settings import Settings
from campus.text import LINE_BREAK, one_line

SLUG_RE = re.compile(r"[^a-z0-9]+")
PHONE_RE = re.compile(r"^[0-9+ ().-]{6,40}\Z")
INVITATION_DAYS = 7
INVITATION_SALT = "campus.ecosystem.invitation"
LOGO_MAX_BYTES = 512 * 1024
RICH_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "blockquote"}
RICH_ATTRIBUTES = {"a": {"href", "title"}}
PER_PAGE_MAX = 100
MAX_HEADCOUNT = 1_000_000


# --- helpers ------------------------------------------------------------------------------------


def sanitise_rich_text(html: str) -> str:
    """Keep a few formatting tags; drop scripts, styles, event handlers and unsafe links."""
    return nh3.clean(
        html,
        tags=RICH_TAGS,
        attributes=RICH_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def _text(
    value: Any, where: str, *, max_length: int, required: bool = False, one_line: bool = False
) -> str:
    """Trimmed text; in a `one_line` field (a name, a city: names go into mail subjects) any
    line break becomes a space."""
    text = "" if value is None else str(value)
    if one_line:
        text = re.sub(r" {2,}", " ", LINE_BREAK.sub(" ", text))
    text = text.strip()
    if required and not text:
        raise BadRequest(N_("this field is required"), code="required", where=where)
    if len(text) > max_length:
        raise BadRequest(
            N_("this field is too long"), code="too_long", where=f"{where} (max {max_length})"
        )
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise BadRequest(N_("this field holds control characters"), code="invalid", where=where)
    return text


def _email(value: Any, where: str, *, required: bool = False) -> str:
    text = _text(value, where, max_length=320, required=required)
    if not text:
        return ""
    try:
        return auth.normalise_email(text)
    except auth.AuthError:
        raise BadRequest(
            N_("not a valid email address"), code="invalid_email", where=where
        ) from None


def _url(value: Any, where: str) -> str:
    text = _text(value, where, max_length=300)
    if text and not re.match(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", text):
        raise BadRequest(
            N_("a web address starts with http:// or https://"), code="invalid_url", where=where
        )
    return text


def _whole(value: Any, where: str, low: int, high: int, out_of_range: str) -> int | None:
    """A whole number from `low` to `high`, or None when empty; `out_of_range` says the bounds."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(N_("not a whole number"), code="invalid_number", where=where) from None
    if not low <= number <= high:
        raise BadRequest(out_of_range, code="out_of_range", where=where)
    return number


def _year(value: Any, where: str) -> int | None:
    return _whole(value, where, 1800, utcnow().year, N_("the year must be from 1800 to this year"))


def _count(value: Any, where: str) -> int | None:
    return _whole(value, where, 0, MAX_HEADCOUNT, N_("the number must be from 0 to 1,000,000"))


def slugify(name: str) -> str:
    return SLUG_RE.sub("-", search.fold(name)).strip("-")[:70] or "organisation"


def can_read_members_only(actor: Actor) -> bool:
    """Member-only fields are for those who may read the member directory."""
    return permission("directory.read").allows(actor)


def may_edit(actor: Actor, organisation_id: str) -> bool:
    return permission("organisation.edit").allows(actor, ScopeType.ORGANISATION, organisation_id)


# --- organisations ------------------------------------------------------------------------------

ORG_FIELDS = (
    "name",
    "kind",
    "city",
    "website",
    "summary_fr",
    "summary_en",
    "description_html",
    "themes",
    "expertise",
    "needs",
    "contact_email",
    "phone",
    "headcount",
    "founded_year",
)


def _organisation_values(data: dict[str, Any], current: Organisation | None) -> dict[str, Any]:
    def given(name: str) -> bool:
        return name in data or current is None

    values: dict[str, Any] = {}
    unknown = set(data) - set(ORG_FIELDS)
    if unknown:
        raise BadRequest(
            N_("unknown field"), code="unknown_field", where=", ".join(sorted(unknown))
        )
    if given("name"):
        values["name"] = _text(
            data.get("name"), "name", max_length=200, required=True, one_line=True
        )
    if given("kind"):
        kind = str(data.get("kind") or "")
        if kind not in {k.value for k in OrganisationKind}:
            raise BadRequest(
                N_("unknown organisation kind"),
                code="invalid_kind",
                where=f"kind: one of {', '.join(k.value for k in OrganisationKind)}",
            )
        values["kind"] = kind
    for name, limit in (("city", 100), ("summary_fr", 500), ("summary_en", 500)):
        if given(name):
            values[name] = _text(data.get(name), name, max_length=limit, one_line=name == "city")
    if given("website"):
        values["website"] = _url(data.get("website"), "website")
    if given("description_html"):
        raw = _text(data.get("description_html"), "description_html", max_length=20_000)
        values["description_html"] = sanitise_rich_text(raw)
    if given("themes"):
        values["themes"] = _codes(THEMES, data.get("themes"), "themes")
    for name in ("expertise", "needs"):
        if given(name):
            values[name] = _codes(SKILLS, data.get(name), name)
    if given("contact_email"):
        values["contact_email"] = _email(data.get("contact_email"), "contact_email")
    if given("phone"):
        phone = _text(data.get("phone"), "phone", max_length=40)
        if phone and not PHONE_RE.match(phone):
            raise BadRequest(N_("not a valid phone number"), code="invalid_phone", where="phone")
        values["phone"] = phone
    if given("headcount"):
        values["headcount"] = _count(data.get("headcount"), "headcount")
    if given("founded_year"):
        values["founded_year"] = _year(data.get("founded_year"), "founded_year")
    return values


def organisation_search_text(org: Organisation) -> str:
    return search.document(
        org.name,
        org.city,
        org.summary_fr,
        org.summary_en,
        list(KIND_LABELS.get(org.kind, (org.kind,))),
        both_labels(THEMES, org.themes or []),
        both_labels(SKILLS, org.expertise or []),
    )


def create_organisation(
    session: Session, data: dict[str, Any], *, by: Actor, slug: str | None = None
) -> Organisation:
    values = _organisation_values(data, None)
    base = slugify(slug or values["name"])
    candidate, n = base, 1
    while session.scalar(select(Organisation.id).where(Organisation.slug == candidate)):
        n += 1
        candidate = f"{base}-{n}"
    org = Organisation(slug=candidate, **values)
    org.search_text = organisation_search_text(org)
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor=by.label,
        action="organisation.created",
        object_type="organisation",
        object_id=org.id,
        details={"kind": org.kind},
    )
    return org


def update_organisation(
    session: Session, org: Organisation, data: dict[str, Any], *, by: Actor
) -> Organisation:
    values = _organisation_values(data, org)
    changed = sorted(k for k, v in values.items() if getattr(org, k) != v)
    for key, value in values.items():
        setattr(org, key, value)
    org.search_text = organisation_search_text(org)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=by.label,
            action="organisation.updated",
            object_type="organisation",
            object_id=org.id,
            details={"fields": changed},
        )
    return org


def get_organisation(session: Session, key: str) -> Organisation:
    """An active organisation by id or slug."""
    org = session.get(Organisation, key) or session.scalar(
        select(Organisation).where(Organisation.slug == key)
    )
    if org is None or not org.active:
        raise NotFound(N_("no such organisation"), code="not_found", where=key[:80])
    return org


def organisations_of_account(session: Session, account_id: str) -> list[Organisation]:
    """The organisations the person linked to an account belongs to, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.account_id == account_id)
            .order_by(Organisation.name)
        )
    )


def organisation_view(org: Organisation, *, members_only: bool) -> dict[str, Any]:
    """The fields of a profile a reader may see: public ones, plus member-only ones."""
    view: dict[str, Any] = {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "kind": org.kind,
        "city": org.city,
        "website": org.website,
        "summary_fr": org.summary_fr,
        "summary_en": org.summary_en,
        "description_html": org.description_html,
        "themes": list(org.themes or []),
        "expertise": list(org.expertise or []),
        "founded_year": org.founded_year,
        "logo_url": f"/api/v1/organisations/{org.id}/logo" if org.logo_file else None,
    }
    if members_only:
        view |= {
            "needs": list(org.needs or []),
            "contact_email": org.contact_email,
            "phone": org.phone,
            "headcount": org.headcount,
        }
    return view


# --- logos --------------------------------------------------------------------------------------

LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def sniff_image(content: bytes) -> str | None:
    """The image type from the file's first bytes (never from its name or declared type)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def logos_dir(settings: Settings) -> Path:
    return settings.var_dir / "uploads" / "logos"


def save_logo(
    session: Session, settings: Settings, org: Organisation, content: bytes, *, by: Actor
) -> Organisation:
    if not content:
        raise BadRequest(N_("the file is empty"), code="empty_file", where="logo")
    if len(content) > LOGO_MAX_BYTES:
        raise TooLarge(
            N_("the logo is too large: 512 KB at most"),
            code="file_too_large",
            where=f"logo ({len(content)} bytes)",
        )
    kind = sniff_image(content)
    if kind is None:
        raise BadRequest(
            N_("the logo must be a PNG, JPEG or WebP image"), code="wrong_file_type", where="logo"
        )
    if images.problem(content, kind) is not None:
        # A polyglot (an image with HTML or script appended or tucked inside), a truncated
        # or damaged file, or one too large in pixels.
        raise BadRequest(
            N_("the logo is not a whole, valid image: save it again as PNG, JPEG or WebP"),
            code="invalid_image",
            where="logo",
        )
    folder = logos_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{org.id}-{hashlib.sha256(content).hexdigest()[:16]}.{LOGO_TYPES[kind]}"
    (folder / (name + ".part")).write_bytes(content)
    (folder / (name + ".part")).replace(folder / name)
    previous = org.logo_file
    org.logo_file, org.logo_type = name, kind
    session.flush()
    if previous and previous != name:
        (folder / previous).unlink(missing_ok=True)
    audit.record(
        session,
        actor=by.label,
        action="organisation.logo_changed",
        object_type="organisation",
        object_id=org.id,
        details={"type": kind, "bytes": len(content)},
    )
    return org


def logo_file(settings: Settings, org: Organisation) -> Path:
    path = logos_dir(settings) / org.logo_file if org.logo_file else None
    if path is None or not path.is_file():
        raise NotFound(N_("this organisation has no logo"), code="not_found")
    return path


# --- people -------------------------------------------------------------------------------------

PERSON_FIELDS = (
    "display_name",
    "job_title",
    "city",
    "bio_html",
    "competences",
    "expertise",
    "needs",
    "contact_email",
    "visible",
)


def person_search_text(person: Person, organisations: list[str]) -> str:
    return search.document(
        person.display_name,
        person.job_title,
        person.city,
        organisations,
        both_labels(SKILLS, person.competences or []),
        both_labels(SKILLS, person.expertise or []),
    )


def refresh_person_search(session: Session, person: Person) -> None:
    names = list(
        session.scalars(
            select(Organisation.name)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.person_id == person.id)
        )
    )
    person.search_text = person_search_text(person, names)


def person_of_account(session: Session, account_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.account_id == account_id))


def ensure_person(session: Session, account: Account) -> Person:
    """The profile of an account, created from the account on first use."""
    person = person_of_account(session, account.id)
    if person is None:
        person = Person(account_id=account.id, display_name=account.name)
        person.search_text = person_search_text(person, [])
        session.add(person)
        session.flush()
        audit.record(
            session,
            actor=f"account:{account.id}",
            action="person.created",
            object_type="person",
            object_id=person.id,
        )
    return person


def update_person(session: Session, person: Person, data: dict[str, Any], *, by: Actor) -> Person:
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise BadRequest(
            N_("unknown field"), code="unknown_field", where=", ".join(sorted(unknown))
        )
    values: dict[str, Any] = {}
    if "display_name" in data:
        values["display_name"] = _text(
            data["display_name"], "display_name", max_length=200, required=True, one_line=True
        )
    for name, limit in (("job_title", 200), ("city", 100)):
        if name in data:
            values[name] = _text(data[name], name, max_length=limit, one_line=True)
    if "bio_html" in data:
        values["bio_html"] = sanitise_rich_text(
            _text(data["bio_html"], "bio_html", max_length=20_000)
        )
    for name in ("competences", "expertise", "needs"):
        if name in data:
            values[name] = _codes(SKILLS, data[name], name)
    if "contact_email" in data:
        values["contact_email"] = _email(data["contact_email"], "contact_email")
    if "visible" in data:
        values["visible"] = bool(data["visible"])
    changed = sorted(k for k, v in values.items() if getattr(person, k) != v)
    for key, value in values.items():
        setattr(person, key, value)
    refresh_person_search(session, person)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=by.label,
            action="person.updated",
            object_type="person",
            object_id=person.id,
            details={"fields": changed},
        )
    return person


def get_person(session: Session, person_id: str, actor: Actor) -> Person:
    person = session.get(Person, person_id)
    own = person is not None and person.account_id == actor.account_id and actor.authenticated
    if person is None or not (person.visible or own or actor.is_staff):
        raise NotFound(N_("no such person"), code="not_found", where=person_id[:80])
    return person


def person_view(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "display_name": person.display_name,
        "job_title": person.job_title,
        "city": person.city,
        "bio_html": person.bio_html,
        "competences": list(person.competences or []),
        "expertise": list(person.expertise or []),
        "needs": list(person.needs or []),
        "contact_email": person.contact_email,
        "visible": person.visible,
        "organisations": [
            {
                "id": m.organisation.id,
                "slug": m.organisation.slug,
                "name": m.organisation.name,
                "role": m.role,
                "position": m.position,
            }
            for m in person.memberships
        ],
    }


# --- memberships --------------------------------------------------------------------------------


def add_member(
    session: Session,
    org: Organisation,
    person: Person,
    *,
    role: str = OrgRole.MEMBER,
    position: str = "",
    by: Actor,
) -> Membership:
    if role not in {r.value for r in OrgRole}:
        raise BadRequest(N_("unknown role in the organisation"), code="invalid_role", where="role")
    existing = session.scalar(
        select(Membership).where(
            Membership.person_id == person.id, Membership.organisation_id == org.id
        )
    )
    if existing is not None:
        if existing.role != role and role == OrgRole.ADMIN:
            existing.role = role
        membership = existing
    else:
        membership = Membership(
            person=person,
            organisation=org,
            role=role,
            position=_text(position, "position", max_length=200, one_line=True),
        )
        session.add(membership)
    session.flush()
    refresh_person_search(session, person)
    account = session.get(Account, person.account_id) if person.account_id else None
    if account is not None:
        auth.grant_role(session, account, Role.MEMBER, by=by)
        if membership.role == OrgRole.ADMIN:
            auth.grant_role(
                session,
                account,
                Role.ORG_ADMIN,
                scope_type=ScopeType.ORGANISATION,
                scope_id=org.id,
                by=by,
            )
    audit.record(
        session,
        actor=by.label,
        action="membership.added",
        object_type="organisation",
        object_id=org.id,
        details={"person": person.id, "role": membership.role},
    )
    return membership


def _admin_count(session: Session, org: Organisation) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == org.id, Membership.role == OrgRole.ADMIN)
        )
        or 0
    )


def _lock_memberships(session: Session, org: Organisation) -> None:
    """Lock the organisation's row before reading a membership to change: role changes and
    removals of one organisation then run one at a time, and each sees the admins the
    previous ones left (two admins removed at once could both see the other still there)."""
    lock(session, org)


def _keep_an_admin(session: Session, org: Organisation, leaving: Membership) -> None:
    """Refuse, whoever asks (staff included), to take away the organisation's last admin.
    Called under `_lock_memberships`."""
    if leaving.role == OrgRole.ADMIN and _admin_count(session, org) <= 1:
        raise Conflict(
            N_("an organisation keeps at least one admin: name another admin first"),
            code="last_admin",
        )


def set_member_role(
    session: Session, org: Organisation, person_id: str, role: str, *, by: Actor
) -> Membership:
    """Make a member an admin of the organisation, or an admin a plain member."""
    if role not in {r.value for r in OrgRole}:
        raise BadRequest(N_("unknown role in the organisation"), code="invalid_role", where="role")
    _lock_memberships(session, org)
    membership = session.scalar(
        select(Membership).where(
            Membership.person_id == person_id, Membership.organisation_id == org.id
        )
    )
    if membership is None:
        raise NotFound(N_("this person is not a member"), code="not_found", where=person_id[:80])
    if membership.role == role:
        return membership
    _keep_an_admin(session, org, membership)
    membership.role = role
    session.flush()
    account_id = membership.person.account_id
    account = session.get(Account, account_id) if account_id else None
    if account is not None:
        scope = {"scope_type": ScopeType.ORGANISATION, "scope_id": org.id, "by": by}
        if role == OrgRole.ADMIN:
            auth.grant_role(session, account, Role.ORG_ADMIN, **scope)
        else:
            auth.revoke_role(session, account, Role.ORG_ADMIN, **scope)
    audit.record(
        session,
        actor=by.label,
        action="membership.role_changed",
        object_type="organisation",
        object_id=org.id,
        details={"person": person_id, "role": role},
    )
    return membership


def remove_member(session: Session, org: Organisation, person_id: str, *, by: Actor) -> None:
    _lock_memberships(session, org)
    membership = session.scalar(
        select(Membership).where(
            Membership.person_id == person_id, Membership.organisation_id == org.id
        )
    )
    if membership is None:
        raise NotFound(N_("this person is not a member"), code="not_found", where=person_id[:80])
    _keep_an_admin(session, org, membership)
    person = membership.person
    session.delete(membership)
    session.flush()
    if person.account_id:
        account = session.get(Account, person.account_id)
        if account is not None:
            auth.revoke_role(
                session,
                account,
                Role.ORG_ADMIN,
                scope_type=ScopeType.ORGANISATION,
                scope_id=org.id,
                by=by,
            )
    refresh_person_search(session, person)
    audit.record(
        session,
        actor=by.label,
        action="membership.removed",
        object_type="organisation",
        object_id=org.id,
        details={"person": person_id},
    )


def members_of(session: Session, org: Organisation) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .join(Person)
            .where(Membership.organisation_id == org.id)
            .order_by(Membership.role, Person.display_name)
        )
    )


# --- invitations --------------------------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret("secret_key"), salt=INVITATION_SALT)


def invite(
    session: Session,
    settings: Settings,
    org: Organisation,
    *,
    email: str,
    role: str = OrgRole.MEMBER,
    by: Actor,
) -> tuple[Invitation, str]:
    """Record an invitation and mail its signed link; returns the invitation and the link."""
    email = _email(email, "email", required=True)
    if role not in {r.value for r in OrgRole}:
        raise BadRequest(N_("unknown role in the organisation"), code="invalid_role", where="role")
    already = session.scalar(
        select(Membership.id)
        .join(Person)
        .join(Account, Account.id == Person.account_id)
        .where(Membership.organisation_id == org.id, Account.email == email)
    )
    if already:
        raise Conflict(N_("this person is already a member"), code="already_member", where="email")
    now = utcnow()
    invitation = Invitation(
        organisation_id=org.id,
        email=email,
        role=role,
        invited_by=by.label,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    token = _serializer(settings).dumps({"i": invitation.id, "o": org.id})
    # The token goes in the fragment, which browsers never send: no log sees it.
    link = f"{settings.base_url.rstrip('/')}/invitations#token={token}"
    mail.queue(
        session,
        settings,
        to=email,
        subject=one_line(
            f"Campus : invitation à rejoindre {org.name} / invitation to join {org.name}"
        ),
        body=(
            f"Vous êtes invité·e à rejoindre {org.name} sur Campus. Ce lien est valable "
            f"{INVITATION_DAYS} jours :\n{link}\n\n"
            f"You are invited to join {org.name} on Campus. This link is valid for "
            f"{INVITATION_DAYS} days:\n{link}\n"
        ),
    )
    audit.record(
        session,
        actor=by.label,
        action="invitation.sent",
        object_type="organisation",
        object_id=org.id,
        details={"invitation": invitation.id, "role": role},
    )
    return invitation, link


def read_invitation(
    session: Session, settings: Settings, token: str, *, for_update: bool = False
) -> Invitation:
    """The open invitation a signed token names; refuses forged, expired, used or revoked ones.
    `for_update` locks it first (to accept it: not twice, not while it is withdrawn)."""
    try:
        payload = _serializer(settings).loads(token, max_age=INVITATION_DAYS * 24 * 3600)
    except SignatureExpired:
        raise BadRequest(
            N_("this invitation has expired: ask the organisation for a new one"),
            code="invitation_expired",
        ) from None
    except BadSignature:
        raise BadRequest(
            N_("this invitation link is not valid"), code="invitation_invalid"
        ) from None
    invitation = session.get(Invitation, str(payload.get("i", "")))
    if invitation is None or invitation.organisation_id != payload.get("o"):
        raise BadRequest(N_("this invitation link is not valid"), code="invitation_invalid")
    if for_update:
        lock(session, invitation)
    if invitation.revoked_at is not None:
        raise BadRequest(N_("this invitation was withdrawn"), code="invitation_revoked")
    if invitation.accepted_at is not None:
        raise Conflict(N_("this invitation was already used"), code="invitation_used")
    if invitation.expires_at <= utcnow():
        raise BadRequest(
            N_("this invitation has expired: ask the organisation for a new one"),
            code="invitation_expired",
        )
    return invitation


def accept_invitation(session: Session, settings: Settings, token: str, actor: Actor) -> Membership:
    invitation = read_invitation(session, settings, token, for_update=True)
    account = session.get(Account, actor.account_id) if actor.account_id else None
    if account is None:
        raise Forbidden(N_("sign in to continue"), code="not_authenticated")
    if account.email != invitation.email:
        raise Forbidden(
            N_("this invitation was sent to another email address: sign in with that address"),
            code="invitation_other_email",
        )
    org = get_organisation(session, invitation.organisation_id)
    person = ensure_person(session, account)
    membership = add_member(session, org, person, role=invitation.role, by=actor)
    invitation.accepted_at = utcnow()
    invitation.accepted_by = account.id
    audit.record(
        session,
        actor=actor.label,
        action="invitation.accepted",
        object_type="organisation",
        object_id=org.id,
        details={"invitation": invitation.id, "role": invitation.role},
    )
    return membership


def revoke_invitation(
    session: Session, org: Organisation, invitation_id: str, *, by: Actor
) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id:
        raise NotFound(N_("no such invitation"), code="not_found", where=invitation_id[:80])
    lock(session, invitation)  # not while it is being accepted
    if invitation.accepted_at is not None:
        raise Conflict(N_("this invitation was already used"), code="invitation_used")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(
            session,
            actor=by.label,
            action="invitation.revoked",
            object_type="organisation",
            object_id=org.id,
            details={"invitation": invitation.id},
        )
    return invitation


def open_invitations(session: Session, org: Organisation) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.organisation_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


# --- directory ----------------------------------------------------------------------------------


def _has_code(column: Any, code: str) -> Any:
    """The JSON list in `column` holds `code` (codes are [a-z_]: no wildcard slips in)."""
    return cast(column, Text).like(f'%"{code}"%')


@dataclass
class DirectoryPage:
    kind: str  # organisations | people
    query: str
    total: int
    page: int
    per_page: int
    items: list[dict[str, Any]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_directory(
    session: Session,
    *,
    query: str = "",
    section: str = "organisations",
    kind: str = "",
    theme: str = "",
    skill: str = "",
    page: int = 1,
    per_page: int = 20,
) -> DirectoryPage:
    """Search organisations or people; accent-insensitive, filters, pagination."""
    query = _text(query, "q", max_length=200)
    if section not in ("organisations", "people"):
        raise BadRequest(N_("unknown directory section"), code="invalid_section", where="section")
    if page < 1 or not 1 <= per_page <= PER_PAGE_MAX:
        raise BadRequest(
            N_("page starts at 1 and per_page is 1 to 100"), code="invalid_page", where="page"
        )
    if kind and kind not in KIND_LABELS:
        raise BadRequest(N_("unknown organisation kind"), code="invalid_kind", where="kind")
    if theme and theme not in THEMES:
        raise BadRequest(N_("unknown theme"), code="invalid_theme", where="theme")
    if skill and skill not in SKILLS:
        raise BadRequest(N_("unknown skill"), code="invalid_skill", where="skill")
    model = Organisation if section == "organisations" else Person
    where = []
    condition = search.matches(model.search_text, query)
    if condition is not None:
        where.append(condition)
    if model is Organisation:
        where.append(Organisation.active.is_(True))
        if kind:
            where.append(Organisation.kind == kind)
        if theme:
            where.append(_has_code(Organisation.themes, theme))
        if skill:
            where.append(_has_code(Organisation.expertise, skill))
    else:
        where.append(Person.visible.is_(True))
        if skill:
            where.append(_has_code(Person.expertise, skill) | _has_code(Person.competences, skill))
        if kind or theme:
            sub = select(Membership.person_id).join(Organisation)
            if kind:
                sub = sub.where(Organisation.kind == kind)
            if theme:
                sub = sub.where(_has_code(Organisation.themes, theme))
            where.append(Person.id.in_(sub))
    name = Organisation.name if model is Organisation else Person.display_name
    columns = (
        (
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.city,
            Organisation.summary_fr,
            Organisation.summary_en,
            Organisation.themes,
            Organisation.logo_file,
        )
        if model is Organisation
        else (Person.id, Person.display_name, Person.job_title, Person.city, Person.competences)
    )
    # The page and the total in one round trip: every row carries the count of all matches.
    rows = read(
        session,
        select(*columns, func.count().over().label("total"))
        .where(*where)
        .order_by(search.rank(model.search_text, query), name, model.id)
        .limit(per_page)
        .offset((page - 1) * per_page),
    ).all()
    if rows:
        total = rows[0].total
    else:  # past the last page, or nothing matches
        total = read(session, select(func.count()).select_from(model).where(*where)).scalar() or 0
    if model is Organisation:
        items = [
            {
                "id": o.id,
                "slug": o.slug,
                "name": o.name,
                "kind": o.kind,
                "city": o.city,
                "summary_fr": o.summary_fr,
                "summary_en": o.summary_en,
                "themes": list(o.themes or []),
                "logo_url": f"/api/v1/organisations/{o.id}/logo" if o.logo_file else None,
            }
            for o in rows
        ]
    else:
        items = [
            {
                "id": p.id,
                "display_name": p.display_name,
                "job_title": p.job_title,
                "city": p.city,
                "competences": list(p.competences or []),
            }
            for p in rows
        ]
    return DirectoryPage(section, query, total, page, per_page, items)
