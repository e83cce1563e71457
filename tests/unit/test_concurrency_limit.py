import asyncio

from campus.web.middleware import ConcurrencyLimit
from tests.helpers import run_coroutine


def test_no_more_than_the_limit_of_requests_run_at_once():
    running = 0
    peak = 0

    async def app(scope, receive, send):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    limited = ConcurrencyLimit(app, limit=3)

    async def burst():
        await asyncio.gather(*(limited({"type": "http"}, None, None) for _ in range(20)))

    run_coroutine(burst())  # another test (Playwright) may own this thread's event loop
    assert peak == 3


def test_a_request_that_leaves_admission_lets_the_next_one_in_and_is_counted_once():
    from campus.web.middleware import leave_admission

    admitted = 0
    working = 0
    peak = 0

    async def app(scope, receive, send):
        nonlocal admitted, working, peak
        admitted += 1
        working += 1
        peak = max(peak, working)
        await asyncio.sleep(0.005)
        working -= 1
        leave_admission()  # from here on it only waits (for a batch)
        leave_admission()  # a second call gives nothing more back
        await asyncio.sleep(0.05)

    limited = ConcurrencyLimit(app, limit=2)

    async def burst():
        requests = [asyncio.ensure_future(limited({"type": "http"}, None, None)) for _ in range(6)]
        await asyncio.sleep(0.04)
        seen = admitted  # all six are in: none waited for another's 50 ms wait
        await asyncio.gather(*requests)
        return seen

    assert run_coroutine(burst()) == 6
    assert peak == 2  # but never more than two working at once
    assert limited._semaphore is not None and limited._semaphore._value == 2
