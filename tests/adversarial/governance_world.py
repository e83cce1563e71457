"""People and an approved project for the adversarial tests of governance and exports:
an approved request (two assigned reviewers), a third reviewer of the lead organisation
(never assigned), a fourth one added after the approval, checkers, the DPO, staff."""

from __future__ import annotations

from functools import cache

import pytest

from campus.auth import service as auth
from campus.auth.passwords import hash_password
from campus.db.engine import Database
from tests.helpers import PASSWORD
from tests.integration.analysis.setup import World, approve

DATASET = "hopital"


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # once per process: Argon2 costs on purpose


def make_account(db: Database, email: str, *roles: str, name: str = "Test Person") -> str:
    """`tests.helpers.make_account` with the password hashed once for all accounts."""
    with db.session() as session:
        account = auth.create_account(
            session,
            email=email,
            name=name,
            password=None,
            password_hash=_password_hash(),
            email_verified=True,
        )
        for role in roles:
            auth.grant_role(session, account, role)
        return account.id


@pytest.fixture
def people(db) -> World:
    people = World(
        researcher=make_account(db, "chercheuse@example.org", "member"),
        reviewer1=make_account(db, "ethique1@example.org", "ethics_reviewer"),
        reviewer2=make_account(db, "ethique2@example.org", "ethics_reviewer"),
        reviewer_conflicted=make_account(db, "ethique3@example.org", "ethics_reviewer"),
        checker1=make_account(db, "checker1@example.org", "output_checker"),
        checker2=make_account(db, "checker2@example.org", "output_checker"),
        outsider=make_account(db, "outsider@example.org", "member"),
    )
    make_account(db, "dpo@example.org", "dpo")
    make_account(db, "staff@example.org", "staff")
    with db.session() as session:
        account = auth.get_account(session, people.reviewer_conflicted)
        auth.grant_role(session, account, "member", scope_type="organisation", scope_id="org-chu")
    return people


@pytest.fixture
def approved(db, settings, people) -> World:
    """A project with an approved request; a fourth reviewer, never assigned, joins after."""
    world = approve(db, settings, people, datasets=[DATASET])
    make_account(db, "ethique4@example.org", "ethics_reviewer")
    return world
