"""A killed ingest leaves the previous version intact and nothing partial visible."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from campus.warehouse import ingest, layout, policy
from tests.unit.warehouse.samples import observation, patient, write_ndjson

SCRIPT = """
import sys
from pathlib import Path
from campus.warehouse import ingest, policy
ingest.run(Path(sys.argv[1]), "crash", [Path(sys.argv[2])], policy=policy.default(),
           pseudonym_key=b"p" * 32, optout_secret=b"o" * 32, registry=set(),
           actor="account:tester", workers=2)
"""


def _input(folder: Path) -> Path:
    folder.mkdir()
    write_ndjson(folder / "Patient.ndjson", [patient(f"p{i}") for i in range(50)])
    write_ndjson(
        folder / "Observation.ndjson",
        [observation(f"o{i}", f"Patient/p{i % 50}") for i in range(60_000)],
    )
    return folder


def _first_version(root: Path, folder: Path) -> dict:
    small = folder.parent / "small.ndjson"
    write_ndjson(small, [patient("p0"), observation("first", "Patient/p0")])
    report = ingest.run(
        root,
        "crash",
        [small],
        policy=policy.default(),
        pseudonym_key=b"p" * 32,
        optout_secret=b"o" * 32,
        registry=set(),
        actor="t",
        workers=1,
    )
    assert report.version == "v0001"
    return layout.resolve(root, "crash").manifest


def _wait_for(condition, process, timeout=120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("moment", ["parts", "finalise"])
def test_killing_the_ingest_leaves_the_previous_version_intact(tmp_path, moment):
    root = tmp_path / "wh"
    folder = _input(tmp_path / "in")
    before = _first_version(root, folder)
    staging = root / "crash" / "staging"

    def reached() -> bool:
        marker = "parts" if moment == "parts" else "real"
        return any(staging.glob(f"*/{marker}/*")) if staging.is_dir() else False

    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(root), str(folder)], start_new_session=True
    )
    try:
        assert _wait_for(reached, process), "the ingest ended before the moment to kill it"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    time.sleep(0.5)  # let the orphaned workers notice their parent is gone
    published = layout.versions(root, "crash")
    assert [v.version for v in published] == ["v0001"]
    assert published[0].manifest == before
    rows = pq.read_table(published[0].tables()["Observation"]).num_rows
    assert rows == 1
    assert not (root / "crash" / "versions" / "v0002").exists()
    # The next ingest clears the dead staging folder and publishes normally.
    report = ingest.run(
        root,
        "crash",
        [folder / "Patient.ndjson"],
        policy=policy.default(),
        pseudonym_key=b"p" * 32,
        optout_secret=b"o" * 32,
        registry=set(),
        actor="t",
        workers=1,
    )
    assert report.version == "v0002"
    assert [p.name for p in staging.iterdir()] == []
    assert json.loads((published[0].path / "manifest.json").read_text()) == before
