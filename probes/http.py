"""Fetch client URLs with the SSRF guard built in: the one HTTP prober of the project.

Every hop, the first and each redirect, is guarded (DESIGN.md, invariant 5): the URL is
validated (``netguard.validate_public_url``), the host is resolved once and every address is
checked (``netguard.resolve_public``), and the connection goes to an address that was checked.
The request keeps the real host name in the ``Host`` header, in TLS SNI and in certificate
verification, so a second DNS answer (DNS rebinding) can never choose where we connect.

``fetch`` never raises for network problems: it returns a ``ProbeResult`` whose ``error`` is a
sentence a person can act on. It raises only for programming errors (bad arguments).

The public functions are synchronous (Celery tasks call them). Inside, a private event loop
drives httpx's async transport so that an overall deadline can cancel any step, and ``burst``
can run requests side by side. Called from a thread that already runs an event loop, they run
in a thread of their own, and block that loop until they return.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import functools
import ipaddress
import math
import os
import ssl
import time
from collections import Counter
from collections.abc import Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import dns.exception
import dns.resolver
import httpx
from cryptography import x509
from django.core.exceptions import ValidationError
from httpx._decoders import SUPPORTED_DECODERS

from portal import netguard

USER_AGENT = "PrimetimeProbe/1.0 (+https://primetime.example/probe)"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Offer exactly the encodings this httpx install can decode (br and zstd need optional packages).
ACCEPT_ENCODING = ", ".join(name for name in SUPPORTED_DECODERS if name != "identity")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# When a name has several checked addresses, a refused or unreachable one is skipped for the next.
MAX_ADDRESSES_TRIED = 3
# httpx's own timeouts carry the precise message ("waiting for the answer"); the event loop's
# deadline, a little later, is the hard stop for anything they do not cover.
DEADLINE_GRACE = 0.25
BURST_MAX_COUNT = 200
BURST_MAX_CONCURRENCY = 20
DNS_LIFETIME = 3.0

# OpenSSL's X509_V_ERR_* codes that deserve a plainer sentence.
_CERT_NOT_YET_VALID = 9
_CERT_HAS_EXPIRED = 10
_DEPTH_ZERO_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNTRUSTED_ISSUER = (20, 21)
_CERT_REVOKED = 23
_HOSTNAME_MISMATCH = (62, 64)

T = TypeVar("T")
SslVerify = ssl.SSLContext | str | os.PathLike[str] | None


class ProbeHeaders(Mapping[str, str]):
    """Hold response headers: case-insensitive, in order, repeated fields kept.

    ``headers["set-cookie"]`` joins repeated values with ", " like HTTP does; ``get_all`` returns
    them one by one, which is what Set-Cookie needs.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: tuple[tuple[str, str], ...] = tuple((name.lower(), value) for name, value in items)

    def get_all(self, name: str) -> list[str]:
        """Return every value of a header, in the order received (an empty list when absent)."""
        name = name.lower()
        return [value for key, value in self._items if key == name]

    def items_all(self) -> tuple[tuple[str, str], ...]:
        """Return every (lower-case name, value) pair, repeated fields included."""
        return self._items

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(key == name.lower() for key, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for key, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(key for key, _ in self._items))

    def __repr__(self) -> str:
        return f"ProbeHeaders({list(self._items)!r})"


@dataclass(frozen=True)
class TlsInfo:
    """Describe the certificate a server presented and whether it verified against the host name."""

    verified: bool
    error: str | None = None
    not_after: datetime | None = None
    days_left: int | None = None
    issuer: str = ""
    subject: str = ""
    names: tuple[str, ...] = ()
    version: str = ""


