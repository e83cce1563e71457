"""One ingest, end to end: plan, run the workers, finalise, catalogue, dummy twin, publish.

This module knows files, not accounts: `service.ingest` wraps it with the database (dataset,
policy, opt-out registry, version row, audit).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import queue as queue_module
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from campus.errors import BadRequest
from campus.warehouse import catalogue, deferred, dummy, layout, messages, publish, sources
from campus.warehouse.policy import Policy
from campus.warehouse.problems import Problem, ProblemLog
from campus.warehouse.pseudonymise import Pseudonymiser
from campus.warehouse.worker import Config, Runner, TaskResult, run_worker

OnError = Literal["skip", "abort"]
# Under this many input bytes the work runs in the calling process (no pool start-up cost).
IN_PROCESS_BYTES = 24 * 1024 * 1024
# A staging folder of an ingest on another host (shared storage) is kept this long.
FOREIGN_STAGING_SECONDS = 24 * 3600
Progress = Callable[[int, int, int], None]  # bytes done, resources read, errors: increments


@dataclass
class Limits:
    max_resource_bytes: int = 16 * 1024 * 1024
    max_json_bytes: int = 512 * 1024 * 1024
    dummy_rows: int = dummy.MAX_ROWS


@dataclass
class IngestReport:
    dataset: str
    status: Literal["published", "aborted", "empty", "unchanged"] = "empty"
    version: str | None = None
    files: int = 0
    bytes: int = 0
    read: int = 0
    landed: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    dropped_optout: int = 0
    unresolved_references: int = 0
    errors: int = 0
    warnings: int = 0
    # Resources (or lines, entries) refused by an error and left out of a published version,
    # and why: counts per message template (no value of the input), most frequent first.
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    # An incremental version: the version it builds on, and its rows left out (deleted on the
    # server, or of a patient who has opted out since).
    base_version: str | None = None
    removed: int = 0
    problems: list[Problem] = field(default_factory=list)
    omitted_problems: int = 0
    seconds: float = 0.0
    # Wall seconds by phase: read (workers), finalise (duplicates, late opt-outs, the parts
    # published), describe (reference check, catalogue, dummy twin), publish.
    phases: dict[str, float] = field(default_factory=dict)
    policy_hash: str = ""

    @property
    def resources(self) -> int:
        return sum(self.landed.values())

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        # Opted-out counts are the DPO's alone (the audit event keeps it), never a steward's.
        data.pop("dropped_optout")
        data["resources"] = self.resources
        data["problems"] = [p.as_dict() for p in self.problems]
        return data


def cleanup_stale(dataset_dir: Path) -> None:
    """Remove staging folders left by an ingest that is no longer running.

    Called under the dataset's lock, which is also held while a staging folder is created
    with its owner file and while a finished one is published: a folder without an owner
    file is then never one being set up or published, only one left by a crash. An ingest
    on another host (shared storage) cannot be checked: its folder is kept for a day.
    """
    staging = dataset_dir / "staging"
    if not staging.is_dir():
        return
    for folder in staging.iterdir():
        owner = folder / "owner.json"
        try:
            found = json.loads(owner.read_text())
            pid, host = found["pid"], found.get("host")
        except (OSError, ValueError, KeyError, TypeError):
            pid, host = None, None
        if host not in (None, socket.gethostname()):
            try:
                age = time.time() - folder.stat().st_mtime
            except OSError:
                continue
            if age < FOREIGN_STAGING_SECONDS:
                continue
        elif pid is not None and _alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run(
    root: Path,
    dataset: str,
    paths: list[Path],
    *,
    policy: Policy,
    pseudonym_key: bytes,
    optout_secret: bytes,
    registry: set[str],
    actor: str,
    labels: list[str] | None = None,
    on_error: OnError = "abort",
    tolerance: int = 0,
    strict: bool = False,
    threshold: int = 10,
    workers: int | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    native: bool = True,
    external_problems: list[Problem] | None = None,
    manifest_extra: dict[str, Any] | None = None,
    base_version: str | None = None,
    deleted: list[tuple[str, str]] | None = None,
) -> IngestReport:
    """Ingest files into a new version of `dataset`; nothing is visible unless it completes.

    No silent loss: with `on_error="abort"` (the default) a resource refused by an error stops
    the publication unless there are at most `tolerance` of them (the dataset's own setting);
    `on_error="skip"` publishes the good resources. Either way a published version's report
    and manifest count the resources skipped and why.

    `external_problems` are errors found before the files (a Bulk Data server's error files):
    they count as resources that failed. `manifest_extra` joins the manifest (a pull's
    server, request and transaction time).

    `base_version` makes an incremental version: the resources read are upserted (by type and
    id) onto that version's, and the `deleted` ones (type, source id) left out.

    `native=False` sends every NDJSON line through the Python path (the specification) even
    where the native fast path is built: for comparisons."""
    if on_error not in ("skip", "abort"):
        raise BadRequest("--on-error must be skip or abort", code="bad_option", where="on_error")
    limits = limits or Limits()
    started = time.monotonic()
    try:
        dataset_dir = layout.dataset_dir(root, dataset)
    except ValueError as error:
        raise BadRequest(str(error), code="bad_dataset", where="dataset") from None
    # An incremental version may only remove resources (deleted on the server): no file.
    files = sources.discover(paths) if paths or base_version is None else []
    if labels is not None and len(labels) != len(files):
        labels = None
    tasks = sources.plan(files, labels)
    report = IngestReport(dataset, files=len(files), policy_hash=policy.digest)
    report.bytes = sum(t.size for t in tasks)
    dataset_dir.mkdir(parents=True, exist_ok=True)
    staging = dataset_dir / "staging" / secrets.token_hex(8)
    with publish.dataset_lock(dataset_dir):
        cleanup_stale(dataset_dir)
        staging.mkdir(parents=True)
        owner = {"pid": os.getpid(), "host": socket.gethostname()}
        (staging / "owner.json").write_text(json.dumps(owner))
    try:
        config = Config(
            staging=str(staging),
            pseudonym_key=pseudonym_key,
            optout_secret=optout_secret,
            policy=policy.as_dict(),
            registry=frozenset(registry),
            strict=strict,
            max_resource_bytes=limits.max_resource_bytes,
            max_json_bytes=limits.max_json_bytes,
            native=native,
        )
        # Small plain input is read in this process. A gzip file may expand a thousandfold (a
        # few MB can hold a JSON file of the 512 MB limit): it is read by a worker process,
        # whose memory goes back when it ends, never in a web server's.
        small = report.bytes < IN_PROCESS_BYTES and not any(sources.is_gzip(t) for t in tasks)
        count = workers or (1 if small else min(2, os.cpu_count() or 1))
        count = max(1, min(count, len(tasks)))
        in_process = count == 1 and (small or workers == 1)
        if base_version is not None:  # identifiers to resolve against, besides the files'
            base = layout.resolve(root, dataset, base_version).path
            deferred.stage_base_keys(staging, base, frozenset(registry))
        clock = _Clock(report.phases)
        results, hashes = _execute(config, tasks, count, progress, in_process)
        if any(result.deferred for result in results.values()):
            deferred.resolve_deferred(config, count, tasks, results)
        clock.lap("read")
        log = ProblemLog()
        for problem in external_problems or ():
            log.add(problem)
            report.read += problem.severity == "error"
        offsets = _line_offsets(tasks, results)
        _merge(report, tasks, results, log, offsets)
        # File names may hold patient names (Synthea's do): only hashes and sizes are kept.
        manifest_sources = [
            {"sha256": hashes[path], "bytes": os.path.getsize(path)}
            for path in dict.fromkeys(t.path for t in tasks)
        ]
        if on_error == "abort" and log.errors > tolerance:
            return _abort(report, log, staging, started)
        places = {t.index: (t.label, t.ndjson) for t in tasks}
        final = publish.finalise(staging, registry, offsets, places)
        clock.lap("finalise")
        log.merge(final.problems, 0, len(final.problems))
        if base_version is not None:
            report.base_version = base_version
            base = layout.resolve(root, dataset, base_version).path
            pseudonymiser = Pseudonymiser(pseudonym_key, policy)
            gone: dict[str, set[str]] = {}
            for type_name, source_id in deleted or ():
                gone.setdefault(type_name, set()).add(pseudonymiser.pseudonym(type_name, source_id))
            report.removed = publish.build_on(staging, base, gone, registry, final)
        report.landed = final.counts
        report.duplicates = final.duplicates
        report.dropped_optout += final.dropped_optout
        if not report.landed:
            with contextlib.closing(publish.connect(staging / "tmp")) as con:
                publish.check_references(con, staging, final, offsets)
            _references(report, log, final)
            _finish(report, log, started)
            shutil.rmtree(staging, ignore_errors=True)
            return report
        con = publish.connect(staging / "tmp")
        # The reference check and the catalogue (DuckDB queries, which release the GIL) run
        # on cursors of their own while the dummy twin draws its records in Python.
        with ThreadPoolExecutor(2) as pool:
            references = pool.submit(
                publish.check_references, con.cursor(), staging, final, offsets
            )
            statistics = pool.submit(catalogue.compute, con.cursor(), staging / "real", threshold)
            dummy_counts = dummy.build(
                con, staging / "real", staging / "dummy", threshold, limits.dummy_rows
            )
            stats = statistics.result()
            references.result()
        con.close()
        _references(report, log, final)
        (staging / "catalogue.json").write_text(json.dumps(stats, indent=1, sort_keys=True))
        clock.lap("describe")
        _finish(report, log, started)
        manifest = {
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "created_by": actor,
            "policy": {
                "name": policy.name,
                "sha256": policy.digest,
                "date_shift": policy.date_shift,
            },
            "counts": report.landed,
            "resources": report.resources,
            "patients": report.landed.get("Patient", 0),
            "dummy_counts": dummy_counts,
            "sources": manifest_sources,
            "read": report.read,
            "duplicates": report.duplicates,
            "errors": report.errors,
            "warnings": report.warnings,
            "skipped": report.skipped,
            "skipped_reasons": report.skipped_reasons,
            "base_version": report.base_version,
            "removed": report.removed,
            "threshold": threshold,
            **(manifest_extra or {}),
        }
        version = publish.publish(root, dataset, staging, manifest)
        clock.lap("publish")
        report.version = version.version
        report.status = "published"
        return report
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


class _Clock:
    """Records the wall seconds of each phase of an ingest into `phases`."""

    def __init__(self, phases: dict[str, float]):
        self.phases = phases
        self.last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self.last, 3)
        self.last = now


def _references(report: IngestReport, log: ProblemLog, final: publish.Finalised) -> None:
    """The reference check's findings: the first ones itemised, all of them counted."""
    log.merge(final.references, 0, final.unresolved)
    report.unresolved_references = final.unresolved


def _finish(report: IngestReport, log: ProblemLog, started: float) -> None:
    report.problems = log.items
    report.errors, report.warnings = log.errors, log.warnings
    report.omitted_problems = log.omitted
    report.skipped, report.skipped_reasons = skipped_reasons(log)
    report.seconds = round(time.monotonic() - started, 3)


def skipped_reasons(log: ProblemLog) -> tuple[int, dict[str, int]]:
    """How many resources the errors left out, and why: counts per message template (the
    template, never the values formatted into it, which can quote the input), most frequent
    first; errors beyond the ones itemised are counted under "not itemised"."""
    counts: dict[str, int] = {}
    itemised = 0
    for problem in log.items:
        if problem.severity != "error":
            continue
        itemised += 1
        reason = messages.template_of(problem.message)
        counts[reason] = counts.get(reason, 0) + 1
    if log.errors > itemised:
        counts[NOT_ITEMISED] = log.errors - itemised
    ranked = dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))
    return log.errors, ranked


