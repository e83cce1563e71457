"""Settings of `campus pull`, read like every setting from CAMPUS_PULL_* variables.

Read at each pull, not cached (tests set them per test); a pull is seconds to hours long,
reading a few variables is nothing to it."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PullSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPUS_PULL_", env_file=".env", extra="ignore")

    retries: int = Field(default=6, ge=0, le=100, description="Retries of a failed request.")
    retry_seconds: float = Field(default=1.0, ge=0, description="The first wait between retries.")
    retry_cap: float = Field(default=60.0, ge=0, description="The longest wait between retries.")
    allowed_hosts: str = Field(
        default="",
        description=(
            "Comma-separated host names or addresses on an internal network (loopback, private,"
            " link-local) that a pull may connect to; none by default (SSRF)."
        ),
    )


def pull_settings() -> PullSettings:
    return PullSettings()
