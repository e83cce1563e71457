"""Organisations: profiles, their search text, views and logos."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.ecosystem.directory import images, search
from campus.ecosystem.directory.fields import (
    LOGO_MAX_BYTES,
    PHONE_RE,
    _count,
    _email,
    _text,
    _url,
    _year,
    sanitise_rich_text,
    slugify,
)
from campus.ecosystem.directory.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Person,
)
from campus.ecosystem.directory.vocabulary import KIND_LABELS, SKILLS, THEMES, both_labels
from campus.ecosystem.directory.vocabulary import check_codes as _codes
from campus.errors import BadRequest, NotFound, TooLarge
from campus.i18n import N_
from campus.settings import Settings

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