@dataclass(frozen=True)
class ProbeResult:
    """Describe one fetch: what answered, how fast, over what, or why it failed or was refused.

    ``status``, ``headers`` and ``body`` are those of the final answer; ``status`` is None when
    there is none (error before an answer, or a redirect that was refused or not followed).
    ``elapsed_ms`` (to the end of the body) and ``ttfb_ms`` (to the final answer's headers) are
    measured from the call, so they include DNS, connection, TLS and redirects: what a visitor waits.
    """

    url: str
    final_url: str
    status: int | None = None
    http_version: str = ""
    headers: ProbeHeaders = field(default_factory=ProbeHeaders)
    body: bytes = b""
    body_truncated: bool = False
    bytes_received: int = 0
    elapsed_ms: float = 0.0
    ttfb_ms: float | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)
    peer_address: str = ""
    tls: TlsInfo | None = None
    error: str | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether a final answer arrived without error and with a status below 400."""
        return self.error is None and self.status is not None and self.status < 400


@dataclass(frozen=True)
class BurstResult:
    """Summarise a burst: latencies (sorted) of the answers that arrived, and what went wrong with the others."""

    samples_ms: list[float]
    p50_ms: float | None
    p95_ms: float | None
    errors: int
    statuses: Counter[int]
    error: str | None = None
    refused: bool = False


@dataclass
class _Progress:
    """What one fetch has learned so far, kept outside the hops so a deadline loses nothing."""

    url: str
    timeout: float
    started: float
    current_url: str = ""
    stage: str = "starting"
    status: int | None = None
    http_version: str = ""
    headers: ProbeHeaders = field(default_factory=ProbeHeaders)
    chunks: list[bytes] = field(default_factory=list)
    truncated: bool = False
    bytes_received: int = 0
    ttfb: float | None = None
    finished: float | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)
    peer_address: str = ""
    tls: TlsInfo | None = None
    error: str | None = None
    refused: bool = False

    def remaining(self) -> float:
        return self.started + self.timeout - time.monotonic()

    def new_hop(self, url: str) -> None:
        self.current_url = url
        self.status = None
        self.http_version = ""
        self.headers = ProbeHeaders()
        self.chunks = []
        self.truncated = False
        self.ttfb = None
        self.peer_address = ""
        self.tls = None

    def refuse(self, reason: str) -> None:
        what = f"The redirect to {self.current_url}" if self.redirects else self.current_url
        self.error = f"{what} was refused: {reason}"
        self.refused = True

    def result(self) -> ProbeResult:
        finished = self.finished if self.finished is not None else time.monotonic()
        return ProbeResult(
            url=self.url,
            final_url=self.current_url or self.url,
            status=self.status,
            http_version=self.http_version,
            headers=self.headers,
            body=b"".join(self.chunks),
            body_truncated=self.truncated,
            bytes_received=self.bytes_received,
            elapsed_ms=(finished - self.started) * 1000,
            ttfb_ms=None if self.ttfb is None else (self.ttfb - self.started) * 1000,
            redirects=list(self.redirects),
            peer_address=self.peer_address,
            tls=self.tls,
            error=self.error,
            refused=self.refused,
        )


def fetch(
    url: str,
    *,
    method: str = "GET",
    timeout: float = 10.0,
    max_redirects: int = 5,
    max_body_bytes: int = 5_000_000,
    headers: Mapping[str, str] | None = None,
    verify: SslVerify = None,
) -> ProbeResult:
    """Fetch url through the SSRF guard, following at most max_redirects redirects, within timeout seconds.

    ``verify`` is an ``ssl.SSLContext`` or the path of a CA bundle; by default the system's trust
    store. Certificates are always checked against the host name of the URL, never the address.
    """
    _check_arguments(timeout=timeout, max_redirects=max_redirects, max_body_bytes=max_body_bytes)
    return _run(
        _fetch(
            url,
            method=method.upper(),
            timeout=timeout,
            max_redirects=max_redirects,
            max_body_bytes=max_body_bytes,
            headers=dict(headers or {}),
            ssl_context=_ssl_context(verify),
        )
    )


def burst(
    url: str, *, count: int = 10, concurrency: int = 5, timeout: float = 10.0, verify: SslVerify = None
) -> BurstResult:
    """Fetch url count times, concurrency at a time, and return the latency percentiles of the answers.

    Each request has ``timeout`` seconds; the whole burst is bounded by the number of waves times
    ``timeout``. The host is checked once and every request goes to the checked addresses.
    Percentiles interpolate linearly between the closest samples; they are None without samples.
    """
    if not 1 <= count <= BURST_MAX_COUNT:
        raise ValueError(f"count must be between 1 and {BURST_MAX_COUNT}, not {count}.")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}.")
    _check_arguments(timeout=timeout, max_redirects=5, max_body_bytes=0)
    concurrency = min(concurrency, BURST_MAX_CONCURRENCY, count)
    return _run(_burst(url, count=count, concurrency=concurrency, timeout=timeout, ssl_context=_ssl_context(verify)))


def dns_resolver() -> dns.resolver.Resolver:
    """Return the DNS resolver ``dns_ttl`` asks (the system's configuration; tests replace this function)."""
    return dns.resolver.Resolver()


def dns_ttl(host: str, *, lifetime: float = DNS_LIFETIME) -> int | None:
    """Return how many seconds resolvers may cache host's address records: the smaller of A and AAAA.

    The TTL is the smallest along the CNAME chain, which is what a switch of address waits for.
    Return None for an IP literal, which has no record. Raise ``netguard.LookupFailed`` with the
    reason when the name cannot be resolved: no such name, no A/AAAA record, no DNS server
    configured or answering, or no answer within ``lifetime`` seconds.
    """
    host = host.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    try:
        resolver = dns_resolver()
    except dns.resolver.NoResolverConfiguration as exc:
        raise netguard.LookupFailed(f"DNS lookup of {host} failed: no DNS server is configured.") from exc
    deadline = time.monotonic() + lifetime
    ttls: list[int] = []
    for rdtype in ("A", "AAAA"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            answer = resolver.resolve(host, rdtype, lifetime=remaining, search=False)
        except dns.resolver.NXDOMAIN as exc:
            raise netguard.LookupFailed(f"DNS lookup of {host} failed: the name does not exist.") from exc
        except dns.resolver.NoAnswer:
            continue
        except dns.exception.Timeout as exc:
            raise netguard.LookupFailed(f"DNS lookup of {host} timed out after {lifetime:g} s.") from exc
        except dns.resolver.NoNameservers as exc:
            raise netguard.LookupFailed(f"DNS lookup of {host} failed: no DNS server gave an answer.") from exc
        except dns.exception.DNSException as exc:
            raise netguard.LookupFailed(f"DNS lookup of {host} failed: {exc}") from exc
        ttls.append(answer.chaining_result.minimum_ttl)
    if not ttls:
        raise netguard.LookupFailed(f"DNS lookup of {host} failed: the name has no A or AAAA record.")
    return min(ttls)


# --- Running the private event loop ---


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from inside an event loop (an async view, a notebook): run ours in a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _check_arguments(*, timeout: float, max_redirects: int, max_body_bytes: int) -> None:
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}.")
    if max_redirects < 0:
        raise ValueError(f"max_redirects must be 0 or more, not {max_redirects}.")
    if max_body_bytes < 0:
        raise ValueError(f"max_body_bytes must be 0 or more, not {max_body_bytes}.")


@functools.cache
def _system_ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _ssl_context(verify: SslVerify) -> ssl.SSLContext:
    if verify is None:
        return _system_ssl_context()
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str | os.PathLike):
        return ssl.create_default_context(cafile=os.fspath(verify))
    raise TypeError(f"verify must be an ssl.SSLContext or a CA bundle path, not {type(verify).__name__}.")


