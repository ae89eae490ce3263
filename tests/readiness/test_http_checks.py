"""HTTP readiness checks against real local servers: one that passes and one that does not, per check.

Every server listens on 127.0.0.1 (loopback is allowed for these tests, except where the SSRF guard
is the subject); names are answered by a fake resolver, TTLs by a fake DNS server.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from types import SimpleNamespace

import pytest

from portal import netguard
from probes import http as prober
from readiness import services
from readiness.checks import http as http_checks
from readiness.models import CheckResult, Outcome, ReadinessRun, Severity
from readiness.registry import REGISTRY, checks
from tests.probes import (
    FakeResolver,
    H2Server,
    Handler,
    Pki,
    fake_dns_server,
    free_port,
    redirect,
    resolver_on,
    respond,
    serve,
    text,
)

HTTP_CHECK_IDS = [
    "http.status",
    "http.latency",
    "http.tls",
    "http.http2",
    "http.compression",
    "http.page_weight",
    "http.cacheable",
    "http.cdn",
    "http.dns_ttl",
]
PAGE_CHECK_IDS = [check_id for check_id in HTTP_CHECK_IDS if check_id not in {"http.latency", "http.dns_ttl"}]

PAGE = (
    b"<!doctype html><html><head><title>Lumi\xc3\xa8re</title>"
    b'<link rel="stylesheet" href="/site.css"><script src="/app.js"></script></head>'
    b'<body><img src="/hero.jpg">' + b"<p>Bienvenue sur Lumi\xc3\xa8re</p>" * 200 + b"</body></html>"
)
CDN_HEADERS = [
    ("Cache-Control", "public, s-maxage=60"),
    ("X-Cache", "Hit from cloudfront"),
    ("Via", "1.1 0123abcd.cloudfront.net (CloudFront)"),
    ("X-Amz-Cf-Pop", "CDG50-C1"),
    ("Age", "12"),
]


def ready_page(handler: Handler) -> None:
    """A landing page as it should be for the broadcast: compressed, light, cacheable, from CloudFront."""
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"), *CDN_HEADERS]
    respond(handler, 200, gzip.compress(PAGE), headers)


def run_check(check_id: str, url: str):
    """Call the registered check directly, with the small context it would get (only the landing URLs)."""
    finding = REGISTRY[check_id].run(SimpleNamespace(landing_urls=[url]), url)
    json.dumps(finding.evidence)  # stored in a JSON field: plain values only
    assert finding.outcome == Outcome.PASS or finding.remediation or finding.outcome == Outcome.ERROR
    return finding


@pytest.fixture(autouse=True)
def _local_network(settings, monkeypatch):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    monkeypatch.setattr(netguard, "lookup", FakeResolver({"www.example.test": ["127.0.0.1"]}))
    http_checks.PAGES.clear()
    yield
    http_checks.PAGES.clear()


@pytest.fixture
def pki(tmp_path, monkeypatch) -> Pki:
    authority = Pki(tmp_path)
    monkeypatch.setattr(http_checks, "TRUST_STORE", str(authority.ca_path))
    return authority


# --- Registration ---


def test_every_http_check_is_registered_on_the_probes_queue_within_the_watchdog():
    registered = {check.id: check for check in checks() if check.category == "http"}
    assert sorted(registered) == sorted(HTTP_CHECK_IDS)
    severities = {check_id: check.severity for check_id, check in registered.items()}
    assert severities == {
        "http.status": Severity.CRITICAL,
        "http.latency": Severity.MAJOR,
        "http.tls": Severity.CRITICAL,
        "http.http2": Severity.MINOR,
        "http.compression": Severity.MINOR,
        "http.page_weight": Severity.MINOR,
        "http.cacheable": Severity.MAJOR,
        "http.cdn": Severity.MAJOR,
        "http.dns_ttl": Severity.MINOR,
    }
    timeouts = {check_id: check.timeout for check_id, check in registered.items()}
    assert timeouts == {**dict.fromkeys(HTTP_CHECK_IDS, 20), "http.latency": 40, "http.dns_ttl": 8}
    assert {check.queue for check in registered.values()} == {"probes"}
    context = SimpleNamespace(landing_urls=["https://a.example/", "https://b.example/offre"])
    assert all(check.targets(context) == context.landing_urls for check in registered.values())
    assert all(str(check.title) for check in registered.values())
    # The one fetch of a page (and a burst's two waves) ends before the shortest watchdog cuts it.
    assert http_checks.FETCH_TIMEOUT + 1 < 20
    assert http_checks.FETCH_TIMEOUT + 2 * (http_checks.BURST_TIMEOUT + 0.25) + 1 + 5 < 40


# --- http.status ---


def test_status_passes_for_a_page_that_answers():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.status", f"{server.url}/")
    assert finding.outcome == Outcome.PASS
    assert finding.message == "The page answers 200."
    assert finding.evidence["status"] == 200
    assert finding.evidence["redirects"] == []
    assert finding.evidence["elapsed_ms"] >= 0


def test_status_warns_when_the_page_is_more_than_two_redirects_away():
    routes = {"/": redirect("/a", 301), "/a": redirect("/b"), "/b": redirect("/c"), "/c": ready_page}
    with serve(routes) as server:
        finding = run_check("http.status", f"{server.url}/")
    assert finding.outcome == Outcome.WARN
    assert "after 3 redirects" in finding.message
    assert f"{server.url}/c" in finding.remediation
    assert [hop["status"] for hop in finding.evidence["redirects"]] == [301, 302, 302]
    assert finding.evidence["final_url"] == f"{server.url}/c"


@pytest.mark.parametrize("code", [404, 503])
def test_status_fails_for_an_error_answer(code):
    with serve({"/": text("oops", status=code)}) as server:
        finding = run_check("http.status", f"{server.url}/")
    assert finding.outcome == Outcome.FAIL
    assert f"answers {code}" in finding.message
    assert finding.remediation
    assert finding.evidence["status"] == code


def test_an_unreachable_page_fails_the_status_check_and_the_others_could_not_check():
    url = f"http://127.0.0.1:{free_port()}/"
    findings = {check_id: run_check(check_id, url) for check_id in HTTP_CHECK_IDS if check_id != "http.dns_ttl"}
    status = findings.pop("http.status")
    assert status.outcome == Outcome.FAIL
    assert "Connection refused" in status.message
    assert "security groups" in status.remediation
    assert {check_id: finding.outcome for check_id, finding in findings.items()} == dict.fromkeys(
        findings, Outcome.ERROR
    )
    assert all("Connection refused" in finding.message for finding in findings.values())


# --- http.latency ---


def test_latency_passes_for_a_fast_page():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.latency", f"{server.url}/")
        requests = len(server.seen)
    assert finding.outcome == Outcome.PASS
    assert requests == 1 + 10  # the shared fetch, then the burst (never kept)
    evidence = finding.evidence
    assert evidence["samples"] == 10
    assert evidence["errors"] == 0
    assert evidence["statuses"] == {"200": 10}
    assert 0 <= evidence["p50_ms"] <= evidence["p95_ms"] < 800


def test_latency_fails_for_a_slow_page(monkeypatch):
    # The limits are lowered so a 150 ms page is "too slow" without a 2-second wait per request.
    monkeypatch.setattr(http_checks, "LATENCY_PASS_MS", 20)
    monkeypatch.setattr(http_checks, "LATENCY_WARN_MS", 100)

    def slow(handler: Handler) -> None:
        handler.server.stop.wait(0.15)
        ready_page(handler)

    with serve({"/": slow}) as server:
        finding = run_check("http.latency", f"{server.url}/")
    assert finding.outcome == Outcome.FAIL
    assert finding.evidence["p95_ms"] >= 150
    assert "above 100 ms" in finding.message
    assert "CloudFront" in finding.remediation


def test_latency_warns_when_some_requests_fail_under_concurrency():
    lock = threading.Lock()
    served = {"count": 0}

    def sometimes_busy(handler: Handler) -> None:
        with lock:
            served["count"] += 1
            number = served["count"]
        if number % 5 == 0:
            respond(handler, 503, b"busy")
        else:
            ready_page(handler)

    with serve({"/": sometimes_busy}) as server:
        finding = run_check("http.latency", f"{server.url}/")
    assert finding.outcome == Outcome.WARN
    assert finding.evidence["failed_answers"] == 2
    assert finding.evidence["statuses"] == {"200": 8, "503": 2}
    assert "2 of 10 requests failed" in finding.message


# --- http.tls ---


def test_tls_passes_for_a_trusted_certificate_far_from_expiry(pki):
    with serve({"/": ready_page}, tls=pki.server_context("www.example.test", days=60)) as server:
        finding = run_check("http.tls", f"https://www.example.test:{server.port}/")
    assert finding.outcome == Outcome.PASS
    assert finding.evidence["verified"] is True
    assert finding.evidence["days_left"] in (59, 60)
    assert finding.evidence["issuer"] == "CN=Primetime Test CA"
    assert finding.evidence["names"] == ["www.example.test"]


@pytest.mark.parametrize(("days", "outcome"), [(10, Outcome.WARN), (2, Outcome.FAIL)])
def test_tls_warns_then_fails_as_the_certificate_nears_expiry(pki, days, outcome):
    with serve({"/": ready_page}, tls=pki.server_context("www.example.test", days=days)) as server:
        finding = run_check("http.tls", f"https://www.example.test:{server.port}/")
    assert finding.outcome == outcome
    assert finding.evidence["days_left"] in (days - 1, days)
    assert "Renew the certificate" in finding.remediation


def test_tls_fails_for_a_certificate_browsers_do_not_trust(pki):
    with serve({"/": ready_page}, tls=pki.server_context("www.example.test", self_signed=True)) as server:
        finding = run_check("http.tls", f"https://www.example.test:{server.port}/")
    assert finding.outcome == Outcome.FAIL
    assert "self-signed" in finding.message
    assert finding.evidence["verified"] is False
    assert "trusted authority" in finding.remediation


def test_tls_warns_for_a_page_served_without_https():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.tls", f"{server.url}/")
    assert finding.outcome == Outcome.WARN
    assert "without HTTPS" in finding.message
    assert "ACM" in finding.remediation


# --- http.http2 ---


def test_http2_passes_when_the_server_speaks_it(pki):
    with H2Server(pki.server_context("www.example.test")) as server:
        finding = run_check("http.http2", f"https://www.example.test:{server.port}/")
    assert finding.outcome == Outcome.PASS
    assert finding.evidence["http_version"] == "HTTP/2"


def test_http2_warns_for_http_1(pki):
    with serve({"/": ready_page}, tls=pki.server_context("www.example.test")) as server:
        finding = run_check("http.http2", f"https://www.example.test:{server.port}/")
    assert finding.outcome == Outcome.WARN
    assert finding.evidence["http_version"] == "HTTP/1.1"
    assert "CloudFront" in finding.remediation


# --- http.compression ---


def test_compression_passes_for_a_gzipped_page():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.compression", f"{server.url}/")
    assert finding.outcome == Outcome.PASS
    assert finding.evidence["content_encoding"] == "gzip"
    assert finding.evidence["transfer_bytes"] < finding.evidence["page_bytes"] == len(PAGE)


def test_compression_warns_for_an_uncompressed_page():
    with serve({"/": text(PAGE)}) as server:
        finding = run_check("http.compression", f"{server.url}/")
    assert finding.outcome == Outcome.WARN
    assert finding.evidence["headers"][0]["header"] == "content-encoding"
    assert "Compress objects automatically" in finding.remediation


def test_compression_is_not_judged_for_a_non_html_target():
    route = {"/": lambda handler: respond(handler, 200, b'{"ok": true}', [("Content-Type", "application/json")])}
    with serve(route) as server:
        finding = run_check("http.compression", f"{server.url}/")
    assert finding.outcome == Outcome.PASS
    assert "application/json" in finding.message


# --- http.page_weight ---


def test_page_weight_passes_for_a_light_page():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.page_weight", f"{server.url}/")
    assert finding.outcome == Outcome.PASS
    assert finding.evidence["subresources"] == 3
    assert finding.evidence["subresources_by_kind"] == {"image": 1, "script": 1, "stylesheet": 1}


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"<html><body>" + b"".join(b'<img src="/p%d.jpg">' % n for n in range(120)) + b"</body></html>", "120 image"),
        (b"<html><body>" + b"<p>" + b"x" * 1_200_000 + b"</p></body></html>", "the HTML alone weighs"),
    ],
    ids=["too-many-resources", "too-heavy"],
)
def test_page_weight_warns_for_a_heavy_page(body, said):
    with serve({"/": text(body)}) as server:
        finding = run_check("http.page_weight", f"{server.url}/")
    assert finding.outcome == Outcome.WARN
    assert said in finding.message
    assert "lazy-load" in finding.remediation
    assert finding.evidence["limits"] == {"page_bytes": 1_000_000, "subresources": 100}


# --- http.cacheable ---


def test_cacheable_passes_when_a_cdn_may_keep_the_page():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.cacheable", f"{server.url}/")
    assert finding.outcome == Outcome.PASS
    assert finding.evidence["ttl_seconds"] == 60


def test_cacheable_warns_and_names_what_prevents_it():
    headers = [
        ("Cache-Control", "private, max-age=0"),
        ("Set-Cookie", "sessionid=s3cr3t; HttpOnly"),
        ("Vary", "Cookie"),
    ]
    with serve({"/": text(PAGE, headers=headers)}) as server:
        finding = run_check("http.cacheable", f"{server.url}/")
    assert finding.outcome == Outcome.WARN
    assert "Cache-Control has private" in finding.message
    assert "Set-Cookie (sessionid)" in finding.message
    assert "Vary: Cookie" in finding.message
    assert "s3cr3t" not in str(finding.evidence)  # cookie values can be secrets
    assert finding.remediation.startswith("Serve the landing page from CloudFront with Cache-Control: public")
    assert "Set-Cookie" in finding.remediation
    assert "Vary" in finding.remediation


# --- http.cdn ---


def test_cdn_passes_when_a_cdn_answers():
    with serve({"/": ready_page}) as server:
        finding = run_check("http.cdn", f"{server.url}/")
    assert finding.outcome == Outcome.PASS
    assert finding.message == "CloudFront answered (cache hit)."
    assert finding.evidence["provider"] == "CloudFront"
    assert {item["header"] for item in finding.evidence["headers"]} >= {"x-cache", "via", "x-amz-cf-pop"}


def test_cdn_fails_when_the_origin_answers_itself():
    with serve({"/": text(PAGE)}) as server:
        finding = run_check("http.cdn", f"{server.url}/")
    assert finding.outcome == Outcome.FAIL
    assert "every request would reach the origin" in finding.message
    assert "CloudFront distribution" in finding.remediation


# --- http.dns_ttl: dnspython asks a fake DNS server on 127.0.0.1 ---


@pytest.fixture
def dns_records(monkeypatch):
    records = {"short.example.test": 60, "long.example.test": 3600}
    # The SSRF guard resolves through netguard.lookup: these names are public addresses (never connected to).
    table = {name: ["93.184.216.34"] for name in [*records, "missing.example.test"]}
    monkeypatch.setattr(netguard, "lookup", FakeResolver(table))
    answers = {(f"{name}.", "A"): [(f"{name}.", ttl, "A", "93.184.216.34")] for name, ttl in records.items()} | {
        (f"{name}.", "AAAA"): [] for name in records
    }
    with fake_dns_server(answers) as port:
        monkeypatch.setattr(prober, "dns_resolver", lambda: resolver_on(port))
        yield records


@pytest.mark.usefixtures("dns_records")
def test_dns_ttl_passes_for_a_short_ttl():
    finding = run_check("http.dns_ttl", "https://short.example.test/offre")
    assert finding.outcome == Outcome.PASS
    assert finding.evidence == {
        "url": "https://short.example.test/offre",
        "host": "short.example.test",
        "ttl_seconds": 60,
        "limit_seconds": 300,
    }


@pytest.mark.usefixtures("dns_records")
def test_dns_ttl_warns_for_a_long_ttl():
    finding = run_check("http.dns_ttl", "https://long.example.test/")
    assert finding.outcome == Outcome.WARN
    assert "3600 s" in finding.message
    assert "failover" in finding.message
    assert "Lower the TTL of long.example.test" in finding.remediation


@pytest.mark.usefixtures("dns_records")
def test_dns_ttl_lookup_failure_is_an_error_with_the_reason():
    finding = run_check("http.dns_ttl", "https://missing.example.test/")
    assert finding.outcome == Outcome.ERROR
    assert finding.message == "DNS lookup of missing.example.test failed: the name does not exist."


def test_dns_ttl_of_an_address_passes_with_a_note():
    finding = run_check("http.dns_ttl", "http://127.0.0.1:8000/")
    assert finding.outcome == Outcome.PASS
    assert "names an address" in finding.message
    assert finding.evidence["ttl_seconds"] is None


# --- The SSRF guard ---


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "127.0.0.1 is a private, loopback or reserved address; give the public address."),
        ("www.example.test", "www.example.test resolves to 127.0.0.1, a loopback address; refusing to connect."),
    ],
)
def test_a_url_the_guard_refuses_fails_every_check_and_reaches_no_server(settings, host, reason):
    settings.NETGUARD_ALLOW_LOOPBACK = False
    with serve({"/": ready_page}) as server:
        url = f"http://{host}:{server.port}/"
        findings = {check_id: run_check(check_id, url) for check_id in HTTP_CHECK_IDS}
        connections = server.connections
    assert connections == 0
    assert {check_id: finding.outcome for check_id, finding in findings.items()} == dict.fromkeys(
        HTTP_CHECK_IDS, Outcome.FAIL
    )
    assert {finding.message for finding in findings.values()} == {f"{url} was refused: {reason}"}
    assert all(finding.evidence["refused"] is True for finding in findings.values())
    assert all("public address" in finding.remediation for finding in findings.values())


# --- One fetch per URL ---


def test_the_checks_of_one_url_share_one_fetch():
    with serve({"/": ready_page}) as server:
        outcomes = {check_id: run_check(check_id, f"{server.url}/").outcome for check_id in PAGE_CHECK_IDS}
        requests = len(server.seen)
    assert requests == 1
    assert outcomes == {**dict.fromkeys(PAGE_CHECK_IDS, Outcome.PASS), "http.tls": "warn", "http.http2": "warn"}


def test_the_page_memo_loads_once_for_concurrent_callers_expires_and_stays_bounded():
    memo = http_checks.PageMemo(seconds=60, size=2)
    loads: list[str] = []

    def loader(name: str):
        def load():
            loads.append(name)
            time.sleep(0.05)
            return name

        return load

    threads = [threading.Thread(target=memo.get, args=(("a", ""), loader("a"))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert loads == ["a"]
    memo.get(("b", ""), loader("b"))
    memo.get(("c", ""), loader("c"))  # the oldest, "a", makes room
    assert memo.get(("a", ""), loader("a")) == "a"
    assert loads == ["a", "b", "c", "a"]
    expired = http_checks.PageMemo(seconds=0, size=2)
    expired.get(("a", ""), loader("x"))
    expired.get(("a", ""), loader("y"))
    assert loads[-2:] == ["x", "y"]


# --- End to end ---


def test_a_run_with_the_http_checks_against_a_local_site(personas, event_factory, only_checks, executed):
    only_checks(*[check for check in checks() if check.category == "http"])
    with serve({"/": ready_page}) as server:
        event = event_factory(landing_urls=[f"{server.url}/"])
        with executed():
            run = services.run_start(event=event, by=personas.owner)
    run.refresh_from_db()
    results = {result.check_id: result for result in CheckResult.objects.filter(run=run)}
    assert sorted(results) == sorted(HTTP_CHECK_IDS)
    assert all(result.is_done() for result in results.values())
    outcomes = {check_id: result.outcome for check_id, result in results.items()}
    # Plain HTTP on 127.0.0.1: no TLS, so no HTTP/2 either; everything else is as it should be.
    assert outcomes == {**dict.fromkeys(HTTP_CHECK_IDS, Outcome.PASS), "http.tls": "warn", "http.http2": "warn"}
    assert all(result.finished_at is not None for result in results.values())
    assert results["http.tls"].remediation
    assert results["http.latency"].evidence["samples"] == 10
    assert run.status == ReadinessRun.Status.COMPLETED
    assert run.verdict == ReadinessRun.Verdict.AT_RISK
    assert run.score == 88  # 14 of 16: a critical and a minor check at half credit
