"""fetch against real local HTTP servers: statuses, redirects, deadlines, body limits, headers, pinning."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import socket
import threading
import time

import pytest

from portal import netguard
from probes import http
from tests.probes import FakeResolver, Handler, free_port, gzipped, redirect, respond, serve, text, wait_then

PAGE = b"<!doctype html><title>Lumiere</title>" + b"<p>Bienvenue</p>" * 200


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = True


def test_status_headers_and_timings_are_recorded():
    with serve({"/": text(PAGE, headers=[("X-Frame-Options", "DENY")])}) as server:
        result = http.fetch(f"{server.url}/")
    assert result.ok
    assert result.status == 200
    assert result.http_version == "HTTP/1.1"
    assert result.body == PAGE
    assert not result.body_truncated
    assert result.headers["x-frame-options"] == "DENY"
    assert result.headers["X-Frame-Options"] == "DENY"
    assert result.peer_address == "127.0.0.1"
    assert result.tls is None
    assert result.error is None
    assert 0 < result.ttfb_ms <= result.elapsed_ms
    assert result.final_url == f"{server.url}/"


def test_redirects_are_followed_and_recorded():
    routes = {"/start": redirect("/middle", 301), "/middle": redirect("end?x=1", 302), "/end": text("arrived")}
    with serve(routes) as server:
        result = http.fetch(f"{server.url}/start")
        paths = [seen.path for seen in server.seen]
    assert result.status == 200
    assert result.body == b"arrived"
    assert result.redirects == [(301, "/middle"), (302, "end?x=1")]
    assert result.final_url == f"{server.url}/end?x=1"
    assert paths == ["/start", "/middle", "/end?x=1"]


def test_redirects_stop_at_the_limit():
    with serve({"/loop": redirect("/loop")}) as server:
        result = http.fetch(f"{server.url}/loop", max_redirects=3)
        requests = len(server.seen)
    assert result.status is None
    assert result.error == f"Stopped after 3 redirects; the next one pointed to {server.url}/loop."
    assert len(result.redirects) == 4
    assert requests == 4
    assert not result.refused


def test_post_becomes_get_after_303_and_head_stays_head():
    routes = {"/form": redirect("/done", 303), "/done": text("done")}
    with serve(routes) as server:
        posted = http.fetch(f"{server.url}/form", method="POST")
        headed = http.fetch(f"{server.url}/form", method="HEAD")
        methods = [(seen.method, seen.path) for seen in server.seen]
    assert posted.status == 200
    assert headed.status == 200
    assert headed.body == b""
    assert methods == [("POST", "/form"), ("GET", "/done"), ("HEAD", "/form"), ("HEAD", "/done")]


def test_a_server_slower_than_the_timeout_gives_a_timed_out_error():
    with serve({"/slow": wait_then(5)}) as server:
        started = time.monotonic()
        result = http.fetch(f"{server.url}/slow", timeout=0.5)
        took = time.monotonic() - started
    assert result.status is None
    assert result.error == "Timed out after 0.5 s waiting for 127.0.0.1 to answer."
    assert not result.refused
    assert took < 1.5


def test_a_body_that_drips_is_cut_at_the_overall_deadline():
    def drip(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            if handler.server.stop.wait(0.1):
                return

    with serve({"/drip": drip}) as server:
        started = time.monotonic()
        result = http.fetch(f"{server.url}/drip", timeout=0.6)
        took = time.monotonic() - started
    assert result.status == 200
    assert result.error.startswith("Timed out after 0.6 s reading the body from 127.0.0.1")
    assert 0 < len(result.body) < 1000
    assert took < 1.5


def test_the_body_is_truncated_at_max_body_bytes():
    big = b"a" * 100_000
    with serve({"/big": text(big), "/exact": text(b"b" * 1000)}) as server:
        truncated = http.fetch(f"{server.url}/big", max_body_bytes=1000)
        exact = http.fetch(f"{server.url}/exact", max_body_bytes=1000)
    assert truncated.body == b"a" * 1000
    assert truncated.body_truncated
    assert truncated.status == 200
    assert truncated.error is None
    assert exact.body == b"b" * 1000
    assert not exact.body_truncated


def test_gzip_is_decoded_and_detected():
    with serve({"/": gzipped(PAGE)}) as server:
        result = http.fetch(f"{server.url}/")
    assert result.headers["content-encoding"] == "gzip"
    assert result.body == PAGE
    assert result.bytes_received == len(gzip.compress(PAGE))
    assert result.bytes_received < len(PAGE)


def test_repeated_set_cookie_headers_are_kept():
    headers = [("Set-Cookie", "session=abc; HttpOnly"), ("Set-Cookie", "lang=fr; Path=/")]
    with serve({"/": lambda handler: respond(handler, 200, b"hi", headers)}) as server:
        result = http.fetch(f"{server.url}/")
    assert result.headers.get_all("Set-Cookie") == ["session=abc; HttpOnly", "lang=fr; Path=/"]
    assert "set-cookie" in result.headers
    assert result.headers["set-cookie"] == "session=abc; HttpOnly, lang=fr; Path=/"


def test_the_checked_address_is_used_with_the_real_host_name(monkeypatch):
    resolver = FakeResolver({"www.example.test": ["127.0.0.1"]})
    monkeypatch.setattr(netguard, "lookup", resolver)
    routes = {"/hop": redirect("/hello"), "/hello": text("pinned")}
    with serve(routes) as server:
        url = f"http://www.example.test:{server.port}/hop"
        result = http.fetch(url, headers={"Host": "evil.example", "X-Probe": "1"})
        seen = server.seen
    assert result.status == 200
    assert result.body == b"pinned"
    assert result.final_url == f"http://www.example.test:{server.port}/hello"
    assert result.peer_address == "127.0.0.1"
    assert [request.headers["host"] for request in seen] == [f"www.example.test:{server.port}"] * 2
    assert seen[0].headers["x-probe"] == "1"
    assert seen[0].headers["user-agent"] == http.USER_AGENT
    # One lookup for the whole chain: a second answer from DNS never chooses where we connect.
    assert resolver.calls == ["www.example.test"]


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    with serve({"/": text("direct")}) as server:
        result = http.fetch(f"{server.url}/")
    assert result.body == b"direct"


def test_connection_refused_is_reported():
    port = free_port()
    result = http.fetch(f"http://127.0.0.1:{port}/", timeout=2)
    assert result.status is None
    assert result.error == f"Connection refused by 127.0.0.1 port {port}: nothing listens there."
    assert not result.refused


def test_dns_failure_is_reported(monkeypatch):
    monkeypatch.setattr(netguard, "lookup", FakeResolver({}))
    result = http.fetch("http://nowhere.example.test/")
    assert result.error == "DNS lookup of nowhere.example.test failed: the name does not exist."
    assert not result.refused
    assert result.status is None


def test_a_server_that_does_not_speak_http_is_reported():
    def not_http(connection: socket.socket) -> None:
        with connection:
            connection.recv(1024)
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(2)
        port = listener.getsockname()[1]
        thread = threading.Thread(target=lambda: not_http(listener.accept()[0]), daemon=True)
        thread.start()
        result = http.fetch(f"http://127.0.0.1:{port}/", timeout=2)
        thread.join(2)
    assert result.status is None
    assert result.error.startswith("127.0.0.1 broke the HTTP protocol")


def test_bad_arguments_are_programming_errors():
    with pytest.raises(ValueError, match="timeout"):
        http.fetch("http://127.0.0.1/", timeout=0)
    with pytest.raises(ValueError, match="max_redirects"):
        http.fetch("http://127.0.0.1/", max_redirects=-1)
    with pytest.raises(TypeError, match="verify"):
        http.fetch("http://127.0.0.1/", verify=True)


def test_a_redirect_to_a_malformed_address_is_an_error_not_an_exception():
    with serve({"/": redirect("http://[not-an-address/")}) as server:
        result = http.fetch(f"{server.url}/")
    assert result.status is None
    assert result.redirects == [(302, "http://[not-an-address/")]
    assert result.error is not None


@pytest.mark.parametrize("location", ["javascript:alert(1)", "file:///etc/passwd", "//exa mple.com/", "http://[::1"])
def test_odd_locations_end_the_chain_with_an_error(location):
    with serve({"/": redirect(location)}) as server:
        result = http.fetch(f"{server.url}/", timeout=2)
    assert result.status is None
    assert result.redirects == [(302, location)]
    assert result.error


def test_fetch_works_when_called_from_inside_an_event_loop():
    async def async_caller(url: str) -> http.ProbeResult:
        return http.fetch(url)

    # A thread of its own: the browser tests' Playwright may hold this thread's event loop.
    with serve({"/": text("from a loop")}) as server, concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(asyncio.run, async_caller(f"{server.url}/")).result(timeout=30)
    assert result.body == b"from a loop"
