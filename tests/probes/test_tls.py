"""TLS through the pinned address: the certificate is verified against the host name, and described.

Every server is on 127.0.0.1 with a certificate that names www.example.test only (no IP address),
so a verified fetch proves verification used the name, not the address we connected to.
"""

from __future__ import annotations

import ssl

import pytest

from portal import netguard
from probes import http
from tests.probes import FakeResolver, H2Server, Pki, serve, text


@pytest.fixture(autouse=True)
def _loopback_allowed(settings, monkeypatch):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    table = {"www.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]}
    monkeypatch.setattr(netguard, "lookup", FakeResolver(table))


@pytest.fixture
def pki(tmp_path) -> Pki:
    return Pki(tmp_path)


def test_certificate_from_a_trusted_authority_is_verified_against_the_host_name(pki):
    context = pki.server_context("www.example.test", days=30)
    sni: list[str | None] = []
    context.sni_callback = lambda ssl_object, name, ctx: sni.append(name)
    with serve({"/": text("secure")}, tls=context) as server:
        result = http.fetch(f"https://www.example.test:{server.port}/", verify=pki.ca_path)
        host_header = server.seen[0].headers["host"]
    assert result.error is None
    assert result.status == 200
    assert result.body == b"secure"
    assert result.peer_address == "127.0.0.1"
    assert sni == ["www.example.test"]
    assert host_header == f"www.example.test:{server.port}"
    tls = result.tls
    assert tls.verified
    assert tls.error is None
    assert tls.days_left in (29, 30)
    assert tls.not_after.tzinfo is not None
    assert tls.issuer == "CN=Primetime Test CA"
    assert tls.subject == "CN=www.example.test"
    assert tls.names == ("www.example.test",)
    assert tls.version.startswith("TLSv1.")


def test_an_ssl_context_can_be_passed_as_verify(pki):
    with serve({"/": text("secure")}, tls=pki.server_context("www.example.test")) as server:
        result = http.fetch(
            f"https://www.example.test:{server.port}/", verify=ssl.create_default_context(cafile=pki.ca_path)
        )
    assert result.tls.verified
    assert result.status == 200


def test_self_signed_certificate_is_not_verified_and_described(pki):
    with serve({"/": text("secure")}, tls=pki.server_context("www.example.test", self_signed=True)) as server:
        result = http.fetch(f"https://www.example.test:{server.port}/", timeout=3)
        requests = len(server.seen)
    assert result.status is None
    assert result.error == "TLS certificate of www.example.test is self-signed: browsers do not trust it."
    assert not result.refused
    assert requests == 0
    tls = result.tls
    assert not tls.verified
    assert tls.error == result.error
    assert tls.subject == "CN=www.example.test"
    assert tls.issuer == "CN=www.example.test"
    assert tls.days_left in (29, 30)


def test_certificate_for_another_name_is_refused(pki):
    # The certificate names www.example.test; the visitor typed other.example.test.
    with serve({"/": text("secure")}, tls=pki.server_context("www.example.test")) as server:
        result = http.fetch(f"https://other.example.test:{server.port}/", verify=pki.ca_path, timeout=3)
    assert result.status is None
    assert result.error == "TLS certificate is not valid for other.example.test: it names other hosts."
    assert not result.tls.verified
    assert result.tls.names == ("www.example.test",)


def test_the_address_alone_does_not_verify_a_named_certificate(pki):
    with serve({"/": text("secure")}, tls=pki.server_context("www.example.test")) as server:
        result = http.fetch(f"https://127.0.0.1:{server.port}/", verify=pki.ca_path, timeout=3)
    assert result.status is None
    assert result.error == "TLS certificate is not valid for 127.0.0.1: it names other hosts."


def test_expired_certificate_is_reported(pki):
    with serve({"/": text("secure")}, tls=pki.server_context("www.example.test", expired=True)) as server:
        result = http.fetch(f"https://www.example.test:{server.port}/", verify=pki.ca_path, timeout=3)
    assert result.error == "TLS certificate has expired: browsers refuse www.example.test."
    assert not result.tls.verified
    assert result.tls.days_left < 0


def test_http2_is_negotiated_through_the_pinned_address(pki):
    with H2Server(pki.server_context("www.example.test")) as server:
        result = http.fetch(f"https://www.example.test:{server.port}/h2?x=1", verify=pki.ca_path, timeout=3)
        requests = server.requests
    assert result.error is None
    assert result.http_version == "HTTP/2"
    assert result.status == 200
    assert result.body == b"hello over h2"
    assert result.tls.verified
    assert requests[0][":authority"] == f"www.example.test:{server.port}"
    assert requests[0][":path"] == "/h2?x=1"
