"""var/ is for the service account alone: created so, and checked at start."""

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from campus.ops import files
from campus.settings import ConfigurationError, Settings

SECRET = SecretStr("s" * 40)


@pytest.fixture
def open_umask():
    """Start from the common 022 umask, as a shell would, and put the old one back."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _settings(tmp_path: Path, env: str = "development") -> Settings:
    return Settings(env=env, var_dir=tmp_path / "var").resolve()


def test_files_created_after_resolve_are_owner_only(tmp_path, open_umask):
    settings = _settings(tmp_path)
    (settings.var_dir / "warehouse" / "ds").mkdir(parents=True)
    (settings.var_dir / "warehouse" / "ds" / "t.parquet").write_bytes(b"x")
    assert stat.S_IMODE(settings.var_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((settings.var_dir / "warehouse" / "ds").stat().st_mode) == 0o700
    assert stat.S_IMODE((settings.var_dir / "warehouse" / "ds" / "t.parquet").stat().st_mode) == (
        0o600
    )
    assert files.problems(settings) == []


def test_a_world_readable_file_is_named_with_the_chmod_that_fixes_it(tmp_path, caplog):
    settings = _settings(tmp_path)
    leaked = settings.var_dir / "warehouse" / "optout_keys.parquet"
    leaked.parent.mkdir()
    leaked.write_bytes(b"x")
    leaked.chmod(0o644)
    (found,) = files.problems(settings)
    assert "optout_keys.parquet (file 0644)" in found
    assert f"chmod -R go-rwx {settings.var_dir.resolve()}" in found
    with caplog.at_level(logging.WARNING, logger="campus.ops"):
        files.check_at_start(settings)  # development: a warning, not a refusal
    assert "optout_keys.parquet" in caplog.text


def test_production_refuses_to_start_on_an_open_folder(tmp_path):
    settings = _settings(tmp_path, env="production")
    settings.var_dir.chmod(0o755)
    with pytest.raises(ConfigurationError) as error:
        files.check_at_start(settings)
    assert "folder 0755" in str(error.value)
    assert "chmod -R go-rwx" in str(error.value)


def test_a_warehouse_outside_var_is_checked_too(tmp_path):
    shared = tmp_path / "shared-storage"
    shared.mkdir()
    (shared / "part.parquet").write_bytes(b"x")
    (shared / "part.parquet").chmod(0o640)
    settings = Settings(var_dir=tmp_path / "var", warehouse_dir=shared).resolve()
    (found,) = files.problems(settings)
    assert "part.parquet (file 0640)" in found
    assert f"chmod -R go-rwx {shared.resolve()}" in found


@pytest.mark.slow
def test_campus_demo_leaves_nothing_readable_by_others_under_var(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_") and k != "PYTHONPATH"}
    env["CAMPUS_VAR_DIR"] = str(tmp_path / "var")
    campus = Path(sys.executable).parent / "campus"
    done = subprocess.run(
        [str(campus), "demo", "--no-serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    everything = list((tmp_path / "var").rglob("*"))
    assert any(p.suffix == ".parquet" for p in everything)
    assert any(p.name == "campus.db" for p in everything)
    loose = [p for p in [tmp_path / "var", *everything] if p.lstat().st_mode & 0o077]
    assert loose == []
    assert "readable by other accounts" not in done.stderr


def test_production_refuses_a_short_metrics_token(tmp_path):
    settings = Settings(
        env="production",
        var_dir=tmp_path / "var",
        metrics_token=SecretStr("short"),
        secret_key=SECRET,
        pseudonym_key=SECRET,
        optout_key=SECRET,
    ).resolve()
    with pytest.raises(ConfigurationError) as error:
        settings.check_production()
    assert "CAMPUS_METRICS_TOKEN is weak" in str(error.value)