# --- One fetch ---


async def _fetch(
    url: str,
    *,
    method: str,
    timeout: float,
    max_redirects: int,
    max_body_bytes: int,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext,
    pinned: dict[str, list[netguard.IPAddress]] | None = None,
) -> ProbeResult:
    progress = _Progress(url=url, timeout=timeout, started=time.monotonic(), current_url=url)
    try:
        async with asyncio.timeout(timeout + DEADLINE_GRACE):
            await _follow(
                progress,
                method=method,
                max_redirects=max_redirects,
                max_body_bytes=max_body_bytes,
                headers=headers,
                ssl_context=ssl_context,
                pinned=pinned if pinned is not None else {},
            )
    except TimeoutError:
        progress.error = f"Timed out after {timeout:g} s {progress.stage}."
    return progress.result()


async def _follow(
    progress: _Progress,
    *,
    method: str,
    max_redirects: int,
    max_body_bytes: int,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext,
    pinned: dict[str, list[netguard.IPAddress]],
) -> None:
    current = progress.url
    while True:
        progress.new_hop(current)
        redirect = await _hop(
            progress,
            current,
            method=method,
            max_body_bytes=max_body_bytes,
            headers=headers,
            ssl_context=ssl_context,
            pinned=pinned,
        )
        if redirect is None:
            return
        status, location = redirect
        progress.redirects.append((status, location))
        try:
            target = str(httpx.URL(current).join(location))
        except httpx.InvalidURL:
            progress.status = None
            progress.error = f"The server redirected to {location!r}, which is not a valid address."
            return
        if len(progress.redirects) > max_redirects:
            progress.status = None
            progress.current_url = target
            progress.error = f"Stopped after {max_redirects} redirects; the next one pointed to {target}."
            return
        if method != "HEAD" and (status == 303 or (status in {301, 302} and method == "POST")):
            method = "GET"
        current = target


