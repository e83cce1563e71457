"""API shapes of accounts, roles and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class GrantOut(BaseModel):
    role: str
    scope_type: str
    scope_id: str


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    language: str
    email_verified: bool
    active: bool
    grants: list[GrantOut]


class AccountIn(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=1024)
    language: str = "fr"


class GrantIn(BaseModel):
    role: str
    scope_type: str = ""
    scope_id: str = ""


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["*"], max_length=50)
    days: int = Field(default=90, ge=1, le=366)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret value, shown once.")


class LanguageIn(BaseModel):
    language: str


class ForgotIn(BaseModel):
    email: str = Field(max_length=320)


class ResetIn(BaseModel):
    token: str = Field(
        min_length=1, max_length=200, description="From the mail's link, after #token=."
    )
    password: str = Field(max_length=1024)


class SentOut(BaseModel):
    status: str = Field(description="Always the same, whether or not the account exists.")


class DeleteIn(BaseModel):
    confirm_email: str = Field(max_length=320, description="The account's own email address.")


class PersonalDataOut(BaseModel):
    format: str = Field(description="campus-personal-data/1")
    exported_at: str
    account_id: str
    data: dict[str, Any] = Field(description="What each capability holds, by its name.")
