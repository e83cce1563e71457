import stat

import pytest
from pydantic import SecretStr

from campus.settings import ConfigurationError, Settings


def test_missing_secrets_are_generated_once_and_kept_owner_only(tmp_path):
    first = Settings(var_dir=tmp_path).resolve()
    second = Settings(var_dir=tmp_path).resolve()
    assert first.secret("secret_key") == second.secret("secret_key")
    assert len(first.secret("pseudonym_key")) >= 32
    mode = (tmp_path / "secrets" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert set(first.generated_secrets) == {"secret_key", "pseudonym_key", "optout_key"}


def test_production_refuses_generated_secrets_sqlite_and_plain_http(tmp_path):
    settings = Settings(env="production", var_dir=tmp_path).resolve()
    with pytest.raises(ConfigurationError) as error:
        settings.check_production()
    text = str(error.value)
    assert "CAMPUS_SECRET_KEY is not set" in text
    assert "SQLite" in text
    assert "plain HTTP" in text


def test_production_refuses_weak_secrets(tmp_path):
    settings = Settings(
        env="production",
        var_dir=tmp_path,
        secret_key=SecretStr("short"),
        pseudonym_key=SecretStr("p" * 40),
        optout_key=SecretStr("o" * 40),
        database_url="postgresql+psycopg://x@db/campus",
        base_url="https://campus.example",
    ).resolve()
    with pytest.raises(ConfigurationError, match="CAMPUS_SECRET_KEY is weak"):
        settings.check_production()


def test_production_accepts_strong_settings(tmp_path):
    Settings(
        env="production",
        var_dir=tmp_path,
        secret_key=SecretStr("s" * 40),
        pseudonym_key=SecretStr("p" * 40),
        optout_key=SecretStr("o" * 40),
        database_url="postgresql+psycopg://x@db/campus",
        base_url="https://campus.example",
    ).resolve().check_production()


def test_cookies_are_secure_in_production_by_default(tmp_path):
    assert Settings(env="production", var_dir=tmp_path).secure_cookies
    assert not Settings(env="development", var_dir=tmp_path).secure_cookies
