"""The JSON API fuzzed from its own OpenAPI document (schemathesis), as an anonymous client and
with a staff token: no answer is a 5xx, and every answer matches the schema it documents.

A bounded budget (one example an operation and input mode, derandomised so that a run is
repeatable): a finding is a real bug to fix, not noise. Both tests take about a minute of CPU
together."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from campus.db.engine import Database
from campus.settings import Settings
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.slow

EXAMPLES = 1
CHECKS = [not_a_server_error, response_schema_conformance]
BODIES = frozenset({"POST", "PUT", "PATCH"})
_TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def fuzz_app(sqlite_template, tmp_path_factory):
    from campus.auth import service as auth
    from campus.site.app import create_app

    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, folder / "campus.db")
    url = f"sqlite:///{folder / 'campus.db'}"
    database = Database(url)
    config = Settings(
        env="test",
        var_dir=folder / "var",
        database_url=url,
        secret_key=SecretStr(TEST_SECRET),
        pseudonym_key=SecretStr(TEST_SECRET + "p"),
        optout_key=SecretStr(TEST_SECRET + "o"),
    ).resolve()
    with database.session() as session:
        account = auth.create_account(
            session, email="fuzz@example.org", name="Fuzz", password="a long fuzz password"
        )
        auth.grant_role(session, account, "staff")
        _token, value = auth.create_token(session, account, name="fuzz")
    _TOKEN["value"] = value
    yield create_app(config, database)
    database.dispose()


BUDGET = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.generate],  # report every finding as found, without shrinking
)


def _fuzz(app, headers: dict[str, str], modes: tuple[GenerationMode, ...]) -> list[str]:
    """Every operation with valid inputs and, in NEGATIVE mode, those with a body with invalid
    ones too (each costs about twenty attempts, most of them rejected as valid after all);
    the findings, one line each."""
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    findings: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        for mode in modes:
            if mode == GenerationMode.NEGATIVE and operation.method.upper() not in BODIES:
                continue  # invalid query and path values: checked by FastAPI before any route

            @BUDGET
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # no invalid input exists (an operation without inputs)
                continue
            except (Exception, BaseExceptionGroup) as error:  # the checks' failures
                lines = [line for line in str(error).splitlines() if line.strip()][:4]
                findings.append(f"{operation.label} [{mode.value}]: " + " / ".join(lines))
    return sorted(set(findings))


def test_the_api_fuzzed_anonymously_gives_no_5xx_and_matches_its_schema(fuzz_app):
    # A browser's signed-out double submit (cookie and header), so that writes reach the routes.
    browser = {"Cookie": "campus_csrf=fuzz-csrf", "X-CSRF-Token": "fuzz-csrf"}
    findings = _fuzz(fuzz_app, browser, (GenerationMode.POSITIVE,))
    assert not findings, "\n".join(findings)


def test_the_api_fuzzed_with_a_staff_token_gives_no_5xx_and_matches_its_schema(fuzz_app):
    token = {"Authorization": f"Bearer {_TOKEN['value']}"}
    findings = _fuzz(fuzz_app, token, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    assert not findings, "\n".join(findings)
