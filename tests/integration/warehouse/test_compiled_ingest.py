"""A whole ingest gives the same version with the compiled modules as with their .py files."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest

from tests.integration.warehouse.conftest import OKEY, OPTED_OUT_SSN, PKEY
from tests.unit.warehouse.test_compiled import COMPILED, SRC, _broken, _built

# Ingests in process (one worker) and prints what the version holds, row by row; with "pure",
# an import hook loads the compiled modules from their .py files instead.
CHILD = """
import hashlib, importlib.util, json, sys
from pathlib import Path
import pyarrow.parquet as pq
mode, root, compiled, src, pkey, okey, ssn, *inputs = sys.argv[1:]
compiled = set(json.loads(compiled))

class PurePython:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in compiled:
            return None
        file = Path(src).joinpath(*name.split(".")[1:]).with_suffix(".py")
        return importlib.util.spec_from_file_location(name, file)

if mode == "pure":
    sys.meta_path.insert(0, PurePython)
from campus.optout.service import key_with
from campus.warehouse import ingest, layout, policy
for name in compiled:
    module = sys.modules.get(name) or __import__(name, fromlist=["_"])
    assert module.__file__.endswith(".py") == (mode == "pure"), module.__file__
report = ingest.run(Path(root), "d", [Path(p) for p in inputs], policy=policy.default(),
                    pseudonym_key=pkey.encode(), optout_secret=okey.encode(),
                    registry={key_with(okey.encode(), ssn)}, actor="t", workers=1,
                    on_error="skip")
version = layout.resolve(Path(root), "d")
tables = {}
for name, path in [*version.tables().items(), ("optout_keys", version.optout_keys)]:
    rows = sorted(json.dumps(r, sort_keys=True) for r in pq.read_table(path).to_pylist())
    tables[name] = hashlib.sha256("\\n".join(rows).encode()).hexdigest()
assert len(tables) > 5, tables
found = {**report.as_dict(), "dropped_optout": report.dropped_optout}
del found["seconds"], found["phases"]
print(json.dumps({"report": found, "tables": tables,
                  "catalogue": json.loads((version.path / "catalogue.json").read_text())}))
"""


def _ingest(mode: str, root, inputs) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            mode,
            str(root),
            json.dumps(COMPILED),
            str(SRC),
            PKEY.decode(),
            OKEY.decode(),
            OPTED_OUT_SSN,
            *map(str, inputs),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_compiled_and_pure_python_ingests_publish_the_same_version(shared_dir, tmp_path):
    if any(_built(name) is None for name in COMPILED):
        pytest.skip("not compiled")
    bundles = sorted((shared_dir / "data" / "synthea-r4" / "bundles").glob("*.json"))[:25]
    broken = tmp_path / "broken.ndjson"
    with broken.open("wb") as handle:
        for entry in orjson.loads(bundles[0].read_bytes())["entry"]:
            for case in _broken(entry["resource"]):
                handle.write(orjson.dumps(case) + b"\n")
    inputs = [*bundles, broken]
    compiled = _ingest("compiled", tmp_path / "compiled", inputs)
    pure = _ingest("pure", tmp_path / "pure", inputs)
    assert compiled["report"]["errors"] > 100 and compiled["report"]["dropped_optout"] > 0
    assert compiled == pure
