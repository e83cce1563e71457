"""`campus pull` from the local Bulk Data test server vs `campus ingest` of the same files.

Generates (or reuses) the ingest benchmark's Bulk NDJSON (bench/ingest.py `generate`, sizes in
CAMPUS_BENCH_PULL_SIZES, default 1000000), serves it with `tests/bulk_server.py --static`
(files as they are, streamed) on loopback, and measures in the same run, each as the `campus`
console script in a fresh folder (embedded database), one after the other:

- ingest: `campus ingest --dataset disk FOLDER`;
- download: the export's files fetched by the pull client alone (kick-off, poll, downloads
  streamed to disk), the floor of a pull;
- pull: `campus pull --dataset pulled --from URL` (export, downloads, checks, the same ingest).

Prints wall seconds, resources/s, the peak memory of the largest process, and the ratios
pull / ingest and pull / (download + ingest). Raw figures go to var/bench/pull.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import WORK, generate

ROOT = Path(__file__).resolve().parents[1]
CAMPUS = str(Path(sys.executable).parent / "campus")
DOWNLOAD = """
import sys, tempfile
from pathlib import Path
import httpx
from campus.warehouse.bulk.client import BulkClient, Request
folder = Path(tempfile.mkdtemp(dir=sys.argv[2]))
with httpx.Client(timeout=60) as http:
    client = BulkClient(http)
    status = client.kickoff(Request(base_url=sys.argv[1]))
    manifest = client.poll(status)
    for n, out in enumerate(manifest["output"]):
        client.download(out["url"], folder / f"{n}.ndjson", out.get("count"), False)
    client.delete(status)
"""


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Wall seconds and the peak memory of the largest process of the command's tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        printed, problems = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:3])} failed:\n{printed[-2000:]}\n{problems[-2000:]}"
        )
    last = printed.strip().splitlines()[-1] if printed.strip() else ""
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "last_line": last}


def main() -> None:
    sizes = [int(s) for s in os.environ.get("CAMPUS_BENCH_PULL_SIZES", "1000000").split(",")]
    figures = []
    for size in sizes:
        folder = WORK / f"ndjson-{size}"
        count = generate(folder, size)
        data_bytes = sum(p.stat().st_size for p in folder.glob("*.ndjson"))
        print(f"{count:,} resources, {data_bytes / 1e9:.2f} GB NDJSON", flush=True)
        scratch = Path(tempfile.mkdtemp(prefix="campus-bench-pull-"))
        command = [sys.executable, "-m", "tests.bulk_server", "--static", str(folder)]
        command += ["--out", str(scratch / "server"), "--config", '{"retry_after": "1"}']
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().split()[-1]
            env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
            # The test server is on loopback, which a pull refuses unless named (SSRF guard).
            env["CAMPUS_PULL_ALLOWED_HOSTS"] = "127.0.0.1"
            (scratch / "run").mkdir()
            # The embedded database is made by the first command, not timed.
            _run([CAMPUS, "dataset", "list"], scratch / "run", env)
            ingest = _run(
                [CAMPUS, "ingest", "--dataset", "disk", str(folder)], scratch / "run", env
            )
            down = _run([sys.executable, "-c", DOWNLOAD, url, str(scratch)], ROOT, env)
            pull = _run(
                [CAMPUS, "pull", "--dataset", "pulled", "--from", url, "--full"],
                scratch / "run",
                env,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
            shutil.rmtree(scratch, ignore_errors=True)
        for name, found in (("ingest", ingest), ("download", down), ("pull", pull)):
            print(
                f"  {name:9}: {found['seconds']:7.1f} s  {count / found['seconds']:10,.0f} "
                f"resources/s  peak {found['peak_mb']:.0f} MB",
                flush=True,
            )
        print(f"  pull: {pull['last_line']}", flush=True)
        ratio = pull["seconds"] / ingest["seconds"]
        floor = pull["seconds"] / (ingest["seconds"] + down["seconds"])
        print(
            f"  pull / ingest = {ratio:.2f}; pull / (download + ingest) = {floor:.2f}",
            flush=True,
        )
        figures.append(
            {"size": count, "bytes": data_bytes, "ingest": ingest, "download": down, "pull": pull}
        )
    out = WORK.parent / "pull.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"figures: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
