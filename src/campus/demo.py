"""`make demo`: a fresh embedded database with demo accounts and each capability's demo data."""

from __future__ import annotations

import os

from campus.auth import service as auth
from campus.auth.roles import Role
from campus.db.engine import Database
from campus.db.migrate import upgrade
from campus.demo_password import DEMO_PASSWORD
from campus.settings import Settings, get_settings

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


def prepare_environment(host: str | None = None, port: int | None = None) -> Settings:
    """Set what the demo changes in the process environment, before the demo reads any
    setting, and return the settings as they then stand.

    The in-process job worker is switched on (unless CAMPUS_IN_PROCESS_WORKER says
    otherwise), `--host`/`--port` become CAMPUS_HOST/CAMPUS_PORT, and the base URL of links
    in mails follows them unless CAMPUS_BASE_URL is set. Settings cached before (the
    governance settings decide whether the app starts the worker) are read again."""
    from campus.governance.config import governance_settings

    if host:
        os.environ["CAMPUS_HOST"] = host
    if port:
        os.environ["CAMPUS_PORT"] = str(port)
    os.environ.setdefault("CAMPUS_IN_PROCESS_WORKER", "true")
    get_settings.cache_clear()
    governance_settings.cache_clear()
    settings = get_settings()
    if "base_url" not in settings.model_fields_set:
        shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        os.environ["CAMPUS_BASE_URL"] = f"http://{shown}:{settings.port}"
        get_settings.cache_clear()
        settings = get_settings()
    return settings
