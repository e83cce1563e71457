"""A federated count and Kaplan-Meier over three nodes against the same analysis on one site.

The Synthea sample is ingested once (bench/analysis.py's work folder), then replicated into
three node datasets (copies 0..k-1, k..2k-1, 2k..3k-1 with fresh ids) and one union dataset
(all 3k copies): the union holds >= 10M resources by default. Each node runs its task with
the node's own code (`Node.run_task`: the engine, the node's disclosure control, the
sufficient statistics) on its own part; the centre checks and pools the answers. The same
analysis runs on the union at one site.

Reported: the median of 3 runs of each node and of the single site, the federated wall-clock
(the slowest node, as the nodes run in parallel at their hospitals, plus pooling) over the
single site's, and the bytes each node sends, for the full parts and for parts a tenth the
size: the answer's size depends on the statistics (groups, intervals), not on the patients.

    python -m bench federation                          # >= 10M resources in the union
    BENCH_FEDERATION_COPIES=10 python -m bench federation  # copies per node, for a quick look
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from bench import analysis as base
from campus.analysis import definition, runner
from campus.analysis.results import Controls
from campus.db.engine import Database
from campus.federation import pooling
from campus.federation.node import Node
from campus.warehouse import layout

NODES = ("bench-node-a", "bench-node-b", "bench-node-c")
UNION = "bench-node-union"
RUNS = 3
ANALYSIS = {
    "title": "Federated bench",
    "dataset": UNION,
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients", "index_date": "2010-01-01", "birth_date": "birth_date"},
    "outputs": [
        {"type": "counts", "name": "by_sex", "group_by": ["gender"]},
        {
            "type": "time_to_event",
            "name": "survival",
            "event": {"view": "patients", "column": "deceased_date_time"},
            "censor": "2025-01-01",
            "group_by": ["gender"],
            "interval_days": 365,
            "horizon_days": 5475,
        },
    ],
}


def _files(table: Path) -> str:
    return "[" + ", ".join(base._q(p) for p in layout.files(table)) + "]"


def _copies(source: layout.DatasetVersion, root: Path, name: str, start: int, stop: int) -> int:
    """Copies start..stop-1 of the source (ids suffixed, references rewritten) as `name`."""
    folder = root / name / "versions" / "v0001"
    marker = folder / f".copies-{start}-{stop}"
    con = duckdb.connect(config={"threads": 2})
    if not marker.exists():
        shutil.rmtree(root / name, ignore_errors=True)
        for kind in ("real", "dummy"):
            (folder / kind).mkdir(parents=True, exist_ok=True)
        own = """replace(resource, '"' || id || '"', '"' || id || '-r' || k || '"')"""
        ref = "'Patient/' || patient || '\"'"
        new_ref = "'Patient/' || patient || '-r' || k || '\"'"
        for table, path in source.tables("real").items():
            target = base._q(folder / "real" / (table + ".parquet"))
            con.execute(
                f"""COPY (SELECT id || '-r' || k AS id,
                    CASE WHEN patient IS NULL THEN NULL ELSE patient || '-r' || k END AS patient,
                    effective, code,
                    CASE WHEN patient IS NULL THEN {own}
                      ELSE replace({own}, {ref}, {new_ref}) END AS resource
                  FROM read_parquet({_files(path)}), range({start}, {stop}) t(k))
                  TO {target} (FORMAT parquet, COMPRESSION zstd)"""
            )
            dummy = source.tables("dummy").get(table)
            if dummy is not None:
                con.execute(
                    f"COPY (SELECT * FROM read_parquet({_files(dummy)})) "
                    f"TO {base._q(folder / 'dummy' / (table + '.parquet'))} (FORMAT parquet)"
                )
        con.execute(
            f"""COPY (SELECT optout_key || '-r' || k AS optout_key, patient || '-r' || k AS patient
                FROM read_parquet({base._q(source.optout_keys)}), range({start}, {stop}) t(k))
                TO {base._q(folder / "optout_keys.parquet")} (FORMAT parquet)"""
        )
        (folder / "manifest.json").write_text(json.dumps({"dataset": name, "version": "v0001"}))
        marker.touch()
    files = ", ".join(base._q(p) for p in sorted((folder / "real").glob("*.parquet")))
    total = con.execute(f"SELECT count(*) FROM read_parquet([{files}])").fetchone()[0]
    con.close()
    return int(total)


def _payload(dataset: str) -> dict:
    return {
        "definition": ANALYSIS | {"dataset": dataset},
        "scope": {"datasets": [dataset], "views": ["patient_demographics"], "elements": []},
    }


def _node_runs(settings, db, name: str) -> tuple[float, dict]:
    node = Node(
        settings=settings,
        db=db,
        central="http://centre.invalid",  # run_task talks to no centre
        token="-",
        dataset=name,
        centre_key="",
        name=name,
    )
    times, answer = [], {}
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = node.run_task(_payload(name))
        times.append(time.perf_counter() - started)
    return statistics.median(times), answer


def main() -> None:
    settings = base._settings()
    source = base._ingest(settings)
    per_copy = sum(
        duckdb.sql(f"SELECT count(*) FROM read_parquet({_files(p)})").fetchall()[0][0]
        for p in source.tables("real").values()
    )
    copies = int(
        os.environ.get(
            "BENCH_FEDERATION_COPIES", math.ceil(base.TARGET_RESOURCES / per_copy / len(NODES))
        )
    )
    root = settings.warehouse_path
    started = time.perf_counter()
    sizes = [_copies(source, root, n, i * copies, (i + 1) * copies) for i, n in enumerate(NODES)]
    union = _copies(source, root, UNION, 0, copies * len(NODES))
    print(
        f"{len(NODES)} nodes x {copies} copies: {', '.join(f'{s:,}' for s in sizes)} resources; "
        f"union {union:,} ({time.perf_counter() - started:.1f} s to build)"
    )
    db = Database(settings.db_url)
    parsed = definition.parse(ANALYSIS)
    node_times, answers = [], []
    for name in NODES:
        seconds, answer = _node_runs(settings, db, name)
        node_times.append(seconds)
        answers.append(pooling.check_answer(parsed, answer))
    started = time.perf_counter()
    pooled = pooling.pool(parsed, answers, threshold=10, base=5)
    pool_seconds = time.perf_counter() - started
    single_times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        single = runner.execute(
            parsed,
            warehouse=root,
            kind="real",
            controls=Controls(threshold=10, base=5),
            scope=runner.Scope((UNION,), ("patient_demographics",)),
            optout_keys=set(),
        )
        single_times.append(time.perf_counter() - started)
    one_site = statistics.median(single_times)
    federated = max(node_times) + pool_seconds
    sent = [len(json.dumps(a).encode()) for a in answers]

    # The same with parts a tenth the size: the bytes sent do not follow the patients.
    small = max(1, copies // 10)
    _copies(source, root, "bench-node-small", 0, small)
    _seconds, small_answer = _node_runs(settings, db, "bench-node-small")
    db.dispose()
    print(f"pooled cohort {pooled['cohort']}, one site {single['cohort']}")
    print(f"nodes (median of {RUNS}): {', '.join(f'{t:.2f} s' for t in node_times)}")
    print(f"pooling            : {pool_seconds * 1000:.1f} ms")
    print(f"one site (union)   : {one_site:.2f} s")
    print(f"federated / single : {federated / one_site:.2f} (slowest node + pooling)")
    print(f"bytes sent per node: {', '.join(map(str, sent))} ({copies} copies each)")
    print(f"bytes, {small} copies  : {len(json.dumps(small_answer).encode())}")


if __name__ == "__main__":
    main()
