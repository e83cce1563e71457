"""The long-lived runner forks one process a run: a model that breaks a limit ends its own
process, never the runner, and the next model runs in the same runner as a fresh process
would (same scores, same limits); the per-run child (`fresh`) gives the same answers."""

from __future__ import annotations

import numpy as np
import pytest

from campus.evaluation import sandbox
from tests.integration.evaluation import onnx_models

WEIGHTS, BIAS = [0.03, 0.5, 1.1], -3.0


def _features(rows: int = 50) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.random((rows, 3)).astype(np.float32)


def _run(model: bytes, *, fresh: bool = False, seconds: float = 5, memory_mb: int = 1024):
    return sandbox.run(
        model,
        _features(),
        output_name="score",
        memory_mb=memory_mb,
        seconds=seconds,
        fresh=fresh,
    )


def _runner_pids() -> set[int]:
    return {runner.process.pid for runner in sandbox.RUNNERS.idle}


@pytest.mark.slow  # a model runs to its time limit
def test_a_model_past_a_limit_ends_its_run_and_the_runner_serves_the_next_one():
    good = onnx_models.logistic(WEIGHTS, BIAS)
    first = _run(good)
    pids = _runner_pids()
    assert pids and all(runner.alive() for runner in sandbox.RUNNERS.idle)
    with pytest.raises(sandbox.RunFailed) as too_long:
        _run(onnx_models.endless_loop(), seconds=1)
    assert too_long.value.kind == "time"
    with pytest.raises(sandbox.RunFailed) as too_big:
        _run(onnx_models.memory_bomb(), memory_mb=700)
    assert too_big.value.kind == "memory"
    with pytest.raises(sandbox.RunFailed) as nan:
        _run(onnx_models.nan_above(0, -1.0))
    assert nan.value.kind == "output"
    again = _run(good)
    assert _runner_pids() == pids  # the same runner, still alive
    np.testing.assert_array_equal(first.scores, again.scores)
    expected = [onnx_models.reference_score(row, WEIGHTS, BIAS) for row in _features().tolist()]
    np.testing.assert_allclose(again.scores, expected, rtol=1e-5)


@pytest.mark.slow  # new Python processes
def test_the_per_run_child_and_the_runner_give_the_same_answers():
    good = onnx_models.logistic(WEIGHTS, BIAS)
    fresh, forked = _run(good, fresh=True), _run(good)
    np.testing.assert_array_equal(fresh.scores, forked.scores)
    assert fresh.network == forked.network
    with pytest.raises(sandbox.RunFailed) as too_long:
        _run(onnx_models.endless_loop(), seconds=1, fresh=True)
    assert too_long.value.kind == "time"


def test_a_runner_that_died_is_replaced_at_the_next_run():
    good = onnx_models.logistic(WEIGHTS, BIAS)
    _run(good)
    for runner in sandbox.RUNNERS.idle:
        runner.process.kill()
        runner.process.wait()
    dead = _runner_pids()
    _run(good)
    assert _runner_pids().isdisjoint(dead)


def test_a_runner_killed_during_a_run_is_a_failed_run_not_a_crash():
    import threading

    _run(onnx_models.logistic(WEIGHTS, BIAS))
    (runner,) = sandbox.RUNNERS.idle[-1:]
    killer = threading.Timer(0.5, runner.process.kill)
    killer.start()
    with pytest.raises(sandbox.RunFailed) as stopped:
        _run(onnx_models.endless_loop(), seconds=5)
    killer.join()
    assert stopped.value.kind == "runtime" and "runner stopped" in stopped.value.message
    assert runner not in sandbox.RUNNERS.idle
