"""Where a pull may connect: never to this machine or the hospital's internal network unless
an operator allowed the host.

A steward types the server's base URL; the manifest and the token endpoint name more URLs,
and servers redirect. Any of them could aim Campus at loopback, a private network, a cloud's
metadata address (link-local) and so read or poke what only Campus can reach (SSRF). So every
connection of a pull goes through `GuardedBackend`: it resolves the host once, refuses when any
address is not a global one (loopback, private, link-local, shared, multicast, reserved,
unspecified, and the IPv4 forms inside IPv6), and connects to the very address it checked, so
a name that resolves to a public address when checked and to a private one when used (DNS
rebinding) is checked where it is used. Hosts named in `CAMPUS_PULL_ALLOWED_HOSTS`
(comma-separated names or addresses, e.g. a hospital's server on its own network, or
`127.0.0.1` for the tests) are connected to as they are.

Proxies from the environment are not used: a proxy resolves names itself, out of reach of
the check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

from campus.errors import BadRequest
from campus.warehouse import messages
from campus.warehouse.bulk.config import pull_settings

ALLOWED_ENV = "CAMPUS_PULL_ALLOWED_HOSTS"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class HostNotAllowed(BadRequest):
    """A pull aimed at an internal address (400, where: from)."""


def allowed_hosts() -> frozenset[str]:
    """The hosts an operator allowed (`CAMPUS_PULL_ALLOWED_HOSTS`), lowercased."""
    text = pull_settings().allowed_hosts
    return frozenset(h.strip().strip("[]").lower() for h in text.split(",") if h.strip())


def internal(address: Address) -> bool:
    """Whether an address is not a public one on the Internet."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return internal(inner)
        if address.teredo is not None:
            return True
    return not address.is_global or address.is_multicast


def _refuse(host: str, address: str) -> HostNotAllowed:
    return HostNotAllowed(
        messages.HOST_NOT_ALLOWED.format(host=host, address=address, setting=ALLOWED_ENV),
        code="host_not_allowed",
        where="from",
    )


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses of `host` to connect to, all checked; raises HostNotAllowed."""
    host = host.strip("[]")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if internal(literal):
            raise _refuse(host, str(literal))
        return [str(literal)]
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for each in addresses:
        if internal(ipaddress.ip_address(each.split("%")[0])):
            raise _refuse(host, each)
    return addresses


def check_url(url: str) -> None:
    """Refuse a base URL whose host is internal (and not allowed), as early as a steward
    stores it; a name that does not resolve now is left to the connection's own check."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or host in allowed_hosts():
        return
    try:
        checked_addresses(host, parts.port or 443)
    except OSError:
        return


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to checked addresses (see the module)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.NetworkStream:
        if host.strip("[]").lower() in allowed_hosts():
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = checked_addresses(host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"{host}: {type(error).__name__}") from None
        last: Exception | None = None
        for address in addresses:  # the checked addresses themselves: no second lookup
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    def connect_unix_socket(self, *args, **kwargs):  # a pull never uses one
        raise httpcore.ConnectError("unix sockets are not used by pulls")


def client(**options) -> httpx.Client:
    """An HTTP client whose connections all go through `GuardedBackend`."""
    transport = httpx.HTTPTransport()
    # httpx takes no backend option: its pool's is replaced (same pool, same TLS settings).
    transport._pool._network_backend = GuardedBackend()
    return httpx.Client(transport=transport, trust_env=False, **options)
