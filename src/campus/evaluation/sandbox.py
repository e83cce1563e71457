"""Run a checked ONNX model on a feature table in a separate, limited process.

What holds (Linux): the model runs in a process of its own, one a run, forked by a
long-lived runner (an isolated Python: `-I`, no user site, no PYTHONPATH, an empty
environment; numpy and onnxruntime imported once and warmed on a model of its own; it never
opens a submitted model) in a private folder, or with `fresh` a new isolated Python for the
run; the run's process caps its address space (the benchmark's memory), CPU time and
written file size, and is killed by an alarm at the benchmark's time limit (the parent also
kills it after a grace period). It leaves the network by unsharing into a new user and
network namespace when the kernel allows it (`network: namespace` in the result); where it
does not, the run is recorded with `network: none` - the standard-operator allow-list is
then what keeps a model from reaching anything, since no standard ONNX operator does I/O.
What does not hold: the child runs under the same user as the worker and could read what
that user reads if onnxruntime itself had a memory-safety bug that a crafted model
exploited; run the worker under a dedicated account (docs/evaluation.md).

The run's folder is in shared memory when it has room (`_memory_folder`): the table is
written there once, or not at all when it was built in shared memory (`table`), and the
child maps it read-only, the child writes the scores there in the model's own type and the
parent maps them read-only, so neither is copied again. The scores come back to the parent,
which reduces them to binned counts (metrics.py) and drops them; they are never stored nor
shown. The labels never reach the folder.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from campus.errors import Message, parse
from campus.i18n import N_, gettext

SHARED_MEMORY = "/dev/shm"  # noqa: S108 - a private folder is made in it for each run
STARTUP_GRACE = 30.0  # seconds the runtime may take to start, before the model's own limit
CHILD_ENV = {"OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"}
TIME_LIMIT = N_("the model ran past its time limit of {seconds} s")
MEMORY_LIMIT = N_("the model needed more than its memory limit of {limit} MB")
ONNXRUNTIME_FAILED = N_("onnxruntime failed: {reason}")
NOT_RUN = N_("the model could not be run")
OUTPUT_UNREADABLE = N_("the model's output could not be read")
RUNNER_NOT_STARTED = N_("the evaluation runner did not start; submit again")
RUNNER_STOPPED = N_("the evaluation runner stopped; submit again")
OUTPUT_NOT_FINITE = N_("the model's output holds NaN or infinite values")
OUTPUT_NOT_PROBABILITIES = N_("the model's scores must be probabilities in [0, 1]")
OUTPUT_SHAPE = N_(
    "the model's output has shape [{shape}]; expected [N], [N, 1] or [N, 2] with N the number "
    "of rows"
)
# Every reason a run fails with, to show a stored failure in the reader's language.
FAILURES = (
    TIME_LIMIT,
    MEMORY_LIMIT,
    ONNXRUNTIME_FAILED,
    NOT_RUN,
    OUTPUT_UNREADABLE,
    RUNNER_NOT_STARTED,
    RUNNER_STOPPED,
    OUTPUT_NOT_FINITE,
    OUTPUT_NOT_PROBABILITIES,
    OUTPUT_SHAPE,
)
KINDS = ("time", "memory", "runtime", "output")


def shown(error: str) -> str:
    """A failure stored as `kind: reason` (English) in the reader's language, the reason
    alone; another text (a refusal's message id, an unexpected error) translated or as it is."""
    kind, _, reason = error.partition(": ")
    found = parse(reason, FAILURES) if kind in KINDS else None
    return found.translated() if found is not None else gettext(error)


class RunFailed(Exception):
    """The model could not be scored: `kind` is time, memory, runtime or output; `text` the
    reason (an English message id with its values, translated where it is shown)."""

    def __init__(self, kind: str, message: str, **values: object):
        self.text = Message(message, values)
        self.message = str(self.text)
        super().__init__(self.message)
        self.kind = kind


@dataclass(frozen=True)
class Scored:
    scores: np.ndarray
    network: str
    cpu_seconds: float | None = None  # the run's process, as it said (for the bench)


def run(
    model: bytes,
    features: np.ndarray,
    *,
    output_name: str,
    memory_mb: int,
    seconds: float,
    fresh: bool = False,
) -> Scored:
    """The model's scores (one per row, in [0, 1]); RunFailed says which limit or rule broke.

    Each run is its own process with its own limits. By default it is forked by a
    long-lived runner of this process that has imported numpy and onnxruntime once (about
    a second saved a run); `fresh` starts a new Python for the run instead (the way before
    the runner; a test compares both)."""
    shared = _shared(features)  # a `table`: the child maps its file, nothing is written
    if shared is None:
        features = np.ascontiguousarray(features, dtype=np.float32)
    size = len(model) + (0 if shared else features.nbytes) + 16 * len(features)  # [N, 2] f64
    with tempfile.TemporaryDirectory(prefix="campus-eval-", dir=_memory_folder(size)) as folder:
        base = Path(folder)
        (base / "model.onnx").write_bytes(model)
        if shared is None:
            np.save(base / "input.npy", features)
        args = [
            str(base / "model.onnx"),
            shared or str(base / "input.npy"),
            str(base / "output.npy"),
            output_name,
            str(memory_mb),
            repr(float(seconds)),
        ]
        if fresh:
            returncode, out, err = _fresh(folder, args, seconds)
        else:
            returncode, out, err = RUNNERS.run(folder, args, seconds)
        if returncode in (-14, -24, -9):  # SIGALRM, SIGXCPU, SIGKILL
            raise RunFailed("time", TIME_LIMIT, seconds=float(seconds))
        if returncode != 0:
            report = _report(err)
            kind = report.get("error", "runtime")
            if kind == "memory" or returncode in (-6, -11):
                raise RunFailed("memory", MEMORY_LIMIT, limit=memory_mb)
            detail = str(report.get("detail") or "")[:500]
            if detail:  # onnxruntime's own words, quoted as they are
                raise RunFailed("runtime", ONNXRUNTIME_FAILED, reason=detail)
            raise RunFailed("runtime", NOT_RUN)
        try:  # mapped read-only, not copied; the mapping outlives the folder's removal
            raw = np.load(base / "output.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            raise RunFailed("output", OUTPUT_UNREADABLE) from None
        report = _report(out)
    cpu = report.get("cpu")
    return Scored(
        scores=_scores(raw, len(features)),
        network=report.get("network", "none"),
        cpu_seconds=float(cpu) if isinstance(cpu, (int, float)) else None,
    )


_TABLES: dict[int, tuple[weakref.ref, str]] = {}  # id of a shared table: (the table, its file)


def table(rows: int, width: int) -> np.ndarray:
    """An empty float32 feature table to fill (rows x width), for `run`: in shared memory when
    it has room, a file the run's child then maps read-only as it is, so that handing the
    table to the runner writes nothing (`features.build` builds its tables in one). The file
    goes with the table's last reference. Elsewhere, or empty, a plain array, which `run`
    writes into the run's folder. Only the table itself is handed over so; a slice of it, or
    a copy, is written as any array."""
    where = _memory_folder(rows * width * 4) if rows * width else None
    if where is None:
        return np.empty((rows, width), dtype=np.float32)
    folder = tempfile.mkdtemp(prefix="campus-table-", dir=where)
    path = os.path.join(folder, "table.npy")
    shared = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, width))
    _TABLES[id(shared)] = (weakref.ref(shared), path)
    weakref.finalize(shared, _forget, id(shared), folder)
    return shared


