"""Invariant 5 end to end: fetch refuses every inside address, and nothing reaches the inside.

A canary HTTP server on 127.0.0.1 counts connections: the loopback spellings below aim at its
port, so a guard that let one through would show up there. Every other request is counted where
httpx's transport sends it, so a refused URL is proven to cost no request at all.
"""

from __future__ import annotations

import httpx
import pytest

from portal import netguard
from probes import http
from tests.probes import FakeResolver, redirect, serve, text

BRIEF_CORPUS = [
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://[::ffff:169.254.169.254]/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://localhost/",
]
# The same spellings aimed at the canary's port, where a leak would land.
CANARY_CORPUS = [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://localhost:{port}/",
    "http://localhost.:{port}/",
    "http://loopback.example.com:{port}/",  # resolves to 127.0.0.1 (fake resolver)
    "http://private.example.com:{port}/",  # resolves to 10.0.0.7
    "http://mixed.example.com:{port}/",  # resolves to a public address AND 127.0.0.1
    "http://metadata.example.com/latest/meta-data/",  # resolves to 169.254.169.254
    "http://cgnat.example.com/",  # resolves to 100.64.1.1
    "http://v6.example.com/",  # resolves to fd00::1
]
FAKE_DNS = {
    "loopback.example.com": ["127.0.0.1"],
    "private.example.com": ["10.0.0.7"],
    "mixed.example.com": ["93.184.216.34", "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "cgnat.example.com": ["100.64.1.1"],
    "v6.example.com": ["fd00::1"],
    "rebind.example.com": ["10.0.0.1"],
}


@pytest.fixture
def sent(monkeypatch):
    """Count every request httpx is asked to send, whatever its destination."""
    calls: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def counting_send(self, request):
        calls.append(str(request.url))
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", counting_send)
    return calls


@pytest.fixture
def fake_dns(monkeypatch):
    # DNS does not exist in this sandbox: names are answered by replacing the guard's resolver.
    # "localhost" is left to the system resolver (/etc/hosts).
    real = netguard.lookup
    resolver = FakeResolver(FAKE_DNS)

    def lookup(host, port):
        return resolver(host, port) if host in FAKE_DNS else real(host, port)

    monkeypatch.setattr(netguard, "lookup", lookup)
    return resolver


def test_every_inside_address_is_refused_and_nothing_reaches_it(settings, sent, fake_dns):
    settings.NETGUARD_ALLOW_LOOPBACK = False
    with serve({"/": text("canary")}) as canary:
        urls = BRIEF_CORPUS + [url.format(port=canary.port) for url in CANARY_CORPUS]
        results = [http.fetch(url, timeout=2) for url in urls]
        connections = canary.connections
    not_refused = [(result.url, result.error) for result in results if not result.refused]
    assert not_refused == []
    assert all(result.error and result.status is None for result in results)
    assert connections == 0
    assert sent == []


def test_refusal_names_the_host_and_the_address(settings, sent, fake_dns):
    settings.NETGUARD_ALLOW_LOOPBACK = False
    result = http.fetch("http://private.example.com/")
    assert result.refused
    assert result.error == (
        "http://private.example.com/ was refused: private.example.com resolves to 10.0.0.7, "
        "a private address (RFC 1918); refusing to connect."
    )
    assert sent == []


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/",
        "http://rebind.example.com/",
        "http://[::ffff:127.0.0.1]:{canary}/",
        "http://2130706433:{canary}/",
    ],
)
def test_redirect_to_an_inside_address_is_refused_even_with_loopback_allowed(settings, sent, fake_dns, location):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    with serve({"/": text("canary")}) as canary:
        target = location.format(canary=canary.port)
        with serve({"/go": redirect(target)}) as redirector:
            result = http.fetch(f"{redirector.url}/go", timeout=2)
            reached = redirector.connections
        leaked = canary.connections
    assert result.refused
    assert result.status is None
    assert result.redirects == [(302, target)]
    assert result.final_url == target
    assert result.error.startswith(f"The redirect to {target} was refused: ")
    assert reached == 1
    assert leaked == 0
    assert sent == [f"{redirector.url}/go"]


def test_allowed_loopback_does_not_open_private_ranges(settings, sent, fake_dns):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    for url in ["http://10.0.0.1/", "http://private.example.com/", "http://169.254.169.254/", "http://[fd00::1]/"]:
        assert http.fetch(url, timeout=1).refused, url
    assert sent == []


def test_burst_of_a_refused_url_sends_nothing(settings, sent):
    settings.NETGUARD_ALLOW_LOOPBACK = False
    with serve({"/": text("canary")}) as canary:
        result = http.burst(f"http://127.0.0.1:{canary.port}/", count=5)
        leaked = canary.connections
    assert result.refused
    assert result.errors == 5
    assert result.samples_ms == []
    assert "loopback" in result.error
    assert leaked == 0
    assert sent == []


def test_run_time_guard_refuses_even_when_the_save_time_check_is_skipped(settings, sent, fake_dns, monkeypatch):
    # URLs saved before a rule existed, or DNS that changed since: the fetch-time check stands alone.
    settings.NETGUARD_ALLOW_LOOPBACK = False
    monkeypatch.setattr(netguard, "validate_public_url", lambda url: None)
    with serve({"/": text("canary")}) as canary:
        urls = BRIEF_CORPUS + [url.format(port=canary.port) for url in CANARY_CORPUS]
        results = [http.fetch(url, timeout=2) for url in urls]
        connections = canary.connections
    assert [(result.url, result.error) for result in results if not result.refused] == []
    assert connections == 0
    assert sent == []