NOT_ITEMISED = "not itemised (see the report's error count)"


def _abort(report, log, staging: Path, started: float) -> IngestReport:
    shutil.rmtree(staging, ignore_errors=True)
    report.status = "aborted"
    report.landed = {}
    _finish(report, log, started)
    return report


def _line_offsets(tasks, results: dict[int, TaskResult]) -> dict[int, int]:
    """Task index -> lines of its file before it: a chunk of a large NDJSON counts its lines
    from its own start, and this turns them into the file's line numbers."""
    offsets: dict[int, int] = {}
    running: dict[str, int] = {}
    for task in tasks:  # tasks of a file are planned in order, chunk 0 first
        if task.chunk == 0:
            running[task.path] = 0
        offsets[task.index] = running[task.path]
        running[task.path] += results[task.index].lines
    return offsets


def _merge(
    report: IngestReport, tasks, results: dict[int, TaskResult], log, offsets: dict[int, int]
) -> None:
    """Add up task results; turn chunk-relative NDJSON line numbers into file line numbers."""
    for task in tasks:
        result = results[task.index]
        for _type_name, n in result.landed.items():
            report.read += n
        report.dropped_optout += result.dropped_optout
        report.read += result.dropped_optout
        shift = offsets[task.index]
        fixed = [
            dataclasses.replace(p, line=p.line + shift) if shift and p.line is not None else p
            for p in result.problems
        ]
        log.merge(fixed, result.errors, result.warnings)
        report.read += result.errors


