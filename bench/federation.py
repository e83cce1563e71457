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
import statistics
import time

from bench import analysis as base
from bench.common import replicate, resources_per_copy
from campus.analysis import definition, runner
from campus.analysis.results import Controls
from campus.db.engine import Database
from campus.federation import pooling
from campus.federation.node import Node

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
    per_copy = resources_per_copy(source)
    copies = int(
        os.environ.get(
            "BENCH_FEDERATION_COPIES", math.ceil(base.TARGET_RESOURCES / per_copy / len(NODES))
        )
    )
    root = settings.warehouse_path
    started = time.perf_counter()
    sizes = [
        replicate(source, root, n, i * copies, (i + 1) * copies)[1] for i, n in enumerate(NODES)
    ]
    union = replicate(source, root, UNION, 0, copies * len(NODES))[1]
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
    replicate(source, root, "bench-node-small", 0, small)
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
