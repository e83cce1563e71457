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
