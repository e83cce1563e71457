"""Shared fixtures: the analysis tests' people, project and library views."""

from tests.integration.analysis.setup import world  # noqa: F401
