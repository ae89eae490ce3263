"""burst gives latency percentiles within bounds; dns_ttl reads TTLs from a local fake DNS server."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from portal import netguard
from probes import http
from tests.probes import Handler, fake_dns_server, resolver_on, respond, serve, wait_then


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = True


def test_burst_gives_percentiles_and_stays_within_its_concurrency():
    lock = threading.Lock()
    in_flight = {"now": 0, "most": 0}

    def twenty_ms(handler: Handler) -> None:
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
        handler.server.stop.wait(0.02)
        with lock:
            in_flight["now"] -= 1
        respond(handler, 200, b"ok")

    with serve({"/": twenty_ms}) as server:
        result = http.burst(f"{server.url}/", count=10, concurrency=5, timeout=5)
        requests = len(server.seen)
    assert requests == 10
    assert result.errors == 0
    assert result.error is None
    assert result.statuses == Counter({200: 10})
    assert len(result.samples_ms) == 10
    assert result.samples_ms == sorted(result.samples_ms)
    assert 20 <= result.p50_ms <= result.p95_ms <= result.samples_ms[-1]
    assert in_flight["most"] <= 5


def test_burst_counts_timeouts_as_errors_and_is_bounded():
    with serve({"/": wait_then(5)}) as server:
        started = time.monotonic()
        result = http.burst(f"{server.url}/", count=4, concurrency=2, timeout=0.3)
        took = time.monotonic() - started
    assert result.errors == 4
    assert result.samples_ms == []
    assert result.p50_ms is None
    assert result.p95_ms is None
    assert result.error.startswith("Timed out after 0.3 s")
    assert took < 2


def test_burst_keeps_error_statuses_apart_from_errors():
    with serve({"/": lambda handler: respond(handler, 503, b"busy")}) as server:
        result = http.burst(f"{server.url}/", count=3, concurrency=3)
    assert result.errors == 0
    assert result.statuses == Counter({503: 3})


def test_burst_is_bounded_in_count():
    with pytest.raises(ValueError, match="count"):
        http.burst("http://127.0.0.1/", count=10_000)


def test_percentiles_interpolate_between_samples():
    assert http._percentile([10.0, 20.0, 30.0, 40.0], 0.5) == 25.0
    assert http._percentile([10.0, 20.0, 30.0, 40.0], 0.95) == pytest.approx(38.5)
    assert http._percentile([7.0], 0.95) == 7.0
    assert http._percentile([], 0.5) is None


# --- dns_ttl: dnspython asks a fake DNS server on 127.0.0.1 (there is no DNS in the sandbox) ---

RECORDS = {
    ("www.example.test.", "A"): [("www.example.test.", 300, "A", "93.184.216.34")],
    ("www.example.test.", "AAAA"): [("www.example.test.", 60, "AAAA", "2606:2800:220:1:248:1893:25c8:1946")],
    ("alias.example.test.", "A"): [
        ("alias.example.test.", 30, "CNAME", "www.example.test."),
        ("www.example.test.", 300, "A", "93.184.216.34"),
    ],
    ("v4only.example.test.", "A"): [("v4only.example.test.", 120, "A", "93.184.216.34")],
}


@pytest.fixture
def dns_port(monkeypatch):
    with fake_dns_server(RECORDS, silent=frozenset({"silent.example.test."})) as port:
        monkeypatch.setattr(http, "dns_resolver", lambda: resolver_on(port))
        yield port


@pytest.mark.usefixtures("dns_port")
def test_dns_ttl_is_the_smaller_of_a_and_aaaa():
    assert http.dns_ttl("www.example.test") == 60


@pytest.mark.usefixtures("dns_port")
def test_dns_ttl_counts_the_cname_chain():
    assert http.dns_ttl("alias.example.test") == 30


@pytest.mark.usefixtures("dns_port")
def test_dns_ttl_of_a_name_with_only_an_a_record():
    assert http.dns_ttl("v4only.example.test") == 120


def test_dns_ttl_of_an_address_is_none():
    assert http.dns_ttl("93.184.216.34") is None
    assert http.dns_ttl("[2606:2800:220:1:248:1893:25c8:1946]") is None


@pytest.mark.usefixtures("dns_port")
def test_dns_ttl_of_an_unknown_name_says_why():
    with pytest.raises(netguard.LookupFailed, match="the name does not exist"):
        http.dns_ttl("missing.example.test")


@pytest.mark.usefixtures("dns_port")
def test_dns_ttl_gives_up_after_its_lifetime():
    started = time.monotonic()
    with pytest.raises(netguard.LookupFailed, match=r"timed out after 0\.4 s"):
        http.dns_ttl("silent.example.test", lifetime=0.4)
    assert time.monotonic() - started < 1.5
