"""The write batcher: requests arriving together share a batch, each gets its own outcome."""

from __future__ import annotations

import asyncio
import threading

from campus.errors import Conflict
from campus.web.batching import Batcher
from tests.helpers import run_coroutine


class Recorder:
    """A batch function that records its batches; the first one waits until released, so
    that the requests sent meanwhile pile up behind it."""

    def __init__(self, refuse: set[int] | None = None, explode_on: int | None = None):
        self.batches: list[list[int]] = []
        self.release = threading.Event()
        self.refuse = refuse or set()
        self.explode_on = explode_on

    def __call__(self, items: list[int]) -> list[int | Exception]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.release.wait(timeout=10)
        if self.explode_on in items and len(items) > 1:
            raise RuntimeError("the batch's transaction failed")
        if self.explode_on in items:
            raise ValueError(f"item {self.explode_on} is bad")
        return [Conflict("refused", code="no") if i in self.refuse else i * 10 for i in items]


async def _send(batcher: Batcher, items: list[int], recorder: Recorder) -> list:
    """The first item starts a batch; the others arrive while it runs."""
    first = asyncio.ensure_future(batcher.submit(items[0]))
    while not recorder.batches:
        await asyncio.sleep(0.001)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in items[1:]]
    await asyncio.sleep(0.01)
    recorder.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_requests_arriving_while_a_batch_runs_are_taken_together_in_the_next():
    recorder = Recorder()
    batcher = Batcher(recorder)
    outcomes = run_coroutine(_send(batcher, [1, 2, 3, 4], recorder))
    assert outcomes == [10, 20, 30, 40]
    assert recorder.batches == [[1], [2, 3, 4]]
    assert (batcher.batches, batcher.items) == (2, 4)


def test_a_quiet_batcher_runs_a_request_at_once_and_alone():
    recorder = Recorder()
    recorder.release.set()
    batcher = Batcher(recorder)

    async def one_after_another() -> list[int]:
        return [await batcher.submit(7), await batcher.submit(8)]

    assert run_coroutine(one_after_another()) == [70, 80]
    assert recorder.batches == [[7], [8]]


def test_a_refusal_goes_to_its_own_request_only():
    recorder = Recorder(refuse={3})
    outcomes = run_coroutine(_send(Batcher(recorder), [1, 2, 3, 4], recorder))
    assert outcomes[:2] == [10, 20] and outcomes[3] == 40
    assert isinstance(outcomes[2], Conflict)


def test_a_failed_batch_is_run_again_one_item_at_a_time():
    recorder = Recorder(explode_on=3)
    outcomes = run_coroutine(_send(Batcher(recorder), [1, 2, 3, 4], recorder))
    assert outcomes[:2] == [10, 20] and outcomes[3] == 40
    assert isinstance(outcomes[2], ValueError)
    assert recorder.batches == [[1], [2, 3, 4], [2], [3], [4]]


def test_batches_hold_at_most_the_limit():
    recorder = Recorder()
    outcomes = run_coroutine(_send(Batcher(recorder, limit=2), [1, 2, 3, 4, 5], recorder))
    assert outcomes == [10, 20, 30, 40, 50]
    assert recorder.batches == [[1], [2, 3], [4, 5]]


def test_a_request_gone_before_its_batch_starts_is_not_run():
    recorder = Recorder()
    batcher = Batcher(recorder)

    async def scenario() -> list:
        first = asyncio.ensure_future(batcher.submit(1))
        while not recorder.batches:
            await asyncio.sleep(0.001)
        gone = asyncio.ensure_future(batcher.submit(2))
        kept = asyncio.ensure_future(batcher.submit(3))
        await asyncio.sleep(0.01)
        gone.cancel()
        recorder.release.set()
        return await asyncio.gather(first, kept)

    assert run_coroutine(scenario()) == [10, 30]
    assert recorder.batches == [[1], [3]]


def test_a_batch_function_giving_the_wrong_number_of_outcomes_fails_every_request():
    batcher = Batcher(lambda items: [1])

    async def scenario() -> list:
        return await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)

    outcomes = run_coroutine(scenario())
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError]
    assert run_coroutine(batcher.submit(3)) == 1  # the batcher still serves later requests