async def _hop(
    progress: _Progress,
    url_text: str,
    *,
    method: str,
    max_body_bytes: int,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext,
    pinned: dict[str, list[netguard.IPAddress]],
) -> tuple[int, str] | None:
    """Make one request of the chain; return (status, Location) when it answered with a redirect."""
    try:
        netguard.validate_public_url(url_text)
        url = httpx.URL(url_text)
    except ValidationError as exc:
        progress.refuse(" ".join(exc.messages))
        return None
    except httpx.InvalidURL as exc:
        progress.refuse(f"{exc}.")
        return None
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    progress.stage = f"looking up {host}"
    addresses = pinned.get(host)
    if addresses is None:
        try:
            addresses = netguard.resolve_public(host, port, timeout=_budget(progress, netguard.LOOKUP_TIMEOUT))
        except netguard.UnsafeAddress as exc:
            progress.refuse(str(exc))
            return None
        except netguard.LookupFailed as exc:
            progress.error = str(exc)
            return None
        pinned[host] = addresses
    tried = addresses[:MAX_ADDRESSES_TRIED]
    for index, address in enumerate(tried):
        progress.peer_address = str(address)
        try:
            return await _exchange(
                progress,
                url,
                host=host,
                port=port,
                address=address,
                method=method,
                max_body_bytes=max_body_bytes,
                headers=headers,
                ssl_context=ssl_context,
            )
        except httpx.TimeoutException as exc:
            progress.error = _describe_timeout(exc, progress, host=host, address=address, port=port)
            return None
        except httpx.ConnectError as exc:
            tls_error = _cause(exc, ssl.SSLError)
            if tls_error is not None:
                progress.error = _describe_tls_error(tls_error, host)
                progress.tls = await _tls_after_failure(
                    progress, address=address, port=port, host=host, error=progress.error
                )
                return None
            if index + 1 < len(tried):
                continue
            progress.error = _describe_connect_error(exc, host=host, address=address, port=port)
            return None
        except (httpx.HTTPError, OSError) as exc:
            progress.error = _describe_http_error(exc, progress, host=host)
            return None
    return None  # pragma: no cover - resolve_public never returns an empty list


def _budget(progress: _Progress, cap: float) -> float:
    remaining = progress.remaining()
    if remaining <= 0:
        raise TimeoutError
    return min(cap, remaining)


