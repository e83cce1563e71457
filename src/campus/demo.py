"""`make demo`: a fresh embedded database with demo accounts and each capability's demo data."""

from __future__ import annotations

from campus.auth import service as auth
from campus.auth.roles import Role
from campus.db.engine import Database
from campus.db.migrate import upgrade
from campus.settings import Settings

DEMO_PASSWORD = "campus-demo-2026"  # noqa: S105 - documented demo password, dev only

DEMO_ACCOUNTS: list[tuple[str, str, list[str]]] = [
    ("admin@campus.example", "Camille Admin", [Role.STAFF]),
    ("membre@campus.example", "Marie Membre", [Role.MEMBER]),
    ("dirigeante@startup.example", "Diane Dirigeante", [Role.MEMBER]),
    ("chercheuse@campus.example", "Claire Chercheuse", [Role.RESEARCHER, Role.MEMBER]),
    ("steward@hopital.example", "Hugo Steward", [Role.DATA_STEWARD]),
    ("ethique1@campus.example", "Élise Éthique", [Role.ETHICS_REVIEWER]),
    ("ethique2@campus.example", "Étienne Éthique", [Role.ETHICS_REVIEWER]),
    ("checker1@campus.example", "Olivier Outputs", [Role.OUTPUT_CHECKER]),
    ("checker2@campus.example", "Odile Outputs", [Role.OUTPUT_CHECKER]),
    ("dpo@campus.example", "Denise DPO", [Role.DPO]),
    ("moderation@campus.example", "Maël Modération", [Role.MODERATOR]),
    ("citoyen@campus.example", "Chloé Citoyenne", []),
]


def load_demo(settings: Settings, *, reset: bool = True) -> list[tuple[str, str]]:
    """Create the schema, the demo accounts and every capability's demo data."""
    if reset and settings.db_url.startswith("sqlite:///"):
        from pathlib import Path

        path = Path(settings.db_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    listed = []
    with db.session() as session:
        for email, name, roles in DEMO_ACCOUNTS:
            account = auth.find_account(session, email)
            if account is None:
                account = auth.create_account(
                    session,
                    email=email,
                    name=name,
                    password=DEMO_PASSWORD,
                    email_verified=True,
                )
            for role in roles:
                auth.grant_role(session, account, role)
            listed.append((email, ", ".join(roles) or "citizen (no role)"))
    for loader in demo_loaders():
        loader(settings, db)
    db.dispose()
    return listed


def demo_loaders() -> list:
    """Each capability's demo loader, in the order the capability registry gives
    (`campus/site/capabilities.py`: declaration order, each after its `demo_after`)."""
    from campus.site.capabilities import CAPABILITIES
    from campus.site.registry import loaders

    return loaders(CAPABILITIES)
