"""Which addresses a pull may not connect to unless an operator allowed the host (SSRF)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest

from campus.warehouse.bulk import guard


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # a cloud's metadata service
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",  # IPv4 inside IPv6
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_internal_addresses_are_refused(address):
    assert guard.internal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::5db8:d70e"])
def test_public_addresses_are_not(address):
    assert not guard.internal(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/fhir",
        "http://2130706433/fhir",  # 127.0.0.1 written as one number
        "http://0x7f.1/fhir",
        "http://[::ffff:127.0.0.1]/fhir",
        "http://localhost:8080/fhir",
    ],
)
def test_base_urls_on_internal_hosts_are_refused_unless_allowed(url, monkeypatch):
    monkeypatch.delenv("CAMPUS_PULL_ALLOWED_HOSTS", raising=False)
    with pytest.raises(guard.HostNotAllowed) as refused:
        guard.check_url(url)
    assert refused.value.where == "from" and "CAMPUS_PULL_ALLOWED_HOSTS" in refused.value.message
    host = urlsplit(url).hostname
    monkeypatch.setenv("CAMPUS_PULL_ALLOWED_HOSTS", f"other.example, {host}")
    guard.check_url(url)


def test_a_connection_is_checked_where_it_is_made(monkeypatch):
    """A name that resolved to a public address when the URL was stored and to an internal
    one now (DNS rebinding) is refused by the connection itself, before any byte is sent."""
    monkeypatch.delenv("CAMPUS_PULL_ALLOWED_HOSTS", raising=False)
    monkeypatch.setattr(
        guard.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("127.0.0.1", 80))]
    )
    with guard.client() as http, pytest.raises(guard.HostNotAllowed):
        http.get("http://fhir.hospital.example/metadata")
