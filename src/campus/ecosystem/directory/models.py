"""Tables of organisations, people, their memberships and the invitations to join."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.db.base import Base, JSONType, new_id, utcnow


class OrganisationKind(StrEnum):
    STARTUP = "startup"
    COMPANY = "company"
    RESEARCH_LAB = "research_lab"
    HOSPITAL = "hospital"
    CLINIC = "clinic"
    PUBLIC_AGENCY = "public_agency"
    FOUNDING_MEMBER = "founding_member"


class OrgRole(StrEnum):
    """A person's role inside an organisation."""

    MEMBER = "member"
    ADMIN = "admin"


class Organisation(Base):
    """A member organisation. Public fields are shown to visitors; member-only fields
    (contact email, phone, headcount, needs) only to signed-in members."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    summary_fr: Mapped[str] = mapped_column(String(500), default="")
    summary_en: Mapped[str] = mapped_column(String(500), default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    themes: Mapped[list] = mapped_column(JSONType, default=list)
    expertise: Mapped[list] = mapped_column(JSONType, default=list)
    needs: Mapped[list] = mapped_column(JSONType, default=list)
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    headcount: Mapped[int | None] = mapped_column(Integer)
    founded_year: Mapped[int | None] = mapped_column(Integer)
    logo_file: Mapped[str] = mapped_column(String(100), default="")
    logo_type: Mapped[str] = mapped_column(String(40), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )


class Person(Base):
    """A person of the campus; `account_id` links the profile to a login account."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), unique=True
    )
    display_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    bio_html: Mapped[str] = mapped_column(Text, default="")
    competences: Mapped[list] = mapped_column(JSONType, default=list)
    expertise: Mapped[list] = mapped_column(JSONType, default=list)
    needs: Mapped[list] = mapped_column(JSONType, default=list)
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    visible: Mapped[bool] = mapped_column(default=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class Membership(Base):
    """A person belongs to an organisation, as a member or as one of its admins."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("person_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default=OrgRole.MEMBER)
    position: Mapped[str] = mapped_column(String(200), default="")
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Invitation(Base):
    """An emailed, signed and expiring invitation to join an organisation."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(20), default=OrgRole.MEMBER)
    invited_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[dt.datetime | None]
