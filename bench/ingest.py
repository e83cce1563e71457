"""Ingest throughput: Campus end to end vs DuckDB's bare read_json vs naive R4 model validation.

Replicates the shared Synthea sample with fresh ids into Bulk Data NDJSON (one file per
resource type, references rewritten to relative `Type/id`) up to each size in
CAMPUS_BENCH_INGEST_SIZES (default 1000000), then measures in the same run:

- campus: `campus.warehouse.ingest.run` with the default policy, in a child process so that
  its peak memory (the main process's own high-water mark, and the workers' from getrusage) and
  CPU time (getrusage) are measured alone; with CAMPUS_BENCH_NATIVE=0, every line by the Python
  path even where the native fast path is built (to compare the two);
- duckdb: `read_json` of the same NDJSON into a table (the parse-and-load limit);
- naive: `fhir.resources` R4B `model_validate` one resource at a time, on a sample.

Prints resources/s and ratios; raw figures go to var/bench/ingest.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import orjson

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CAMPUS_SHARED", ROOT.parent / "shared"))
WORK = Path(os.environ.get("CAMPUS_BENCH_DIR", ROOT / "var" / "bench" / "ingest"))
SHARED_TYPES = ("Organization", "Practitioner")
UUID = re.compile(r"urn:uuid:([0-9a-f-]{36})")
NAIVE_SAMPLE = 5000

CHILD = """
import json, resource, sys, time
from pathlib import Path
from campus.warehouse import ingest, policy
started = time.perf_counter()
report = ingest.run(Path(sys.argv[1]), "bench", [Path(sys.argv[2])], policy=policy.default(),
                    pseudonym_key=b"k" * 32, optout_secret=b"o" * 32, registry=set(),
                    actor="bench", native=sys.argv[3] != "0")
seconds = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
# The kernel's high-water mark of this process's own memory: ru_maxrss would also count the
# benchmark's process that forked this one (Linux keeps it across exec).
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "resources": report.resources, "read": report.read,
                  "errors": report.errors, "status": report.status, "phases": report.phases,
                  "cpu_main_s": own.ru_utime + own.ru_stime,
                  "cpu_workers_s": workers.ru_utime + workers.ru_stime,
                  "peak_main_mb": hwm / 1024,
                  "peak_worker_mb": workers.ru_maxrss / 1024}))
