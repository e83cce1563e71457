"""Settings of the opt-out form's throttle, read like every setting from CAMPUS_* variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OptOutSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPUS_", env_file=".env", extra="ignore")

    optout_window_minutes: int = Field(
        default=60, ge=1, description="Window of the opt-out form's throttle."
    )
    optout_per_address: int = Field(
        default=5, ge=1, description="Filings of the opt-out form per client address and window."
    )
    optout_per_window: int = Field(
        default=300, ge=1, description="Filings of the opt-out form per window, all addresses."
    )


@lru_cache
def optout_settings() -> OptOutSettings:
    return OptOutSettings()