def _execute(
    config: Config,
    tasks: list[sources.Task],
    count: int,
    progress: Progress | None,
    in_process: bool,
) -> tuple[dict[int, TaskResult], dict[str, str]]:
    hashes: dict[str, str] = {}
    results: dict[int, TaskResult] = {}
    if in_process:
        runner = Runner(config, 0)
        try:
            for task in tasks:
                result = runner.run(task, progress)
                results[task.index] = result
                if progress is not None:
                    progress(0, 0, result.errors)
        finally:
            runner.close()
        for path in dict.fromkeys(t.path for t in tasks):
            hashes[path] = _file_hash(path)
        return results, hashes
    context = multiprocessing.get_context("spawn")
    task_queue = context.Queue()
    result_queue = context.Queue()
    for task in sorted(tasks, key=lambda t: -t.size):
        task_queue.put(task)
    for _ in range(count):
        task_queue.put(None)
    processes = [
        context.Process(target=run_worker, args=(config, n, task_queue, result_queue), daemon=True)
        for n in range(count)
    ]
    for process in processes:
        process.start()
    try:
        for path in dict.fromkeys(t.path for t in tasks):  # while the workers run
            hashes[path] = _file_hash(path)
        done = 0
        while done < count:
            try:
                kind, _worker, payload = result_queue.get(timeout=5)
            except queue_module.Empty:
                dead = [p for p in processes if not p.is_alive() and p.exitcode not in (0, None)]
                if dead:
                    raise RuntimeError(
                        f"an ingest worker died (exit code {dead[0].exitcode})"
                    ) from None
                continue
            if kind == "progress" and progress is not None:
                progress(*payload)
            elif kind == "result":
                results[payload.task] = payload
                if progress is not None:
                    progress(0, 0, payload.errors)
            elif kind == "done":
                done += 1
            elif kind == "failed":
                raise RuntimeError(f"an ingest worker failed:\n{payload}")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    return results, hashes
