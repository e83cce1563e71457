"""Run a checked ONNX model on a feature table in a separate, limited process.

What holds (Linux): the model runs in a child process started with an isolated Python
(`-I`: no user site, no PYTHONPATH), an empty environment and a private temporary folder;
the child caps its address space (the benchmark's memory), CPU time and written file size,
and is killed by an alarm at the benchmark's time limit (the parent also kills it after a
grace period). It leaves the network by unsharing into a new user and network namespace
when the kernel allows it (`network: namespace` in the result); where it does not, the run
is recorded with `network: none` - the standard-operator allow-list is then what keeps a
model from reaching anything, since no standard ONNX operator does I/O. What does not hold:
the child runs under the same user as the worker and could read what that user reads if
onnxruntime itself had a memory-safety bug that a crafted model exploited; run the worker
under a dedicated account (docs/evaluation.md).

The scores come back to the parent, which reduces them to binned counts (metrics.py) and
drops them; they are never stored nor shown.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STARTUP_GRACE = 30.0  # seconds the runtime may take to start, before the model's own limit


class RunFailed(Exception):
    """The model could not be scored: `kind` is time, memory, runtime or output."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Scored:
    scores: np.ndarray
    network: str


def run(
    model: bytes, features: np.ndarray, *, output_name: str, memory_mb: int, seconds: float
) -> Scored:
    """The model's scores (one per row, in [0, 1]); RunFailed says which limit or rule broke."""
    with tempfile.TemporaryDirectory(prefix="campus-eval-") as folder:
        base = Path(folder)
        (base / "model.onnx").write_bytes(model)
        np.save(base / "input.npy", np.ascontiguousarray(features, dtype=np.float32))
        command = [
            sys.executable,
            "-I",
            "-m",
            "campus.evaluation.child",
            str(base / "model.onnx"),
            str(base / "input.npy"),
            str(base / "output.npy"),
            output_name,
            str(memory_mb),
            repr(float(seconds)),
        ]
        try:
            done = subprocess.run(  # noqa: S603 - our own module, arguments we wrote
                command,
                cwd=folder,
                env={"OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"},
                capture_output=True,
                timeout=seconds + STARTUP_GRACE,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise RunFailed("time", f"the model ran past its time limit of {seconds:g} s") from None
        if done.returncode in (-14, -24, -9):  # SIGALRM, SIGXCPU, SIGKILL
            raise RunFailed("time", f"the model ran past its time limit of {seconds:g} s")
        if done.returncode != 0:
            report = _report(done.stderr)
            kind = report.get("error", "runtime")
            if kind == "memory" or done.returncode in (-6, -11):
                raise RunFailed(
                    "memory", f"the model needed more than its memory limit of {memory_mb} MB"
                )
            raise RunFailed("runtime", report.get("message") or "the model could not be run")
        try:
            raw = np.load(base / "output.npy", allow_pickle=False)
        except (OSError, ValueError):
            raise RunFailed("output", "the model's output could not be read") from None
        network = _report(done.stdout).get("network", "none")
    return Scored(scores=_scores(raw, len(features)), network=network)


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
    if raw.ndim == 2 and raw.shape[1] == 2:
        raw = raw[:, 1]
    elif raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1 or raw.shape[0] != rows:
        raise RunFailed(
            "output",
            f"the model's output has shape {list(raw.shape)}; expected [N], [N, 1] or [N, 2] "
            f"with N the number of rows",
        )
    if not np.all(np.isfinite(raw)):
        raise RunFailed("output", "the model's output holds NaN or infinite values")
    if raw.min(initial=0.0) < 0.0 or raw.max(initial=0.0) > 1.0:
        raise RunFailed("output", "the model's scores must be probabilities in [0, 1]")
    return raw.astype(np.float64)