def _forget(key: int, folder: str) -> None:
    _TABLES.pop(key, None)
    shutil.rmtree(folder, ignore_errors=True)


def _shared(features: np.ndarray) -> str | None:
    """The file of a shared `table`, when `features` is one."""
    found = _TABLES.get(id(features))
    return found[1] if found is not None and found[0]() is features else None


def _memory_folder(size: int) -> str | None:
    """Where the run's folder goes: shared memory (a tmpfs, `SHARED_MEMORY`) when it has room
    for the run's files and as much again, so that the table and the scores go from process
    to process through memory and never reach a disk; else the system's temporary folder
    (None), as a container's small /dev/shm would not hold a large table."""
    try:
        found = os.statvfs(SHARED_MEMORY)
    except OSError:
        return None
    return str(SHARED_MEMORY) if found.f_bavail * found.f_frsize >= 2 * size else None


def _fresh(folder: str, args: list[str], seconds: float) -> tuple[int, bytes, bytes]:
    """One new Python process for the run (the way before the long-lived runner)."""
    command = [sys.executable, "-I", "-m", "campus.evaluation.child", *args]
    try:
        done = subprocess.run(  # noqa: S603 - our own module, arguments we wrote
            command,
            cwd=folder,
            env=CHILD_ENV,
            capture_output=True,
            timeout=seconds + STARTUP_GRACE,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        raise RunFailed("time", TIME_LIMIT, seconds=float(seconds)) from None
    return done.returncode, done.stdout, done.stderr


class _Runner:
    """One long-lived `campus.evaluation.child --serve` process; one run at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "campus.evaluation.child", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            env=CHILD_ENV,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], STARTUP_GRACE)
        started = self.process.stdout.readline() if ready else b""
        if b'"ready"' not in started:
            self.stop()
            raise RunFailed("runtime", RUNNER_NOT_STARTED)

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, folder: str, args: list[str], seconds: float) -> tuple[int, bytes, bytes]:
        request = {"folder": folder, "args": args, "grace": STARTUP_GRACE}
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            # The runner kills the run past seconds + grace; it answers well before this.
            limit = seconds + 2 * STARTUP_GRACE
            ready, _, _ = select.select([self.process.stdout], [], [], limit)
            answer = json.loads(self.process.stdout.readline()) if ready else None
        except (OSError, ValueError):
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("returncode"), int):
            self.stop()
            raise RunFailed("runtime", RUNNER_STOPPED)
        base = Path(folder)
        out = _read(base / "child.out")
        err = _read(base / "child.err")
        return int(answer["returncode"]), out, err

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()


class _Runners:
    """The long-lived runners of this process: one a run at the same time (the web process
    runs at most two dummy runs at once, the worker one), started when first needed."""

    def __init__(self) -> None:
        self.idle: list[_Runner] = []
        self.lock = threading.Lock()
        atexit.register(self.stop)

    def run(self, folder: str, args: list[str], seconds: float) -> tuple[int, bytes, bytes]:
        with self.lock:
            runner = None
            while self.idle and runner is None:
                candidate = self.idle.pop()
                runner = candidate if candidate.alive() else None
        runner = runner or _Runner()
        try:
            result = runner.run(folder, args, seconds)
        except BaseException:
            runner.stop()
            raise
        with self.lock:
            self.idle.append(runner)
        return result

    def run_start(self) -> None:
        """Start an idle runner now (before the first run needs one)."""
        runner = _Runner()
        with self.lock:
            self.idle.append(runner)

    def stop(self) -> None:
        with self.lock:
            runners, self.idle = self.idle, []
        for runner in runners:
            runner.stop()


RUNNERS = _Runners()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()[:65536]
    except OSError:
        return b""


def _report(stream: bytes) -> dict:
    for line in reversed(stream.decode("utf-8", "replace").strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def _scores(raw: np.ndarray, rows: int) -> np.ndarray:
    """The model's scores, one per row, in its own float type (float32 as models give
    them), checked: one column, finite, in [0, 1]."""
    if raw.dtype not in (np.float32, np.float64):
        raw = raw.astype(np.float64)
    if raw.ndim == 2 and raw.shape[1] == 2:
        raw = np.ascontiguousarray(raw[:, 1])
    elif raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1 or raw.shape[0] != rows:
        raise RunFailed(
            "output",
            OUTPUT_SHAPE,
            shape=", ".join(str(d) for d in raw.shape),
        )
    # Two passes: NaN and infinities fail the range too, and are told apart only then.
    if rows and not (raw.min() >= 0.0 and raw.max() <= 1.0):
        if not np.all(np.isfinite(raw)):
            raise RunFailed("output", OUTPUT_NOT_FINITE)
        raise RunFailed("output", OUTPUT_NOT_PROBABILITIES)
    return raw
