"""Settings of governance and analysis, read like every setting from CAMPUS_* variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GovernanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPUS_", env_file=".env", extra="ignore")

    ethics_reviewers: int = Field(default=2, ge=1, le=9, description="Reviewers per request.")
    job_max_attempts: int = Field(default=3, ge=1, le=10)
    job_lease_seconds: int = Field(default=300, ge=5)
    worker_poll_seconds: float = Field(default=2.0, gt=0)
    in_process_worker: bool = Field(
        default=False, description="Run the job worker as a thread of the web app (demo)."
    )
    project_privacy_budget: float = Field(default=3.0, gt=0, description="Epsilon per project.")


@lru_cache
def governance_settings() -> GovernanceSettings:
    return GovernanceSettings()
