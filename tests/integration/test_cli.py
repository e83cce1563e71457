from typer.testing import CliRunner

from campus.cli import app as cli
from campus.settings import get_settings


def _run(monkeypatch, settings, *args):
    monkeypatch.setenv("CAMPUS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("CAMPUS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()


def test_user_create_grant_and_list(monkeypatch, settings):
    created = _run(
        monkeypatch,
        settings,
        "user",
        "create",
        "ana@example.org",
        "--name",
        "Ana",
        "--password",
        "long enough secret",
        "--role",
        "member",
    )
    assert created.exit_code == 0, created.output
    granted = _run(
        monkeypatch,
        settings,
        "user",
        "grant",
        "ana@example.org",
        "org_admin",
        "--scope",
        "organisation:42",
    )
    assert granted.exit_code == 0, granted.output
    listed = _run(monkeypatch, settings, "user", "list")
    assert "ana@example.org" in listed.output
    assert "org_admin@organisation:42" in listed.output
    verified = _run(monkeypatch, settings, "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output


def test_user_create_refuses_a_duplicate_and_a_weak_password(monkeypatch, settings):
    _run(
        monkeypatch,
        settings,
        "user",
        "create",
        "ana@example.org",
        "--name",
        "Ana",
        "--password",
        "long enough secret",
    )
    again = _run(
        monkeypatch,
        settings,
        "user",
        "create",
        "ana@example.org",
        "--name",
        "Ana",
        "--password",
        "long enough secret",
    )
    assert again.exit_code == 1 and "already exists" in again.output
    weak = _run(
        monkeypatch,
        settings,
        "user",
        "create",
        "bob@example.org",
        "--name",
        "Bob",
        "--password",
        "short",
    )
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output


def test_grant_of_an_unknown_role_says_which_roles_exist(monkeypatch, settings):
    _run(
        monkeypatch,
        settings,
        "user",
        "create",
        "ana@example.org",
        "--name",
        "Ana",
        "--password",
        "long enough secret",
    )
    result = _run(monkeypatch, settings, "user", "grant", "ana@example.org", "wizard")
    assert result.exit_code == 1 and "unknown role" in result.output
