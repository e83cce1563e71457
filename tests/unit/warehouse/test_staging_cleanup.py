"""Which staging folders the next ingest removes: only those no running ingest owns."""

import json
import os
import socket
import subprocess
import sys
import time

from campus.warehouse import ingest


def _folder(dataset, name, owner):
    folder = dataset / "staging" / name
    folder.mkdir(parents=True)
    if owner is not None:
        (folder / "owner.json").write_text(json.dumps(owner))
    return folder


def test_a_dead_or_ownerless_folder_goes_and_a_live_or_foreign_one_stays(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    here = socket.gethostname()
    crashed = _folder(tmp_path, "crashed", {"pid": int(dead.stdout), "host": here})
    ownerless = _folder(tmp_path, "ownerless", None)
    running = _folder(tmp_path, "running", {"pid": os.getpid(), "host": here})
    elsewhere = _folder(tmp_path, "elsewhere", {"pid": 1, "host": here + "-other"})
    old_elsewhere = _folder(tmp_path, "old", {"pid": 1, "host": here + "-other"})
    long_ago = time.time() - ingest.FOREIGN_STAGING_SECONDS - 60
    os.utime(old_elsewhere, (long_ago, long_ago))
    ingest.cleanup_stale(tmp_path)
    assert not crashed.exists() and not ownerless.exists() and not old_elsewhere.exists()
    assert running.exists() and elsewhere.exists()
