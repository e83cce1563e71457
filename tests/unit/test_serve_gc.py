"""A server process freezes its start-up objects before serving: full garbage collections then
skip them (they paused every request of a worker for about 130 ms)."""

from __future__ import annotations

import gc

import pytest
import uvicorn

from campus.web import serve
from tests.helpers import free_port


async def tiny_app(scope, receive, send):  # the app the tests serve
    return None


@pytest.fixture
def served(monkeypatch):
    """Runs of uvicorn's server, recorded instead of served: the number of frozen objects
    when each started."""
    frozen: list[int] = []

    def run(self, sockets=None):
        frozen.append(gc.get_freeze_count())
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(serve, "_die_with_parent", lambda: None)
    gc.unfreeze()
    yield frozen
    gc.unfreeze()


def test_one_process_freezes_its_start_up_objects_before_serving(served):
    port = free_port()
    serve.serve("tests.unit.test_serve_gc:tiny_app", host="127.0.0.1", port=port, workers=1)
    assert len(served) == 1 and served[0] > 10_000


def test_a_worker_process_freezes_its_start_up_objects_before_serving(served):
    port = free_port()
    serve._worker("tests.unit.test_serve_gc:tiny_app", "127.0.0.1", port, {})
    assert len(served) == 1 and served[0] > 10_000


def test_one_process_whose_app_did_not_start_exits_as_uvicorn_does(monkeypatch):
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    with pytest.raises(SystemExit) as stopped:
        serve.serve(
            "tests.unit.test_serve_gc:tiny_app", host="127.0.0.1", port=free_port(), workers=1
        )
    assert stopped.value.code == 3
    gc.unfreeze()
