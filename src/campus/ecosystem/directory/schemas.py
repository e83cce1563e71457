"""API shapes of organisations, people, memberships and invitations."""

from __future__ import annotations

import datetime as dt

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field


class OrganisationIn(BaseModel):
    """Fields of a profile; on update only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    kind: str | None = None
    city: str | None = Field(default=None, max_length=100)
    website: str | None = Field(default=None, max_length=300)
    summary_fr: str | None = Field(default=None, max_length=500)
    summary_en: str | None = Field(default=None, max_length=500)
    description_html: str | None = Field(default=None, max_length=20_000)
    themes: list[str] | None = None
    expertise: list[str] | None = None
    needs: list[str] | None = None
    contact_email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    headcount: int | None = None
    founded_year: int | None = None


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    job_title: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    bio_html: str | None = Field(default=None, max_length=20_000)
    competences: list[str] | None = None
    expertise: list[str] | None = None
    needs: list[str] | None = None
    contact_email: str | None = Field(default=None, max_length=320)
    visible: bool | None = None


class InvitationIn(BaseModel):
    email: str = Field(max_length=320)
    role: str = "member"


class MemberRoleIn(BaseModel):
    role: str = Field(max_length=20)


class LogoIn(BaseModel):
    """A logo sent as a multipart form's file (the API's PUT and the edit page's form)."""

    logo: UploadFile


class NoFields(BaseModel):
    """A form that only carries its CSRF token: the action is in its address."""


class InvitationAcceptIn(BaseModel):
    token: str = Field(
        min_length=1, max_length=1000, description="From the mail's link, after #token=."
    )


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    email: str
    role: str
    created_at: dt.datetime
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None


class MemberOut(BaseModel):
    person_id: str
    display_name: str
    job_title: str
    role: str
    position: str


class DirectoryOut(BaseModel):
    section: str
    query: str
    total: int
    page: int
    per_page: int
    pages: int
    items: list[dict]


class VocabularyOut(BaseModel):
    kinds: dict[str, list[str]]
    themes: dict[str, list[str]]
    skills: dict[str, list[str]]
