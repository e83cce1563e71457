from tests.integration.analysis.setup import world  # noqa: F401
