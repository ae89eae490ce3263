"""Scenario 9 (invariant 5): every inside address is refused where a client gives a URL and where a worker fetches it.

The corpus spells loopback, the private ranges and the metadata address every way a resolver or a socket
accepts (decimal, hex, octal, shortened, IPv6-mapped, -compatible, NAT64, 6to4), plus names the tests'
fake DNS resolves inside and redirects to all of these. Four entry points validate at save time (event
landing URLs, stack URLs, a status component's probe URL, a webhook endpoint); the prober and the webhook
sender check again at fetch time, with the save-time check switched off, while a canary HTTP server on
loopback counts what reaches it. tests/probes/test_ssrf.py covers the prober's own corner cases.
"""

from __future__ import annotations

import itertools
from urllib.parse import quote, unquote

import pytest
from django.core.exceptions import ValidationError

from portal import netguard
from probes import http
from tests.probes import FakeResolver, redirect, serve, text

# {port} is the canary's port for loopback spellings; elsewhere it is dropped (no listener to reach there).
LOOPBACK = [
    "127.0.0.1", "127.1", "127.0.1", "127.000.000.001", "2130706433", "0x7f000001", "0x7F000001",
    "0x7f.0x0.0x0.0x1", "0x7f.1", "0177.0.0.1", "017700000001", "127.255.255.254", "0", "0.0.0.0", "0x0",  # noqa: S104
    "[::]", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::127.0.0.1]", "[::ffff:0:127.0.0.1]", "[64:ff9b::127.0.0.1]", "[2002:7f00:1::]", "localhost",
    "LOCALHOST", "localhost.", "foo.localhost", "loopback.example.com", "mixed.example.com",
]  # fmt: skip
METADATA = [
    "169.254.169.254", "2852039166", "0xa9fea9fe", "0xA9FEA9FE", "025177524776", "0251.0376.0251.0376",
    "0xa9.0xfe.0xa9.0xfe", "169.254.43518", "169.16689662", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]",
    "[0:0:0:0:0:ffff:a9fe:a9fe]", "[::169.254.169.254]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::]",
    "[fd00:ec2::254]", "169.254.170.2", "metadata.google.internal", "metadata", "instance-data",
    "metadata.example.com",
]  # fmt: skip
PRIVATE = [
    "10.0.0.1", "10.255.255.255", "012.0.0.1", "0xa000001", "167772161", "172.16.0.1", "172.31.255.254",
    "192.168.0.1", "3232235521", "100.64.0.1", "198.18.0.1", "192.0.0.1", "192.0.2.1", "224.0.0.1",
    "240.0.0.1", "255.255.255.255", "[fc00::1]", "[fd00::1]", "[fe80::1]", "[fec0::1]", "[ff02::1]",
    "[::ffff:10.0.0.1]", "[::ffff:192.168.1.1]", "printer.local", "db.internal", "router.lan",
    "private.example.com", "cgnat.example.com", "v6.example.com",
]  # fmt: skip
FAKE_DNS = {
    "loopback.example.com": ["127.0.0.1"],
    "mixed.example.com": ["93.184.216.34", "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "private.example.com": ["10.0.0.7"],
    "cgnat.example.com": ["100.64.1.1"],
    "v6.example.com": ["fd00::1"],
    "public.example.com": ["93.184.216.34"],
    # What these names answer where they exist (systemd-resolved, GCP, EC2, a LAN), so the fetch-time
    # guard is tested on the address and not on a failed lookup.
    "foo.localhost": ["127.0.0.1"],
    "localhost.": ["127.0.0.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "metadata": ["169.254.169.254"],
    "instance-data": ["169.254.169.254"],
    "printer.local": ["192.168.1.20"],
    "db.internal": ["10.0.0.5"],
    "router.lan": ["192.168.1.1"],
}
# Names only DNS can tell inside from outside: refused at fetch time, accepted when saved.
DNS_ONLY = {"loopback.example.com", "mixed.example.com", "metadata.example.com"} | {
    "private.example.com",
    "cgnat.example.com",
    "v6.example.com",
}
PUBLIC = [
    "https://www.example.com/",
    "https://example.com:8443/path?q=1",
    "http://93.184.216.34/",
    "https://8.8.8.8/",
    "https://1.1.1.1/dns-query",
    "https://[2606:4700:4700::1111]/",
    "https://[2001:4860:4860::8888]/",
    "https://www.maison-lumiere.fr/lampes",
    "https://xn--maison-lumire-eeb.fr/",
    "https://d1lumiere.cloudfront.net/",
    "https://api.velo-vert.io/health",
    "https://172.32.0.1/",  # just outside 172.16/12
    "https://100.128.0.1/",  # just outside 100.64/10
    "https://192.169.0.1/",
    "https://11.0.0.1/",
    "https://169.255.0.1/",
    "https://a.b.c.example.org/x/y",
    "https://localhost-shop.fr/",
    "https://metadata-service.example.com/",
    "https://internal.example.com/",
]


def _url(host: str, port: int | None = None, scheme: str = "http") -> str:
    return f"{scheme}://{host}:{port}/" if port else f"{scheme}://{host}/"


def corpus(port: int | None = None, scheme: str = "http") -> list[str]:
    """Return every inside URL; loopback spellings aim at port (the canary's) when given."""
    return [_url(host, port, scheme) for host in LOOPBACK] + [_url(host, None, scheme) for host in METADATA + PRIVATE]


def saved_corpus(scheme: str = "http") -> list[str]:
    """Return the URLs a save-time check can refuse without asking DNS."""
    return [url for url in corpus(scheme=scheme) if not any(f"//{name}/" in url for name in DNS_ONLY)]


@pytest.fixture
def fake_dns(monkeypatch):
    resolver = FakeResolver(dict(FAKE_DNS))
    real = netguard.lookup
    monkeypatch.setattr(
        netguard, "lookup", lambda host, port: resolver(host, port) if host in resolver.table else real(host, port)
    )
    return resolver


@pytest.fixture
def no_loopback(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = False


def _refusals(check, urls: list[str]) -> list[str]:
    """Return the URLs check accepted."""
    accepted = []
    for url in urls:
        try:
            check(url)
        except ValidationError:
            continue
        accepted.append(url)
    return accepted


def _entry_points(personas):
    """One save-time check per place a client gives a URL, each through its service."""
    from events.services import event_create
    from stacks.services import stack_create
    from status import services as status_services
    from status.models import StatusPage
    from status.subscriptions import subscriber_subscribe_webhook
    from tests.tenancy_matrix import make_stack

    organization, owner, engineer = personas.organization, personas.owner, personas.engineer
    stack = make_stack(organization)
    page = StatusPage.objects.create(organization=organization, name="Maison Lumière", slug="maison-lumiere")
    windows = itertools.count()

    def event_landing_url(url: str) -> None:
        from datetime import timedelta

        from django.utils import timezone

        # A fresh air window each time: the stack is booked once per window.
        start = timezone.now() + timedelta(days=12, hours=next(windows))
        data = {
            "stack": stack, "title": "Capital", "air_start": start, "air_end": start + timedelta(minutes=10),
            "expected_audience": 1000, "landing_urls": [url],
        }  # fmt: skip
        event_create(organization=organization, by=owner, data=data)

    def stack_landing_url(url: str) -> None:
        stack_create(organization=organization, by=owner, name=f"S {url}"[:100], landing_url=url)

    def stack_health_url(url: str) -> None:
        stack_create(organization=organization, by=owner, name=f"H {url}"[:100], landing_url=PUBLIC[0], health_url=url)

    def stack_key_url(url: str) -> None:
        stack_create(organization=organization, by=owner, name=f"K {url}"[:100], landing_url=PUBLIC[0], key_urls=[url])

    def component_probe_url(url: str) -> None:
        status_services.component_save(page=page, by=engineer, name="Shop", probe_url=url)

    def webhook_endpoint(url: str) -> None:
        subscriber_subscribe_webhook(page=page, endpoint=url.replace("http://", "https://", 1))

    return {
        "event landing URL": event_landing_url,
        "stack landing URL": stack_landing_url,
        "stack health URL": stack_health_url,
        "stack key URL": stack_key_url,
        "status component probe URL": component_probe_url,
        "webhook endpoint": webhook_endpoint,
    }


def test_every_client_url_entry_point_refuses_the_corpus_and_accepts_public_addresses(personas, no_loopback):
    urls = saved_corpus()
    accepted: dict[str, list[str]] = {}
    false_refusals: dict[str, list[str]] = {}
    for name, check in _entry_points(personas).items():
        accepted[name] = _refusals(check, urls)
        false_refusals[name] = [url for url in PUBLIC if url not in _refusals(check, [url])]
    total = len(urls) * len(accepted)
    refused = total - sum(len(found) for found in accepted.values())
    wrongly = sum(len(found) for found in false_refusals.values())
    print(
        f"SSRF save-time: {refused}/{total} refused over {len(accepted)} entry points; "
        f"{wrongly}/{len(PUBLIC) * len(accepted)} public addresses falsely refused"
    )
    assert {name: found for name, found in accepted.items() if found} == {}
    assert {name: found for name, found in false_refusals.items() if found} == {}


def test_public_addresses_pass_both_checks_without_the_network(no_loopback, fake_dns):
    for url in PUBLIC:
        netguard.validate_public_url(url)
    hosts = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1", "169.255.0.1"]
    assert [host for host in hosts if netguard.unsafe_reason(host) is not None] == []
    assert netguard.resolve_public("public.example.com", 443, timeout=1)


@pytest.fixture
def canary():
    with serve({"/": text("canary")}) as server:
        yield server


REDIRECTOR = "redirector.example.com"
REDIRECTOR_ADDRESS = "93.184.216.34"  # what the fake DNS answers for it: public, so the first hop is allowed


def _redirect_to_query(handler) -> None:
    redirect(unquote(handler.path.split("to=", 1)[1]))(handler)


@pytest.fixture
def redirector(monkeypatch, fake_dns):
    """A redirecting server on loopback that the prober believes public: the one place requests may go."""
    import httpx

    sent: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request
    with serve({"/go": _redirect_to_query}) as server:

        async def send(self, request):
            sent.append(str(request.url))
            if request.url.host == REDIRECTOR_ADDRESS:
                request.url = request.url.copy_with(host="127.0.0.1", port=server.port)
                return await original(self, request)
            raise AssertionError(f"a request left for {request.url}")

        monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", send)
        fake_dns.table[REDIRECTOR] = [REDIRECTOR_ADDRESS]
        server.sent = sent
        yield server


def test_the_prober_refuses_the_corpus_at_fetch_time_and_nothing_reaches_the_canary(
    no_loopback, fake_dns, canary, redirector, monkeypatch
):
    # The fetch-time guard stands alone: URLs saved before a rule existed, or DNS that changed since.
    monkeypatch.setattr(netguard, "validate_public_url", lambda url: None)
    urls = corpus(canary.port)
    direct = [http.fetch(url, timeout=2) for url in urls]
    hops_before = len(redirector.sent)
    via_redirect = [http.fetch(f"http://{REDIRECTOR}/go?to={quote(url, safe='')}", timeout=2) for url in urls]
    not_refused = [result.url for result in direct if not result.refused]
    # A Location httpx cannot even parse (127.000.000.001, 012.0.0.1) is not followed: no request, no answer.
    redirect_leaks = [result.url for result in via_redirect if not result.redirects or result.status is not None]
    total = len(direct) + len(via_redirect)
    refused = total - len(not_refused) - len(redirect_leaks)
    print(
        f"SSRF corpus (prober, direct and by redirect): {refused}/{total} refused, "
        f"{canary.connections} reached the canary"
    )
    assert not_refused == []
    assert redirect_leaks == []
    assert canary.connections == 0
    # Only the redirector was asked, once per redirect URL; nothing at all for the direct corpus.
    assert hops_before == 0
    assert len(redirector.sent) == len(urls)


def test_the_webhook_sender_refuses_the_corpus_at_fetch_time_and_nothing_reaches_the_canary(
    no_loopback, fake_dns, canary, monkeypatch
):
    from status.notify import DeliveryFailed, post_guarded

    monkeypatch.setattr(netguard, "validate_public_url", lambda url: None)
    urls = corpus(canary.port, scheme="https") + corpus(canary.port, scheme="http")
    sent, retried = [], []
    for url in urls:
        try:
            sent.append((url, post_guarded(url, body=b"{}", headers={}, timeout=2)))
        except DeliveryFailed as error:
            if not error.permanent:
                retried.append((url, str(error)))
    print(
        f"SSRF corpus (webhooks): {len(urls) - len(sent)}/{len(urls)} refused, {canary.connections} reached the canary"
    )
    assert sent == []
    # A refusal is final: the delivery is not retried against an inside address.
    assert retried == []
    assert canary.connections == 0
