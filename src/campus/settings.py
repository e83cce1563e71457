"""Settings from the environment and `.env`, with safe embedded defaults.

Every setting is read from a `CAMPUS_`-prefixed environment variable (or `.env`). Secrets that
are not given are generated on first run and kept under `var/secrets/` with owner-only
permissions; in production the app refuses to start on such generated or weak secrets.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_NAMES = ("secret_key", "pseudonym_key", "optout_key")
MIN_SECRET_LENGTH = 32
MIN_OIDC_SECRET_LENGTH = 20  # provider-issued client secrets (Keycloak: 32)
PRIVATE_UMASK = 0o077  # files 0600, folders 0700 (campus.ops.files checks them)


class ConfigurationError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPUS_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite file under var/ when unset."
    )
    warehouse_dir: Path | None = Field(
        default=None, description="Folder of dataset versions; var/warehouse when unset."
    )
    analysis_engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="Where `campus worker` runs analysis jobs: embedded DuckDB, or Spark SQL.",
    )
    spark_url: str | None = Field(
        default=None,
        description="Spark master URL (spark://host:7077) for views and analysis jobs; local "
        "mode when unset.",
    )
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000

    secret_key: SecretStr | None = Field(default=None, description="Signs sessions and tokens.")
    pseudonym_key: SecretStr | None = Field(
        default=None, description="HMAC key for pseudonyms; never stored with the data."
    )
    optout_key: SecretStr | None = Field(
        default=None, description="HMAC key for the opt-out registry."
    )

    cookie_secure: bool | None = Field(
        default=None, description="Secure cookies; on by default in production."
    )
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    lockout_minutes: int = 15
    reset_token_minutes: int = 60
    max_upload_bytes: int = 5 * 1024**3
    auth_cache_seconds: float = Field(
        default=30,
        ge=0,
        description=(
            "How long a worker may keep the actor of a token or session in memory"
            " (PostgreSQL only; 0: never). Changes reach every worker at commit"
            " (campus.auth.cache); this bounds a change missed by a lost connection."
        ),
    )
    max_concurrent_requests: int = Field(
        default=8,
        description=(
            "Requests one worker handles at once; keep it below the thread pool (40) and the"
            " database pool (40). More in flight only adds GIL contention: 32 cost 40% more"
            " CPU a request than 8."
        ),
    )

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "campus@localhost"

    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL; sign-in with it when set."
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    oidc_label: str = Field(
        default="OpenID Connect", description="Provider name on the sign-in button."
    )

    participation_proposals_per_hour: int = Field(
        default=5, ge=1, description="Proposals one account may file per hour (per consultation)."
    )
    participation_comments_per_hour: int = Field(
        default=30, ge=1, description="Comments one account may post per hour."
    )
    participation_reports_per_hour: int = Field(
        default=20, ge=1, description="Reports one account may file per hour."
    )
    signup_link_hours: int = Field(
        default=48, ge=1, description="Validity of the email-verification link of a sign-up."
    )

    # Account security and retention (campus.auth; `campus purge` applies the periods).
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks of the reverse proxies whose"
            " X-Forwarded-For and X-Forwarded-Proto are believed; none by default."
        ),
    )
    outbox_retention_days: int = Field(
        default=30,
        ge=1,
        description="Days a row of the mail outbox is kept (links removed once sent).",
    )
    session_retention_days: int = Field(
        default=0,
        ge=0,
        description="Days an ended session's row is kept (0: deleted by the next purge).",
    )
    login_attempt_retention_days: int = Field(
        default=7, ge=1, description="Days a failed login (email, address) is kept for throttling."
    )
    upload_retention_days: int = Field(
        default=7, ge=1, description="Days a staged upload that was never ingested is kept."
    )
    log_retention_days: int = Field(
        default=30, ge=1, description="Days a log file under var/logs is kept."
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token a Prometheus scraper sends to /metrics on the app; /metrics answers"
            " 404 when unset (use `campus metrics` on a private address instead)."
        ),
    )
    metrics_bind: str = Field(
        default="127.0.0.1:9464", description="Address of `campus metrics` (host:port)."
    )

    disclosure_threshold: int = 10
    rounding_base: int = 5

    # Filled by `resolve()`: which secrets were generated rather than given.
    generated_secrets: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.is_production

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'campus.db').resolve()}"

    @property
    def warehouse_path(self) -> Path:
        return (self.warehouse_dir or self.var_dir / "warehouse").resolve()

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        assert value is not None, f"secret {name} not resolved"
        return value.get_secret_value()

    def resolve(self) -> Settings:
        """Create var/ and generate missing secrets (stored 0600 under var/secrets).

        Sets the process umask to 077 first: everything Campus creates under var/ (database,
        warehouse, uploads, secrets) is then for the service account alone.
        """
        os.umask(PRIVATE_UMASK)
        self.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        generated = []
        for name in SECRET_NAMES:
            if getattr(self, name) is None:
                setattr(self, name, SecretStr(_stored_secret(self.var_dir / "secrets", name)))
                generated.append(name)
        self.generated_secrets = tuple(generated)
        return self

    def check_production(self) -> None:
        """Refuse unsafe production settings, saying why."""
        if not self.is_production:
            return
        problems = []
        for name in SECRET_NAMES:
            if name in self.generated_secrets:
                problems.append(f"CAMPUS_{name.upper()} is not set (a generated secret is unsafe)")
            elif len(self.secret(name)) < MIN_SECRET_LENGTH:
                problems.append(
                    f"CAMPUS_{name.upper()} is weak: use at least {MIN_SECRET_LENGTH} characters"
                )
        if self.db_url.startswith("sqlite"):
            problems.append("CAMPUS_DATABASE_URL points at SQLite: use PostgreSQL in production")
        if not self.secure_cookies:
            problems.append("cookies would be sent over plain HTTP: unset CAMPUS_COOKIE_SECURE")
        if self.base_url.startswith("http://"):
            problems.append("CAMPUS_BASE_URL is plain HTTP: serve over HTTPS in production")
        if self.oidc_enabled:
            oidc_secret = (
                self.oidc_client_secret.get_secret_value() if self.oidc_client_secret else ""
            )
            if len(oidc_secret) < MIN_OIDC_SECRET_LENGTH:
                problems.append(
                    "CAMPUS_OIDC_CLIENT_SECRET is missing or short: use the provider's secret "
                    f"({MIN_OIDC_SECRET_LENGTH}+ characters)"
                )
            if not (self.oidc_issuer or "").startswith("https://"):
                problems.append("CAMPUS_OIDC_ISSUER is not HTTPS: use the provider's https URL")
        if self.metrics_token and len(self.metrics_token.get_secret_value()) < MIN_SECRET_LENGTH:
            problems.append(
                f"CAMPUS_METRICS_TOKEN is weak: use at least {MIN_SECRET_LENGTH} characters"
            )
        if problems:
            raise ConfigurationError("Refusing to start in production:\n- " + "\n- ".join(problems))


def _stored_secret(folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, resolved once."""
    return Settings().resolve()
