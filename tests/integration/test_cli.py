from tests.helpers import run_cli

SECRET = "long enough secret"


def _create(monkeypatch, settings, email="ana@example.org", password=SECRET):
    return run_cli(
        monkeypatch, settings, "user", "create", email, "--name", "Ana", "--password", password
    )


def test_user_create_grant_and_list(monkeypatch, settings):
    created = run_cli(
        monkeypatch,
        settings,
        "user",
        "create",
        "ana@example.org",
        "--name",
        "Ana",
        "--password",
        SECRET,
        "--role",
        "member",
    )
    assert created.exit_code == 0, created.output
    granted = run_cli(
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
    listed = run_cli(monkeypatch, settings, "user", "list")
    assert "ana@example.org" in listed.output
    assert "org_admin@organisation:42" in listed.output
    verified = run_cli(monkeypatch, settings, "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output


def test_user_create_refuses_a_duplicate_and_a_weak_password(monkeypatch, settings):
    _create(monkeypatch, settings)
    again = _create(monkeypatch, settings)
    assert again.exit_code == 1 and "already exists" in again.output
    weak = _create(monkeypatch, settings, email="bob@example.org", password="short")
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output


def test_grant_of_an_unknown_role_says_which_roles_exist(monkeypatch, settings):
    _create(monkeypatch, settings)
    result = run_cli(monkeypatch, settings, "user", "grant", "ana@example.org", "wizard")
    assert result.exit_code == 1 and "unknown role" in result.output
