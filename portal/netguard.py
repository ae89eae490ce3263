"""The first line of the SSRF guard: refuse URLs a client gives that point inside.

``validate_public_url`` runs when a URL is saved: scheme, credentials and host
literals. Workers must still resolve the host and check every address before
fetching (DNS can change after saving); that check lives with the HTTP prober.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".intranet", ".lan")
BLOCKED_HOSTS = {"localhost", "metadata", "metadata.google.internal", "instance-data"}


def ip_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Tell whether an address is routable on the internet (not private, loopback, link-local, metadata...)."""
    # The run-time table, so save time also refuses IPv6 forms that carry an inside IPv4 address
    # (IPv4-compatible, NAT64, 6to4...) and the deprecated site-local range.
    return unsafe_reason(address, allow_loopback=False) is None


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    # Shortened, decimal, octal and hexadecimal spellings of IPv4 that resolvers
    # accept (127.1, 2130706433, 0x7f.0.0.1, 0177.0.0.1): read them as inet_aton does.
    if host and set(host) <= set("0123456789abcdefx."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def validate_public_url(url: str) -> None:
    """Raise ValidationError unless the URL is http(s), carries no credentials and names no internal host."""
    URLValidator(schemes=["http", "https"])(url)
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError(_("Remove the user name and password from the address."), code="credentials")
    host = (parts.hostname or "").rstrip(".").lower()
    if getattr(settings, "NETGUARD_ALLOW_LOOPBACK", False) and host in {"127.0.0.1", "localhost", "::1"}:
        return
    if host in BLOCKED_HOSTS or host.endswith(BLOCKED_HOST_SUFFIXES):
        raise ValidationError(
            _("%(host)s is an internal name; give the public address.") % {"host": host}, code="private"
        )
    address = _literal_address(host)
    if address is not None and not ip_is_public(address):
        raise ValidationError(
            _("%(host)s is a private, loopback or reserved address; give the public address.") % {"host": host},
            code="private",
        )


# --- Run-time guard: resolve the host and check every address before a worker connects. ---

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOKUP_TIMEOUT = 5.0

# Checked in order, so the metadata addresses are named before the wider ranges that hold them.
_V4_UNSAFE = [
    (ipaddress.IPv4Network("169.254.169.254/32"), "the cloud metadata address"),
    (ipaddress.IPv4Network("169.254.170.2/32"), "the container credentials address"),
    (ipaddress.IPv4Network("0.0.0.0/8"), "an unspecified address"),
    (ipaddress.IPv4Network("127.0.0.0/8"), "a loopback address"),
    (ipaddress.IPv4Network("10.0.0.0/8"), "a private address (RFC 1918)"),
    (ipaddress.IPv4Network("172.16.0.0/12"), "a private address (RFC 1918)"),
    (ipaddress.IPv4Network("192.168.0.0/16"), "a private address (RFC 1918)"),
    (ipaddress.IPv4Network("169.254.0.0/16"), "a link-local address"),
    (ipaddress.IPv4Network("100.64.0.0/10"), "a carrier-grade NAT address (RFC 6598)"),
    (ipaddress.IPv4Network("224.0.0.0/4"), "a multicast address"),
    (ipaddress.IPv4Network("240.0.0.0/4"), "a reserved address"),
]
_V6_UNSAFE = [
    (ipaddress.IPv6Network("fd00:ec2::254/128"), "the cloud metadata address"),
    (ipaddress.IPv6Network("::/128"), "an unspecified address"),
    (ipaddress.IPv6Network("::1/128"), "a loopback address"),
    (ipaddress.IPv6Network("fe80::/10"), "a link-local address"),
    (ipaddress.IPv6Network("fec0::/10"), "a site-local address"),
    (ipaddress.IPv6Network("fc00::/7"), "a unique-local address"),
    (ipaddress.IPv6Network("ff00::/8"), "a multicast address"),
]
# IPv6 ranges that carry an IPv4 address in their last 32 bits: IPv4-compatible (::/96),
# IPv4-translated (::ffff:0:0:0/96) and NAT64 (64:ff9b::/96). IPv4-mapped, 6to4 and
# Teredo have their own accessors in ipaddress.
_V6_EMBEDDING_V4 = [
    (ipaddress.IPv6Network("::/96"), "an IPv4-compatible"),
    (ipaddress.IPv6Network("::ffff:0:0:0/96"), "an IPv4-translated"),
    (ipaddress.IPv6Network("64:ff9b::/96"), "a NAT64"),
]


class UnsafeAddress(Exception):
    """Raised when a host is, or resolves to, an address a worker must not reach."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        if host and host != address:
            message = f"{host} resolves to {address}, {reason}; refusing to connect."
        else:
            message = f"{address} is {reason}; refusing to connect."
        super().__init__(message)


class LookupFailed(Exception):
    """Raised when a host name cannot be resolved: no such name, no DNS answer, or no answer in time."""


def lookup(host: str, port: int) -> list[str]:
    """Return the addresses the system resolver gives for host; the one place that asks DNS (tests replace it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_v4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "an IPv4-mapped"
    if address.sixtofour is not None:
        return address.sixtofour, "a 6to4"
    if address.teredo is not None:
        return address.teredo[1], "a Teredo"
    for network, kind in _V6_EMBEDDING_V4:
        if address in network and int(address) > 1:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), kind
    return None


def unsafe_reason(address: str | IPAddress, *, allow_loopback: bool | None = None) -> str | None:
    """Return why a worker must not connect to address ("a loopback address", ...), or None when it is public.

    ``allow_loopback`` defaults to the ``NETGUARD_ALLOW_LOOPBACK`` setting and opens 127.0.0.0/8 and ::1 only.
    """
    if allow_loopback is None:
        allow_loopback = bool(getattr(settings, "NETGUARD_ALLOW_LOOPBACK", False))
    if isinstance(address, str):
        address = ipaddress.ip_address(address)
    if allow_loopback and address.is_loopback:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%")[0])
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner, kind = embedded
            # The embedded address is checked without the loopback allowance: only 127/8 and ::1 are opened.
            inner_reason = unsafe_reason(inner, allow_loopback=False)
            if inner_reason is not None:
                return f"{kind} form of {inner}, {inner_reason}"
        table: list = _V6_UNSAFE
    else:
        table = _V4_UNSAFE
    for network, reason in table:
        if address in network:
            return reason
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "a reserved address, not on the public internet"
    return None


def check_address(
    address: str | IPAddress, *, host: str = "", allow_loopback: bool | None = None
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Return the address parsed, or raise UnsafeAddress naming the host and the address when it is not public."""
    parsed = ipaddress.ip_address(address) if isinstance(address, str) else address
    reason = unsafe_reason(parsed, allow_loopback=allow_loopback)
    if reason is not None:
        raise UnsafeAddress(host, str(parsed), reason)
    return parsed


def _lookup_within(host: str, port: int, timeout: float) -> list[str]:
    # getaddrinfo has no timeout of its own; a daemon thread lets the caller give up without
    # blocking interpreter exit if the system resolver hangs.
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["addresses"] = lookup(host, port)
        except Exception as exc:  # noqa: BLE001 - handed back to the calling thread, which re-raises what it does not map.
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"netguard-lookup-{host}", daemon=True).start()
    if not done.wait(timeout):
        raise LookupFailed(f"DNS lookup of {host} timed out after {timeout:g} s.")
    error = box.get("error")
    if isinstance(error, socket.gaierror):
        if error.errno == socket.EAI_NONAME:
            raise LookupFailed(f"DNS lookup of {host} failed: the name does not exist.") from error
        if error.errno == socket.EAI_AGAIN:
            raise LookupFailed(f"DNS lookup of {host} failed: the DNS server did not answer, try again.") from error
        raise LookupFailed(f"DNS lookup of {host} failed: {error.strerror or error}.") from error
    if isinstance(error, OSError | UnicodeError):
        raise LookupFailed(f"DNS lookup of {host} failed: {error}.") from error
    if isinstance(error, BaseException):
        raise error
    return list(box["addresses"])  # type: ignore[call-overload]


def resolve_public(host: str, port: int, *, timeout: float = LOOKUP_TIMEOUT) -> list[IPAddress]:
    """Resolve host and return its addresses, raising UnsafeAddress if ANY of them is not public.

    IP literals are checked without a lookup. Raises LookupFailed when the name cannot be resolved
    within ``timeout`` seconds. Connect only to the addresses returned: resolving again would let
    DNS answer differently the second time.
    """
    host = host.strip("[]").rstrip(".") if host != "." else host
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return [check_address(literal, host=host)]
    addresses: list[IPAddress] = []
    for raw in _lookup_within(host, port, timeout):
        parsed = ipaddress.ip_address(raw.split("%")[0])
        if parsed not in addresses:
            addresses.append(parsed)
    if not addresses:
        raise LookupFailed(f"DNS lookup of {host} returned no address.")
    for address in addresses:
        check_address(address, host=host)
    return addresses
