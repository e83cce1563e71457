"""Run the web app in worker processes that each own a listening socket (SO_REUSEPORT).

With one shared socket (uvicorn's own `--workers`), whichever worker wakes first accepts
every pending connection: a burst of 100 clients could land on one worker while the other
idled, halving throughput and tripling latency from one run to the next. With a socket per
worker bound with SO_REUSEPORT, the kernel spreads connections evenly.

The supervisor restarts a worker that dies, and on SIGINT or SIGTERM stops them all (each
finishes its requests in flight: uvicorn's graceful shutdown).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import signal
import socket
import time
from pathlib import Path
from typing import Any

import uvicorn

log = logging.getLogger("campus.serve")
BACKLOG = 2048
RESTART_PAUSE = 1.0  # seconds before restarting a worker that died
STOP_GRACE = 30.0  # seconds a worker has to finish its requests on shutdown


class CannotListen(OSError):
    """The address is taken or not ours to bind."""


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and a connection accepted here inherits this proto. With 0, Nagle's algorithm held each
    # response's body until the client's delayed ACK of its head: 40 ms per keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this worker when the supervisor dies, even by SIGKILL:
    orphaned workers would keep the port."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the supervisor's own shutdown still applies
        pass


def freeze_start_up_objects() -> None:
    """Leave the objects made at start-up (modules, the app, its routes, models and templates:
    some 250,000) out of the cyclic garbage collector's full collections.

    Such a collection scans every tracked object; under load it came every few seconds and
    paused all of a worker's requests for about 130 ms each time (measured in process: two of
    134 ms in 3,000 registrations). With the start-up objects frozen it takes about a
    millisecond, and a request's CPU fell by a tenth. Garbage is collected first, so that
    only live objects are frozen; reference counting still frees frozen objects."""
    gc.collect()
    gc.freeze()


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    _die_with_parent()
    config = uvicorn.Config(app, **options)
    config.load()  # import the app before listening: the kernel routes to a listening socket
    freeze_start_up_objects()
    sock = _socket(host, port)
    sock.listen(BACKLOG)
    uvicorn.Server(config).run(sockets=[sock])


def _single(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    """One process, as `uvicorn.run` serves it, with the start-up objects frozen."""
    config = uvicorn.Config(app, host=host, port=port, **options)
    config.load()
    freeze_start_up_objects()
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:  # the app's start-up failed: uvicorn's exit code for it
        raise SystemExit(3)


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes of a running `campus serve --workers N` (its spawned children,
    not multiprocessing's resource tracker), read from Linux's /proc: for monitoring, the
    load benchmark's CPU figures and the tests."""
    found = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:  # it ended meanwhile
                continue
            if b"spawn_main" in command and b"resource_tracker" not in command:
                found.append(int(child))
    return found


def serve(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve `app` (an import path) on host:port with `workers` processes."""
    if workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    try:  # fail now, in the foreground, if the address is taken
        _socket(host, port).close()
    except OSError as error:
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror}") from None
    if workers <= 1:
        _single(app, host, port, options)
        return
    context = multiprocessing.get_context("spawn")
    processes: dict[int, Any] = {}
    stopping = False

    def start(slot: int) -> None:
        process = context.Process(
            target=_worker, args=(app, host, port, options), name=f"campus-web-{slot}"
        )
        process.start()
        processes[slot] = process

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for slot in range(workers):
        start(slot)
    log.info("serving on %s:%s with %d workers", host, port, workers)
    try:
        while not stopping:
            time.sleep(0.2)
            for slot, process in list(processes.items()):
                if not process.is_alive() and not stopping:
                    log.warning(
                        "worker %d stopped (exit code %s): restarting", slot, process.exitcode
                    )
                    time.sleep(RESTART_PAUSE)
                    start(slot)
    finally:
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for process in processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
