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


def test_the_scores_are_checked_in_the_models_own_type_nan_and_infinities_told_from_range():
    column = np.array([[0.1], [0.9], [0.5]], dtype=np.float32)
    assert sandbox._scores(column, 3).dtype == np.float32
    two = np.array([[0.9, 0.1], [0.2, 0.8]])
    np.testing.assert_array_equal(sandbox._scores(two, 2), [0.1, 0.8])
    assert sandbox._scores(np.array([0.5, 1.0], dtype=np.float16), 2).dtype == np.float64
    for bad, kind in [
        ([0.2, np.nan, 0.4], sandbox.OUTPUT_NOT_FINITE),
        ([0.2, np.inf], sandbox.OUTPUT_NOT_FINITE),
        ([-np.inf, 0.3], sandbox.OUTPUT_NOT_FINITE),
        ([0.2, 1.5], sandbox.OUTPUT_NOT_PROBABILITIES),
        ([-0.1, 0.5], sandbox.OUTPUT_NOT_PROBABILITIES),
    ]:
        for dtype in (np.float32, np.float64):
            with pytest.raises(sandbox.RunFailed) as refused:
                sandbox._scores(np.array(bad, dtype=dtype), len(bad))
            assert refused.value.text.template == kind, (bad, dtype)
    with pytest.raises(sandbox.RunFailed) as shape:
        sandbox._scores(np.zeros((3, 3), dtype=np.float32), 3)
    assert shape.value.text.template == sandbox.OUTPUT_SHAPE


def test_the_run_goes_through_shared_memory_when_it_has_room_and_the_temporary_folder_if_not(
    monkeypatch,
):
    import os

    if not os.path.isdir(sandbox.SHARED_MEMORY):
        pytest.skip("no shared memory folder on this system")
    assert sandbox._memory_folder(1 << 20) == sandbox.SHARED_MEMORY
    assert sandbox._memory_folder(1 << 62) is None  # more than any machine holds
    good = onnx_models.logistic(WEIGHTS, BIAS)
    scored = _run(good)
    in_memory = scored.scores
    assert scored.cpu_seconds is not None and scored.cpu_seconds >= 0  # its process's own
    monkeypatch.setattr(sandbox, "SHARED_MEMORY", "/nonexistent-campus-shm")
    assert sandbox._memory_folder(1) is None
    np.testing.assert_array_equal(_run(good).scores, in_memory)


def test_a_runner_that_dies_while_idle_leaves_nothing_holding_its_pipes_nor_a_waiting_child():
    import os
    import select

    _run(onnx_models.logistic(WEIGHTS, BIAS))
    (runner,) = sandbox.RUNNERS.idle[-1:]
    pid = runner.process.pid
    spare = _child_of(pid)  # the next run's process, forked once the last run is answered
    sandbox.RUNNERS.idle.remove(runner)
    runner.process.kill()
    runner.process.wait()
    # The worker sees the end of the runner's stdout at once, not after a run's time limit.
    readable, _, _ = select.select([runner.process.stdout], [], [], 30)
    assert readable and runner.process.stdout.read() == b""
    for _ in range(300):  # the waiting child ends with its runner (polled, not timed)
        if not os.path.exists(f"/proc/{spare}") or _zombie(spare):
            break
        select.select([], [], [], 0.1)
    assert not os.path.exists(f"/proc/{spare}") or _zombie(spare)


def _child_of(pid: int) -> int:
    import select

    for _ in range(300):  # polled, not timed
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            children = [int(child) for child in found.read().split()]
        if children:
            (child,) = children
            return child
        select.select([], [], [], 0.1)
    raise AssertionError("the runner forked no process for its next run")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_the_runners_own_warm_up_model_passes_the_submissions_check():
    from campus.evaluation import child, modelcheck

    checked = modelcheck.check(child.WARM_MODEL, features=1, max_bytes=1000, max_nodes=1)
    assert checked.output_name == "y"


def test_a_shared_table_is_handed_to_the_child_as_it_is_and_a_slice_of_it_is_written(monkeypatch):
    import gc
    import os

    if sandbox._memory_folder(1 << 20) is None:
        pytest.skip("no shared memory with room on this system")
    table = sandbox.table(50, 3)
    table[...] = _features()
    path = sandbox._shared(table)
    assert path and os.path.exists(path)
    written = []
    save = np.save
    monkeypatch.setattr(sandbox.np, "save", lambda file, a, **k: written.append(a) or save(file, a))
    good = onnx_models.logistic(WEIGHTS, BIAS)
    shared = _run(good).scores  # `_run` scores `_features()`, a plain array: written
    assert len(written) == 1
    scored = sandbox.run(good, table, output_name="score", memory_mb=1024, seconds=5).scores
    assert len(written) == 1  # the table itself: mapped by the child, not written
    np.testing.assert_array_equal(scored, shared)
    part = sandbox.run(good, table[:10], output_name="score", memory_mb=1024, seconds=5).scores
    assert len(written) == 2  # a slice is not the table's file: written, and scored as such
    np.testing.assert_array_equal(part, shared[:10])
    written.clear()  # the slice written above still refers to the table
    del table
    gc.collect()
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))


def test_without_room_in_shared_memory_a_table_is_a_plain_array(monkeypatch):
    monkeypatch.setattr(sandbox, "SHARED_MEMORY", "/nonexistent-campus-shm")
    table = sandbox.table(50, 3)
    assert sandbox._shared(table) is None and type(table) is np.ndarray
    assert type(sandbox.table(0, 3)) is np.ndarray
