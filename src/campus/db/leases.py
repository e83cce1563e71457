"""Who holds a lease: the name a worker writes on the rows it claims (jobs, scheduled pulls)."""

from __future__ import annotations

import os
import socket
import threading


def holder_name() -> str:
    """This process and thread, as `host:pid:thread` (unique among live workers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