async def _exchange(
    progress: _Progress,
    url: httpx.URL,
    *,
    host: str,
    port: int,
    address: netguard.IPAddress,
    method: str,
    max_body_bytes: int,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext,
) -> tuple[int, str] | None:
    budget = _budget(progress, progress.timeout)
    request_headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING, **headers}
    # httpx would put the address in Host; the server must see the name the visitor typed.
    request_headers = {name: value for name, value in request_headers.items() if name.lower() != "host"}
    request_headers["Host"] = url.netloc.decode("ascii")
    extensions: dict[str, Any] = {}
    if url.scheme == "https" and not _is_ip_literal(host):
        # SNI and certificate verification use this name, not the address in the URL.
        extensions["sni_hostname"] = host
    extensions["timeout"] = httpx.Timeout(budget).as_dict()
    request = httpx.Request(method, url.copy_with(host=str(address)), headers=request_headers, extensions=extensions)
    # The transport, not the client: the client reads proxies from the environment and parses
    # Location itself even with redirects off. A fresh one per hop, so that a connection opened
    # (and verified) for one name is never reused for another.
    transport = httpx.AsyncHTTPTransport(
        verify=ssl_context, http2=True, limits=httpx.Limits(max_connections=1, max_keepalive_connections=0)
    )
    async with transport:
        progress.stage = f"connecting to {host} ({address}) port {port}"
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            progress.ttfb = time.monotonic()
            progress.status = response.status_code
            progress.http_version = response.http_version
            progress.headers = ProbeHeaders(response.headers.multi_items())
            if url.scheme == "https":
                progress.tls = _tls_from_stream(response.extensions.get("network_stream"), ssl_context)
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                return response.status_code, location
            progress.stage = f"reading the body from {host}"
            size = 0
            async for chunk in response.aiter_bytes():
                room = max_body_bytes - size
                if len(chunk) > room:
                    progress.chunks.append(chunk[:room])
                    progress.truncated = True
                    break
                progress.chunks.append(chunk)
                size += len(chunk)
            progress.finished = time.monotonic()
            return None
        finally:
            progress.bytes_received = response.num_bytes_downloaded
            await response.aclose()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --- Errors a person can act on ---


def _cause(exc: BaseException, kind: type[T]) -> T | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _describe_timeout(
    exc: httpx.TimeoutException, progress: _Progress, *, host: str, address: netguard.IPAddress, port: int
) -> str:
    limit = f"{progress.timeout:g} s"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"Timed out after {limit} connecting to {host} ({address}) port {port}."
    if isinstance(exc, httpx.WriteTimeout):
        return f"Timed out after {limit} sending the request to {host}."
    if progress.status is not None:
        return f"Timed out after {limit} reading the body from {host}."
    return f"Timed out after {limit} waiting for {host} to answer."


def _describe_connect_error(exc: httpx.ConnectError, *, host: str, address: netguard.IPAddress, port: int) -> str:
    where = f"{host} ({address}) port {port}" if host != str(address) else f"{address} port {port}"
    if _cause(exc, ConnectionRefusedError) is not None:
        return f"Connection refused by {where}: nothing listens there."
    os_error = _cause(exc, OSError)
    if os_error is not None and os_error.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}:
        return f"Cannot reach {where}: no network route to it."
    return f"Could not connect to {where}: {exc or type(exc).__name__}."


def _describe_http_error(exc: BaseException, progress: _Progress, *, host: str) -> str:
    if isinstance(exc, httpx.DecodingError):
        encoding = progress.headers.get("content-encoding", "?")
        return f"{host} sent a body that does not decode as its Content-Encoding ({encoding}) says."
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{host} broke the HTTP protocol or closed the connection early: {exc}."
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        moment = "while reading the body" if progress.status is not None else "before it answered"
        return f"The connection to {host} was cut {moment}: {exc or type(exc).__name__}."
    return f"Fetching from {host} failed: {exc or type(exc).__name__}."


def _describe_tls_error(error: ssl.SSLError, host: str) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        code = error.verify_code
        if code == _CERT_HAS_EXPIRED:
            return f"TLS certificate has expired: browsers refuse {host}."
        if code == _CERT_NOT_YET_VALID:
            return f"TLS certificate of {host} is not valid yet: check its start date and the server's clock."
        if code == _DEPTH_ZERO_SELF_SIGNED:
            return f"TLS certificate of {host} is self-signed: browsers do not trust it."
        if code == _SELF_SIGNED_IN_CHAIN or code in _UNTRUSTED_ISSUER:
            return (
                f"TLS certificate of {host} is not signed by a trusted authority "
                "(self-signed, or the server does not send its intermediate certificate)."
            )
        if code == _CERT_REVOKED:
            return f"TLS certificate of {host} has been revoked."
        if code in _HOSTNAME_MISMATCH:
            return f"TLS certificate is not valid for {host}: it names other hosts."
        return f"TLS certificate of {host} could not be verified: {error.verify_message}."
    return f"TLS handshake with {host} failed: {error.reason or error}."


