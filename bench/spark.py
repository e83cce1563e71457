"""The same analysis on DuckDB, Spark local[2] and a Spark standalone cluster, by size.

The Synthea sample is ingested once (bench/analysis.py's work folder) and replicated with
fresh ids to each size (0.1M, 1M and 10M resources by default). A standalone cluster is
started from the PySpark distribution on loopback by campus.analysis.spark_cluster, as the
cluster test does: a master and two workers of one core and 1 GB each. Then, for
each size and engine, a process of its own runs `campus.analysis.runner.execute` (views,
cohort, outputs, opt-outs, disclosure control: what a worker runs) once cold and RUNS times
warm, while this process samples the resident memory of that process's tree (its JVM
included) and, for the cluster, of the master's and workers' trees (the executors are the
workers' children). Every engine must release the same tables.

Reported, for each size: Spark's session start, the cold run (a new process's first job),
the median warm run (the same process's next jobs), their ratios to DuckDB measured in the
same run, and peak memory of each.

    python -m bench spark
    BENCH_SPARK_SIZES=100000,1000000 BENCH_SPARK_RUNS=1 python -m bench spark   # quicker

`python -m bench.spark --profile [COPIES]` (4 copies, about 0.1M resources, by default)
times one analysis on Spark local[2] statement by statement, cold then warm, with the Spark
jobs and stages each statement ran: where a job's fixed cost goes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import analysis as base
from bench.common import replicate, resources_per_copy
from campus.analysis import spark_cluster

SIZES = tuple(
    int(s) for s in os.environ.get("BENCH_SPARK_SIZES", "100000,1000000,10000000").split(",")
)
ENGINES = ("duckdb", "spark local[2]", "spark cluster")
RUNS = int(os.environ.get("BENCH_SPARK_RUNS", "2"))  # warm runs after the cold one (0: none)
WORKERS = 2


def _analysis(dataset: str, code: str) -> dict:
    """bench/analysis.py's question, plus quantiles, a histogram and Kaplan-Meier."""
    data = base.question(code, dataset)
    data["outputs"] += [
        {
            "type": "distribution",
            "name": "age",
            "column": "age_at_index",
            "quantiles": [0.25, 0.5, 0.75],
            "histogram": {"edges": [0, 20, 40, 60, 80]},
        },
        {
            "type": "time_to_event",
            "name": "survival",
            "event": {"view": "patients", "column": "deceased_date_time"},
            "censor": "2025-01-01",
            "group_by": ["gender"],
            "interval_days": 365,
        },
    ]
    return data


# --- one engine, one size, in its own process ------------------------------------------------


def _run(analysis, dataset: str, engine: str, master: str | None) -> dict:
    """What a worker runs for a real-data job: the bench's scope, ten registry objections
    (none in the data), threshold 10 and rounding to 5."""
    from campus.analysis import runner
    from campus.analysis.results import Controls

    return runner.execute(
        analysis,
        warehouse=base._settings().warehouse_path,
        kind="real",
        controls=Controls(threshold=10, base=5),
        scope=runner.Scope((dataset,), ("patient_demographics", "conditions")),
        optout_keys={f"bench-key-{i}" for i in range(10)},
        engine=engine,
        spark_master=master,
    )


def _one(engine: str, dataset: str, code: str, master: str | None) -> None:
    from campus.analysis import definition
    from campus.views.engines import spark_session

    started = time.perf_counter()
    if engine != "duckdb":
        spark_session(master)
    startup = time.perf_counter() - started
    analysis = definition.parse(_analysis(dataset, code))
    times, out = [], {}
    for _ in range(1 + (max(RUNS, 2) if engine == "duckdb" else RUNS)):  # DuckDB's are cheap
        t = time.perf_counter()
        out = _run(analysis, dataset, "spark" if engine != "duckdb" else "duckdb", master)
        times.append(time.perf_counter() - t)
    tables = json.dumps(out["tables"], sort_keys=True)
    print(
        json.dumps(
            {
                "startup": startup,
                "cold": times[0],
                "warm": times[1:],
                "cohort": out["cohort"],
                "tables": hashlib.sha256(tables.encode()).hexdigest()[:12],
            }
        )
    )


# --- where one Spark job's time goes --------------------------------------------------------


def _label(sql: str) -> str:
    """A statement's short name: the table it keeps, or the start of its query."""
    words = sql.split()
    if words[:2] == ["CACHE", "TABLE"]:
        return "keep " + words[2].strip("`")
    return " ".join(words[:6])[:70]


