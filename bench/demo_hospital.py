"""The demo hospital's cost at `campus demo` start: generating it and ingesting it, against
ingesting the shared Synthea sample (what the demo did before) measured in the same run.

    python -m bench demo_hospital
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from campus.auth.actor import SYSTEM
from campus.db.engine import Database
from campus.db.migrate import upgrade
from campus.settings import Settings
from campus.warehouse import service, synthetic

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CAMPUS_SHARED", ROOT.parent / "shared"))
KEY = "bench-" + "k" * 40


def _ingest(folder: Path, paths: list[Path], name: str) -> tuple[float, int]:
    settings = Settings(
        env="test",
        var_dir=folder / "var",
        secret_key=SecretStr(KEY),
        pseudonym_key=SecretStr(KEY + "p"),
        optout_key=SecretStr(KEY + "o"),
    ).resolve()
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        started = time.perf_counter()
        report = service.ingest(db, settings, SYSTEM, name, paths)
        return time.perf_counter() - started, report.resources
    finally:
        db.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        started = time.perf_counter()
        files = synthetic.write(base / "hospital", synthetic.DEFAULT_PATIENTS)
        generate = time.perf_counter() - started
        size = sum(p.stat().st_size for p in files) / 1e6
        ingest, resources = _ingest(base / "a", files, "generated")
        print(
            f"generate {synthetic.DEFAULT_PATIENTS} patients: {generate:.2f} s "
            f"({resources:,} resources, {size:.1f} MB); ingest: {ingest:.2f} s"
        )
        sample = SHARED / "data" / "synthea-r4" / "bundles"
        if not sample.is_dir():
            print(f"baseline skipped: no Synthea sample at {sample}")
            return
        baseline, baseline_resources = _ingest(base / "b", [sample], "synthea")
        print(f"baseline, ingest the Synthea sample: {baseline:.2f} s ({baseline_resources:,})")
        print(f"generate + ingest / baseline: {(generate + ingest) / baseline:.2f}")
