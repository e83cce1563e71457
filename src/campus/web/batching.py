"""Write requests that arrive together are run together: one transaction for a batch.

A busy write route (an event registration) spends most of its database work per
transaction, not per row: the lock, the count, the round trips, the commit. With a `Batcher`,
the requests waiting at the same moment share one transaction, as a database's group commit
shares one log flush. Nothing waits for a batch to fill: the first request starts one on the
thread pool at once, so a quiet worker answers as fast as before; the requests that arrive
while it runs wait, and form the next batch when it ends.

Each request still gets its own outcome. The batch function returns, for each item in
order, a result or the refusal (an exception) that concerns that item alone. If the batch as
a whole fails (a constraint broken by a concurrent worker, a lost connection), its
transaction is rolled back and each item is run again alone, so that one bad item never
fails the others.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
R = TypeVar("R")
Outcomes = Sequence[R | Exception]


class Batcher(Generic[T, R]):
    """Runs `run` (synchronous: it writes) on the thread pool, one batch of at most `limit`
    items at a time, for the requests of one event loop."""

    def __init__(self, run: Callable[[list[T]], Outcomes], *, limit: int = 64):
        self._run = run
        self._limit = limit
        self._waiting: list[tuple[T, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None
        self.batches = 0  # batches run so far, and the items they held: tests read them
        self.items = 0

    async def submit(self, item: T) -> R:
        """`item`'s outcome: its result, or its refusal raised."""
        loop = asyncio.get_running_loop()
        if self._drainer is not None and self._drainer.get_loop() is not loop:
            if not self._drainer.get_loop().is_closed():
                raise RuntimeError("a Batcher serves one event loop at a time")
            # Its loop was closed in the middle of a batch: the requests it held are gone.
            self._drainer, self._waiting = None, []
        future: asyncio.Future = loop.create_future()
        self._waiting.append((item, future))
        if self._drainer is None:
            # A context of its own: a batch serves many requests, it carries none of theirs.
            self._drainer = loop.create_task(self._drain(), context=contextvars.Context())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._limit]
                del self._waiting[: self._limit]
                # A request gone (its client left) before its batch started is not run.
                batch = [(item, future) for item, future in batch if not future.cancelled()]
                if not batch:
                    continue
                outcomes = await run_in_threadpool(self._run_batch, [item for item, _ in batch])
                self.batches += 1
                self.items += len(batch)
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
                batch = []
        except Exception as error:  # a broken batch function: every waiting request fails
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.set_exception(error)
            self._waiting.clear()
        except BaseException:  # the loop is closing: nobody waits forever for an outcome
            for _, future in [*batch, *self._waiting]:
                future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._drainer = None

    def _run_batch(self, items: list[T]) -> Outcomes:
        try:
            outcomes = self._run(items)
        except Exception as error:
            if len(items) == 1:
                return [error]
            return [self._run_alone(item) for item in items]
        if len(outcomes) != len(items):
            raise RuntimeError(f"a batch of {len(items)} gave {len(outcomes)} outcomes")
        return outcomes

    def _run_alone(self, item: T) -> R | Exception:
        try:
            [outcome] = self._run([item])
        except Exception as error:
            return error
        return outcome