def profile(copies: int) -> None:
    """One analysis on Spark local[2], cold then warm, timed statement by statement, with the
    Spark jobs each one ran (a job group per statement); the rest of a run is Python
    (checks, compiling the views and the analysis, disclosure control)."""
    from campus.analysis import definition, engines
    from campus.views.engines import spark_session

    settings = base._settings()
    source = base._ingest(settings)
    name = f"bench-spark-{copies}"
    _folder, total = replicate(source, settings.warehouse_path, name, 0, copies)
    code = base._top_code(settings.warehouse_path / name / "versions" / "v0001")
    started = time.perf_counter()
    session = spark_session(None)
    print(f"{total:,} resources; session start {time.perf_counter() - started:.1f} s")
    tracker, steps, groups = session.sparkContext.statusTracker(), [], iter(range(10**9))

    class Timed(engines.SparkBackend):
        def _timed(self, label: str, call):
            group = f"bench-{next(groups)}"
            self.spark.sparkContext.setJobGroup(group, label)
            t = time.perf_counter()
            out = call()
            jobs = tracker.getJobIdsForGroup(group)
            stages = sum(len(tracker.getJobInfo(j).stageIds) for j in jobs)
            steps.append((label, time.perf_counter() - t, len(jobs), stages))
            return out

        def execute(self, sql: str) -> None:
            self._timed(_label(sql), lambda: super(Timed, self).execute(sql))

        def rows(self, sql: str) -> list[tuple]:
            return self._timed(_label(sql), lambda: super(Timed, self).rows(sql))

        def close(self) -> None:
            self._timed("release the kept tables", super().close)

    engines.open_backend = lambda engine, **_: Timed()
    analysis = definition.parse(_analysis(name, code))
    for run in ("cold", "warm"):
        steps.clear()
        t = time.perf_counter()
        _run(analysis, name, "spark", None)
        whole = time.perf_counter() - t
        spark = sum(step[1] for step in steps)
        print(
            f"\n{run} run: {whole:.2f} s, of which Spark statements {spark:.2f} s, "
            f"{sum(step[2] for step in steps)} Spark jobs"
        )
        for label, seconds, jobs, stages in steps:
            print(f"  {seconds:7.2f} s  {jobs:2} jobs {stages:3} stages  {label}")
        print(f"  {whole - spark:7.2f} s  Python (checks, compiling, disclosure control)")


# --- resident memory of process trees ---------------------------------------------------------


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(parent, []).append(int(entry.name))
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(roots: list[int]) -> int:
    """Bytes resident in the processes `roots` and all their descendants."""
    children, total, todo, seen = _children(), 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss(pid)
        todo.extend(children.get(pid, ()))
    return total


class Peak:
    """Samples the resident memory of process trees every 0.2 s; keeps the highest."""

    def __init__(self, roots: list[int]):
        self.roots, self.peak, self._stop = roots, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.roots))
            self._stop.wait(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.roots))
        return self.peak


def _measure(engine: str, dataset: str, code: str, master: str | None, cluster: list[int]) -> dict:
    command = [sys.executable, "-m", "bench.spark", "--one", engine, dataset, code]
    if master:
        command.append(master)
    child = subprocess.Popen(
        command,
        env=spark_cluster.spark_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = Peak([child.pid, *cluster])
    out, err = child.communicate(timeout=3600)
    result = {"peak": peak.stop()}
    if child.returncode != 0:
        raise RuntimeError(f"{engine} on {dataset} failed:\n{err[-3000:]}")
    return result | json.loads(out.strip().splitlines()[-1])


def main() -> None:
    # A stopped bench (SIGTERM) still stops its cluster: the `with` below unwinds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    settings = base._settings()
    source = base._ingest(settings)
    per_copy = resources_per_copy(source)
    datasets = []
    for size in SIZES:
        copies = math.ceil(size / per_copy)
        name = f"bench-spark-{copies}"
        started = time.perf_counter()
        _folder, total = replicate(source, settings.warehouse_path, name, 0, copies)
        print(f"{name}: {total:,} resources ({time.perf_counter() - started:.1f} s)", flush=True)
        datasets.append((name, total))
    code = base._top_code(settings.warehouse_path / datasets[0][0] / "versions" / "v0001")
    results: dict[tuple[str, str], dict] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch,
        spark_cluster.standalone_cluster(Path(scratch), workers=WORKERS) as cluster,
    ):
        idle = tree_rss(cluster.pids)
        print(f"cluster idle (master + {WORKERS} workers): {idle / 2**20:,.0f} MB", flush=True)
        for name, total in datasets:
            for engine in ENGINES:
                url = cluster.url if engine == "spark cluster" else None
                own = cluster.pids if engine == "spark cluster" else []
                got = _measure(engine, name, code, url, own)
                results[(name, engine)] = got
                print(f"{total:>12,} {engine:<15} {json.dumps(got)}", flush=True)
    print()
    print(
        "| resources | engine | session start s | cold run s | warm run s | cold / DuckDB "
        "| warm / DuckDB | peak RSS MB |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, total in datasets:
        duck = results[(name, "duckdb")]
        for engine in ENGINES:
            got = results[(name, engine)]
            warm, ratio = "–", "–"
            if got["warm"] and duck["warm"]:
                median = statistics.median(got["warm"])
                warm = f"{median:.2f}"
                ratio = f"{median / statistics.median(duck['warm']):.1f}"
            print(
                f"| {total:,} | {engine} | {got['startup']:.1f} | {got['cold']:.2f} | {warm} "
                f"| {got['cold'] / duck['cold']:.1f} | {ratio} | {got['peak'] / 2**20:,.0f} |"
            )
        same = {results[(name, e)]["tables"] for e in ENGINES}
        cohorts = {results[(name, e)]["cohort"] for e in ENGINES}
        print(
            f"  {name}: released tables identical on the three engines: {len(same) == 1} "
            f"(cohort {', '.join(map(str, cohorts))})"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--profile":
        profile(int(sys.argv[2]) if len(sys.argv) > 2 else 4)
    elif len(sys.argv) > 1 and sys.argv[1] == "--one":
        _one(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        main()
