"""The run-time SSRF guard: resolve_public and check_address refuse every address that is not public."""

from __future__ import annotations

import ipaddress
import threading

import pytest
from django.core.exceptions import ValidationError

from portal import netguard
from tests.probes import FakeResolver

# Each host is resolved by the real getaddrinfo (IP spellings and /etc/hosts need no DNS server).
PRIVATE_HOSTS = [
    ("127.0.0.1", "loopback"),
    ("2130706433", "loopback"),
    ("0x7f000001", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("::1", "loopback"),
    ("[::1]", "loopback"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:7f00:1", "IPv4-mapped"),
    ("169.254.169.254", "metadata"),
    ("2852039166", "metadata"),
    ("0xa9fea9fe", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("169.254.10.1", "link-local"),
    ("10.0.0.1", "private"),
    ("192.168.1.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("fd00::1", "unique-local"),
    ("fc00::1", "unique-local"),
    ("fe80::1", "link-local"),
    ("fd00:ec2::254", "metadata"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - a destination under test, not a bind address.
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "reserved"),
    ("::7f00:1", "IPv4-compatible"),
    ("2002:7f00:1::1", "6to4"),
    ("2002:a00:1::1", "6to4"),
    ("64:ff9b::a9fe:a9fe", "NAT64"),
    ("localhost", "loopback"),
]

PUBLIC_ADDRESSES = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8", "2002:5db8:d822::1"]


@pytest.fixture(autouse=True)
def _loopback_not_allowed(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = False


@pytest.mark.parametrize(("host", "reason"), PRIVATE_HOSTS)
def test_private_address_is_refused(host, reason):
    with pytest.raises(netguard.UnsafeAddress) as refused:
        netguard.resolve_public(host, 80)
    message = str(refused.value)
    assert reason in message
    assert refused.value.host in message
    assert refused.value.address in message


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_address_passes(address):
    assert netguard.check_address(address) is not None
    assert [str(ip) for ip in netguard.resolve_public(address, 443)] == [address]
    assert netguard.unsafe_reason(address) is None


def test_localhost_is_refused_through_the_system_resolver():
    # /etc/hosts answers "localhost" without a DNS server: this is the real getaddrinfo path.
    with pytest.raises(netguard.UnsafeAddress, match=r"localhost resolves to .*loopback"):
        netguard.resolve_public("localhost", 80)


def test_public_looking_name_resolving_to_a_private_address_is_refused(monkeypatch):
    # No DNS in the sandbox: the resolver is replaced where the guard asks it.
    monkeypatch.setattr(netguard, "lookup", FakeResolver({"shop.example.com": ["10.1.2.3"]}))
    with pytest.raises(netguard.UnsafeAddress, match=r"shop\.example\.com resolves to 10\.1\.2\.3, a private"):
        netguard.resolve_public("shop.example.com", 443)


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    table = {"shop.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "169.254.169.254"]}
    monkeypatch.setattr(netguard, "lookup", FakeResolver(table))
    with pytest.raises(netguard.UnsafeAddress, match=r"169\.254\.169\.254, the cloud metadata address"):
        netguard.resolve_public("shop.example.com", 443)


def test_public_name_returns_its_checked_addresses(monkeypatch):
    table = {"shop.example.com": ["93.184.216.34", "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]}
    monkeypatch.setattr(netguard, "lookup", FakeResolver(table))
    addresses = netguard.resolve_public("shop.example.com", 443)
    assert [str(ip) for ip in addresses] == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]


def test_allow_loopback_opens_loopback_only(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    for address in ["127.0.0.1", "127.8.9.10", "::1"]:
        assert netguard.unsafe_reason(address) is None
    assert [str(ip) for ip in netguard.resolve_public("localhost", 80)] in (["127.0.0.1"], ["127.0.0.1", "::1"])
    still_refused = ["10.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "169.254.169.254", "fd00::1", "fe80::1"]
    still_refused += ["0.0.0.0", "::ffff:127.0.0.1", "2002:7f00:1::1"]  # noqa: S104 - a destination under test.
    for address in still_refused:
        assert netguard.unsafe_reason(address) is not None, address


def test_lookup_failure_says_which_name(monkeypatch):
    monkeypatch.setattr(netguard, "lookup", FakeResolver({}))
    with pytest.raises(netguard.LookupFailed, match=r"lookup of nowhere\.example\.com failed: the name does not exist"):
        netguard.resolve_public("nowhere.example.com", 80)


def test_lookup_is_bounded_in_time(monkeypatch):
    release = threading.Event()

    def hanging_lookup(host, port):
        release.wait(5)
        return ["93.184.216.34"]

    monkeypatch.setattr(netguard, "lookup", hanging_lookup)
    try:
        with pytest.raises(netguard.LookupFailed, match=r"DNS lookup of slow\.example\.com timed out after 0\.2 s"):
            netguard.resolve_public("slow.example.com", 80, timeout=0.2)
    finally:
        release.set()


def test_save_time_validator_is_unchanged():
    netguard.validate_public_url("https://www.example.com/")
    for url in ["http://127.0.0.1/", "http://169.254.169.254/", "http://user:pw@example.com/", "ftp://example.com/"]:
        with pytest.raises(ValidationError):
            netguard.validate_public_url(url)
    assert netguard.ip_is_public(ipaddress.ip_address("93.184.216.34"))
