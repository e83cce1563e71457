"""What the account pages and their JSON twins show: one data function each."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import service
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.auth.schemas import AccountOut, TokenOut


class MyAccountOut(BaseModel):
    account: AccountOut
    tokens: list[TokenOut]


def my_account(session: Session, actor: Actor) -> dict[str, Any]:
    """The reader's own account and API tokens. It takes no account id: whatever a request
    names, it answers with the signed-in account only."""
    account = session.get(Account, actor.account_id or "")
    tokens = service.list_tokens(session, actor.account_id or "")
    return {
        "account": AccountOut.model_validate(account, from_attributes=True).model_dump(),
        "tokens": [TokenOut.model_validate(t).model_dump() for t in tokens],
    }


def accounts(session: Session, q: str = "", limit: int = 100, offset: int = 0) -> list[dict]:
    """Accounts by email (staff), those whose email or name contains `q` when given."""
    query = select(Account).order_by(Account.email).limit(limit).offset(offset)
    if q:
        query = query.where(Account.email.contains(q.lower()) | Account.name.contains(q))
    return [
        AccountOut.model_validate(a, from_attributes=True).model_dump()
        for a in session.scalars(query)
    ]