"""


def templates() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per type: resource templates with `{R}` where each replica's id suffix goes."""
    per_patient: dict[str, list[str]] = defaultdict(list)
    shared: dict[str, list[str]] = defaultdict(list)
    seen_shared: set[str] = set()
    for path in sorted((SHARED / "data" / "synthea-r4" / "bundles").glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        types = {e["fullUrl"][9:]: e["resource"]["resourceType"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            kind = resource["resourceType"]
            text = orjson.dumps(resource).decode()

            def swap(match: re.Match, types=types) -> str:
                uuid = match.group(1)
                target = types.get(uuid, "Patient")
                suffix = "" if target in SHARED_TYPES else "{R}"
                return f"{target}/{uuid}{suffix}"

            text = UUID.sub(swap, text)
            if kind in SHARED_TYPES:
                if resource["id"] not in seen_shared:
                    seen_shared.add(resource["id"])
                    shared[kind].append(text)
                continue
            text = text.replace(f'"id":"{resource["id"]}"', f'"id":"{resource["id"]}{{R}}"', 1)
            per_patient[kind].append(text)
    return per_patient, shared


def generate(folder: Path, size: int) -> int:
    """Write NDJSON files of about `size` resources; returns the exact count."""
    marker = folder / "count"
    if marker.exists():
        return int(marker.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    per_patient, shared = templates()
    per_replica = sum(len(v) for v in per_patient.values())
    replicas = max(1, -(-(size - sum(len(v) for v in shared.values())) // per_replica))
    total = 0
    handles = {t: open(folder / f"{t}.ndjson", "w") for t in {*per_patient, *shared}}  # noqa: SIM115
    try:
        for kind, items in shared.items():
            handles[kind].write("\n".join(items) + "\n")
            total += len(items)
        for replica in range(replicas):
            suffix = f"-r{replica}"
            for kind, items in per_patient.items():
                handles[kind].write("\n".join(items).replace("{R}", suffix) + "\n")
                total += len(items)
    finally:
        for handle in handles.values():
            handle.close()
    marker.write_text(str(total))
    return total


def campus(folder: Path, out: Path) -> dict:
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(out),
            str(folder),
            os.environ.get("CAMPUS_BENCH_NATIVE", "1"),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the ingest failed:\n{result.stderr[-3000:]}")
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def duckdb_read(folder: Path) -> dict:
    con = duckdb.connect()
    con.execute("SET threads=2")
    con.execute(f"SET temp_directory='{WORK / 'duck-tmp'}'")
    started = time.perf_counter()
    rows = 0
    for path in sorted(folder.glob("*.ndjson")):
        con.execute(
            f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_json('{path}', "
            "format='newline_delimited', union_by_name=true, maximum_object_size=67108864)"
        )
        rows += con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.execute("DROP TABLE t")
    return {"seconds": time.perf_counter() - started, "resources": rows}


def naive(folder: Path) -> dict:
    from fhir.resources.R4B import get_fhir_model_class

    lines: list[bytes] = []
    for path in sorted(folder.glob("*.ndjson")):
        with path.open("rb") as handle:
            for _, line in zip(range(NAIVE_SAMPLE // 15 + 1), handle, strict=False):
                lines.append(line)
    started = time.perf_counter()
    errors = 0
    for line in lines:
        resource = orjson.loads(line)
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception:
            errors += 1
    return {"seconds": time.perf_counter() - started, "resources": len(lines), "errors": errors}


def _native() -> bool:
    """Whether Campus's NDJSON lines go through the native fast path in this run."""
    from campus.warehouse import worker

    return worker.NativeWalk is not None and os.environ.get("CAMPUS_BENCH_NATIVE", "1") != "0"


def main() -> None:
    sizes = [int(s) for s in os.environ.get("CAMPUS_BENCH_INGEST_SIZES", "1000000").split(",")]
    print(f"native fast path: {'on' if _native() else 'off (Python path)'}", flush=True)
    figures = []
    for size in sizes:
        folder = WORK / f"ndjson-{size}"
        started = time.perf_counter()
        count = generate(folder, size)
        data_bytes = sum(p.stat().st_size for p in folder.glob("*.ndjson"))
        print(
            f"{count:,} resources, {data_bytes / 1e9:.2f} GB NDJSON "
            f"(generated in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        ours = campus(folder, WORK / "warehouse")
        rate = ours["read"] / ours["seconds"]
        print(
            f"  campus ingest : {ours['seconds']:7.1f} s  {rate:10,.0f} resources/s  "
            f"peak main {ours['peak_main_mb']:.0f} MB, worker {ours['peak_worker_mb']:.0f} MB",
            flush=True,
        )
        per = 1e6 / ours["read"]
        print(
            f"  campus CPU    : workers {ours['cpu_workers_s'] * per:.1f} µs/resource, "
            f"main {ours['cpu_main_s'] * per:.1f} µs/resource",
            flush=True,
        )
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in ours["phases"].items())
        print(f"  campus phases : {phases}", flush=True)
        duck = duckdb_read(folder)
        duck_rate = duck["resources"] / duck["seconds"]
        print(
            f"  duckdb read   : {duck['seconds']:7.1f} s  {duck_rate:10,.0f} resources/s",
            flush=True,
        )
        slow = naive(folder)
        naive_rate = slow["resources"] / slow["seconds"]
        print(
            f"  naive R4      : {naive_rate:10,.0f} resources/s (sample of {slow['resources']:,})"
            f" -> {count / naive_rate:,.0f} s for all",
            flush=True,
        )
        print(
            f"  campus / duckdb = {rate / duck_rate:.2f}; campus / naive = "
            f"{rate / naive_rate:.1f}x",
            flush=True,
        )
        figures.append(
            {
                "size": count,
                "bytes": data_bytes,
                "native": _native(),
                "campus": ours,
                "duckdb": duck,
                "naive": slow,
            }
        )
    out = WORK.parent / "ingest.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"figures: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