# --- TLS facts ---


def _verifies(context: ssl.SSLContext) -> bool:
    return context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def _tls_from_stream(stream: Any, context: ssl.SSLContext) -> TlsInfo:
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return TlsInfo(verified=_verifies(context), error="The TLS session could not be inspected.")
    return _tls_info(
        ssl_object.getpeercert(binary_form=True),
        verified=_verifies(context),
        error=None,
        version=ssl_object.version() or "",
    )


def _tls_info(der: bytes | None, *, verified: bool, error: str | None, version: str) -> TlsInfo:
    if not der:
        return TlsInfo(verified=verified, error=error or "The server sent no certificate.", version=version)
    certificate = x509.load_der_x509_certificate(der)
    not_after = certificate.not_valid_after_utc
    names: list[str] = []
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        names = [*san.get_values_for_type(x509.DNSName), *map(str, san.get_values_for_type(x509.IPAddress))]
    return TlsInfo(
        verified=verified,
        error=error,
        not_after=not_after,
        days_left=math.floor((not_after - datetime.now(tz=UTC)).total_seconds() / 86400),
        issuer=certificate.issuer.rfc4514_string(),
        subject=certificate.subject.rfc4514_string(),
        names=tuple(names),
        version=version,
    )


async def _tls_after_failure(
    progress: _Progress, *, address: netguard.IPAddress, port: int, host: str, error: str
) -> TlsInfo:
    """Read the certificate that failed verification, over a handshake that sends nothing else."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    writer = None
    try:
        async with asyncio.timeout(_budget(progress, 5.0)):
            _, writer = await asyncio.open_connection(
                str(address), port, ssl=context, server_hostname=None if _is_ip_literal(host) else host
            )
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            version = ssl_object.version() if ssl_object is not None else ""
    except (OSError, TimeoutError):
        return TlsInfo(verified=False, error=error)
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
    return _tls_info(der, verified=False, error=error, version=version or "")


# --- Burst ---


async def _burst(url: str, *, count: int, concurrency: int, timeout: float, ssl_context: ssl.SSLContext) -> BurstResult:
    pinned: dict[str, list[netguard.IPAddress]] = {}
    # Check the first hop once before any request: a refused URL costs no request at all.
    try:
        netguard.validate_public_url(url)
        parts = httpx.URL(url)
        host = parts.raw_host.decode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pinned[host] = netguard.resolve_public(host, port, timeout=min(netguard.LOOKUP_TIMEOUT, timeout))
    except (ValidationError, httpx.InvalidURL, netguard.UnsafeAddress) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return BurstResult([], None, None, errors=count, statuses=Counter(), error=message, refused=True)
    except netguard.LookupFailed as exc:
        return BurstResult([], None, None, errors=count, statuses=Counter(), error=str(exc))

    gate = asyncio.Semaphore(concurrency)

    async def one() -> ProbeResult:
        async with gate:
            return await _fetch(
                url,
                method="GET",
                timeout=timeout,
                max_redirects=5,
                max_body_bytes=5_000_000,
                headers={},
                ssl_context=ssl_context,
                pinned=pinned,
            )

    waves = math.ceil(count / concurrency)
    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    done, pending = await asyncio.wait(tasks, timeout=waves * (timeout + DEADLINE_GRACE) + 1)
    for task in pending:
        task.cancel()
    results = [task.result() for task in done]
    samples = sorted(result.elapsed_ms for result in results if result.error is None)
    errors = [result.error for result in results if result.error is not None]
    return BurstResult(
        samples_ms=samples,
        p50_ms=_percentile(samples, 0.50),
        p95_ms=_percentile(samples, 0.95),
        errors=len(errors) + len(pending),
        statuses=Counter(result.status for result in results if result.status is not None),
        error=errors[0] if errors else ("The burst ran out of time." if pending else None),
        refused=any(result.refused for result in results),
    )


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
