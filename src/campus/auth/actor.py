"""Who is making a request: an account with its role grants, or an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass, field

from campus.auth.roles import Role


@dataclass(frozen=True)
class Grant:
    role: str
    scope_type: str = ""
    scope_id: str = ""


@dataclass(frozen=True)
class Actor:
    account_id: str | None = None
    email: str = ""
    name: str = ""
    language: str = "fr"
    email_verified: bool = False
    grants: frozenset[Grant] = field(default_factory=frozenset)
    via: str = "anonymous"  # anonymous | session | token
    token_scopes: tuple[str, ...] = ()

    @property
    def authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def label(self) -> str:
        """How the actor appears in the audit log (an account id, never an email)."""
        return f"account:{self.account_id}" if self.account_id else "anonymous"

    @property
    def is_staff(self) -> bool:
        return self.has_role(Role.STAFF)

    def has_role(self, role: str, scope_type: str = "", scope_id: str = "") -> bool:
        """A global grant satisfies every scope; a scoped grant only its own scope."""
        for grant in self.grants:
            if grant.role != role:
                continue
            if not grant.scope_type or (
                grant.scope_type == scope_type and grant.scope_id == scope_id
            ):
                return True
        return False

    def has_any_grant_of(self, role: str) -> bool:
        return any(grant.role == role for grant in self.grants)

    def scope_ids(self, role: str, scope_type: str) -> set[str]:
        return {g.scope_id for g in self.grants if g.role == role and g.scope_type == scope_type}


ANONYMOUS = Actor()
SYSTEM = Actor(account_id="system", name="system", via="system")
