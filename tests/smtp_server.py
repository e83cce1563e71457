"""A minimal SMTP server for tests, run as its own process (RFC 5321: greeting, EHLO, HELO,
NOOP, QUIT). It offers no STARTTLS, so a client that requires it must say so.

Usage: python tests/smtp_server.py PORT   (prints "ready" once it listens)
"""

from __future__ import annotations

import socket
import sys
import threading


def serve(connection: socket.socket) -> None:
    with connection, connection.makefile("rwb") as stream:
        stream.write(b"220 test.invalid ESMTP ready\r\n")
        stream.flush()
        for raw in stream:
            verb = raw.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                stream.write(b"250-test.invalid\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n")
            elif verb in ("HELO", "NOOP", "RSET"):
                stream.write(b"250 ok\r\n")
            elif verb == "QUIT":
                stream.write(b"221 bye\r\n")
                stream.flush()
                return
            else:
                stream.write(b"502 command not implemented\r\n")
            stream.flush()


def main() -> None:
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
