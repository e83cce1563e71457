"""Without the shared folder, its tests are skipped saying why; CAMPUS_REQUIRE_SHARED=1 (CI)
turns that into a failure, so that CI never passes by skipping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = "tests/conformance/test_sql_on_fhir.py"


def _pytest(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    env.update(CAMPUS_SHARED=str(tmp_path / "absent"), **extra)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            SUITE,
            "-k",
            "duckdb",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_tests_of_the_shared_folder_are_skipped_with_the_reason_when_it_is_absent(tmp_path):
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "passed" not in result.stdout and "failed" not in result.stdout
    assert "the shared folder is absent" in result.stdout


@pytest.mark.slow
def test_ci_requiring_the_shared_folder_fails_without_it(tmp_path):
    result = _pytest(tmp_path, CAMPUS_REQUIRE_SHARED="1")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "CAMPUS_REQUIRE_SHARED=1 requires it" in result.stdout
