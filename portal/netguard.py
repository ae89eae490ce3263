"""The first line of the SSRF guard: refuse URLs a client gives that point inside.

``validate_public_url`` runs when a URL is saved: scheme, credentials and host
literals. Workers must still resolve the host and check every address before
fetching (DNS can change after saving); that check lives with the HTTP prober.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".intranet", ".lan")
BLOCKED_HOSTS = {"localhost", "metadata", "metadata.google.internal", "instance-data"}


def ip_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Tell whether an address is routable on the internet (not private, loopback, link-local, metadata...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


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
