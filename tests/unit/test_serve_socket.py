"""The worker's listening socket: connections accepted on it send without Nagle's delay."""

import asyncio
import socket

from campus.web.serve import _socket
from tests.helpers import run_coroutine


def test_connections_accepted_on_a_worker_socket_have_tcp_nodelay():
    """asyncio sets TCP_NODELAY only on sockets whose proto is TCP; a socket made with proto 0
    hands that 0 to every connection it accepts, and each keep-alive response then waited
    for the client's delayed ACK (40 ms)."""
    listener = _socket("127.0.0.1", 0)
    listener.listen()
    port = listener.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        accepted = asyncio.Event()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            accepted.set()

        server = await asyncio.start_server(on_connect, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.wait_for(accepted.wait(), 10)
            writer.close()

    run_coroutine(main())
    assert seen and seen[0] != 0
