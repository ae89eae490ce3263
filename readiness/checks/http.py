"""HTTP readiness: what a viewer's browser meets at each landing URL, one check per concern.

Every check targets every landing URL and runs on the ``probes`` queue. All of them go through
``probes.http``, the one prober with the SSRF guard built in: a URL the guard refuses is a
``fail`` whose message is the guard's reason, and no request is sent.

The page is fetched once per URL and process and kept about a minute (``page``), so the checks
of one run share one request instead of sending nine; ``burst`` (the latency check) is never
kept. A network error is a ``fail`` for ``http.status`` (viewers cannot reach the site) and an
``error`` (could not check) for the checks that need the page.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import netguard
from probes import http as prober
from probes.pages import Evidence, PageFacts, page_facts
from readiness.models import Severity
from readiness.registry import Finding, register

# The trust store certificates are verified against: None is the system's (tests point it at their CA).
TRUST_STORE: prober.SslVerify = None

# One fetch serves every check of the URL; it must end well within the shortest watchdog (20 s).
FETCH_TIMEOUT = 10.0
FETCH_MAX_REDIRECTS = 5
# Enough to tell a page over the weight limit; the body itself is not kept (only what it says).
FETCH_MAX_BODY_BYTES = 2_000_000
PAGE_MEMO_SECONDS = 60.0
PAGE_MEMO_SIZE = 64

# Redirects: each hop is a round trip before the page.
MAX_REDIRECT_HOPS = 2

# Latency: a burst of 10 requests, 5 at a time; 2 waves of BURST_TIMEOUT fit the 40 s watchdog.
BURST_COUNT = 10
BURST_CONCURRENCY = 5
BURST_TIMEOUT = 8.0
LATENCY_PASS_MS = 800
LATENCY_WARN_MS = 2000
# Above this share of failed answers (errors, 5xx, 429) the burst fails; any failed answer warns.
BURST_FAILED_SHARE = 0.2

# Certificate: days left before the browser warning.
TLS_WARN_DAYS = 21
TLS_FAIL_DAYS = 3

# Page weight (the HTML document) and the number of resources it makes a browser fetch.
PAGE_MAX_BYTES = 1_000_000
PAGE_MAX_SUBRESOURCES = 100

# DNS: how long a changed record takes to reach visitors.
DNS_MAX_TTL = 300
DNS_LOOKUP_TIMEOUT = 3.0

CATEGORY = "http"


def _landing_urls(context) -> list[str]:
    return context.landing_urls


# --- One fetch per URL, shared by the checks ---


@dataclass(frozen=True)
class Page:
    """A fetch of a landing URL (without its body) and what the body said."""

    result: prober.ProbeResult
    facts: PageFacts


class PageMemo:
    """Keep recent fetches per URL, for a while and up to a size; one fetch at a time per URL.

    Thread-safe: checks of one run execute side by side in watchdog threads, and a check that
    asks for a URL another one is fetching waits for that fetch instead of sending its own.
    """

    def __init__(self, *, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[float, Page]] = OrderedDict()
        self._pending: dict[tuple[str, str], concurrent.futures.Future[Page]] = {}

    def get(self, key: tuple[str, str], load: Callable[[], Page]) -> Page:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
            pending = self._pending.get(key)
            loading = pending is None
            if loading:
                pending = self._pending[key] = concurrent.futures.Future()
        if not loading:
            # The other fetch ends within its own deadline; the margin covers reading the page.
            return pending.result(timeout=FETCH_TIMEOUT + 5)
        try:
            page = load()
        except BaseException as error:
            with self._lock:
                self._pending.pop(key, None)
            pending.set_exception(error)
            raise
        with self._lock:
            self._pending.pop(key, None)
            self._entries[key] = (time.monotonic() + self.seconds, page)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        pending.set_result(page)
        return page

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PAGES = PageMemo(seconds=PAGE_MEMO_SECONDS, size=PAGE_MEMO_SIZE)


def _trust_key() -> str:
    if TRUST_STORE is None or isinstance(TRUST_STORE, str):
        return TRUST_STORE or ""
    return f"{type(TRUST_STORE).__name__}:{id(TRUST_STORE)}"


def page(url: str) -> Page:
    """Return the fetch of url, from this process's memo when it is less than a minute old."""

    def load() -> Page:
        result = prober.fetch(
            url,
            timeout=FETCH_TIMEOUT,
            max_redirects=FETCH_MAX_REDIRECTS,
            max_body_bytes=FETCH_MAX_BODY_BYTES,
            verify=TRUST_STORE,
        )
        return Page(result=replace(result, body=b""), facts=page_facts(result))

    return PAGES.get((url, _trust_key()), load)


# --- Shared findings and evidence ---


def _refused(url: str, reason: str) -> Finding:
    return Finding.failed(
        reason,
        _(
            "Give the public address of the landing page, the one viewers will type (https://www.example.com/), "
            "in the event's landing URLs; internal, private and loopback addresses are never fetched."
        ),
        url=url,
        refused=True,
    )


def _could_not_check(url: str, result: prober.ProbeResult) -> Finding:
    return Finding.error(
        _("The page could not be fetched, so this could not be checked: %(why)s") % {"why": result.error},
        url=url,
        error=result.error,
        elapsed_ms=round(result.elapsed_ms),
    )


def _answered_with_error(url: str, result: prober.ProbeResult) -> Finding:
    return Finding.error(
        _("The page answered %(status)s, so this could not be judged on the real page (see the status check).")
        % {"status": result.status},
        url=url,
        status=result.status,
        final_url=result.final_url,
    )


def _page_or_finding(url: str, *, needs_success: bool = False) -> Page | Finding:
    """Return the fetched page, or the finding of a check that cannot judge it (refused, unreachable)."""
    fetched = page(url)
    result = fetched.result
    if result.refused:
        return _refused(url, result.error or _("The SSRF guard refused the address."))
    if result.error is not None or result.status is None:
        return _could_not_check(url, result)
    if needs_success and result.status >= 400:
        return _answered_with_error(url, result)
    return fetched


def _basics(url: str, result: prober.ProbeResult) -> dict:
    evidence: dict = {"url": url, "status": result.status}
    if result.final_url != url:
        evidence["final_url"] = result.final_url
    return evidence


def _headers(evidence: tuple[Evidence, ...]) -> list[dict[str, str]]:
    return [{"header": item.header, "value": item.value, "says": item.says} for item in evidence]


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


# --- The checks ---


@register(
    id="http.status",
    title=gettext_lazy("The landing page answers"),
    category=CATEGORY,
    severity=Severity.CRITICAL,
    timeout=20,
    targets=_landing_urls,
)
def status(context, target: str) -> Finding:
    result = page(target).result
    if result.refused:
        return _refused(target, result.error or _("The SSRF guard refused the address."))
    evidence = {
        **_basics(target, result),
        "redirects": [{"status": code, "location": location} for code, location in result.redirects],
        "elapsed_ms": _ms(result.elapsed_ms),
        "ttfb_ms": _ms(result.ttfb_ms),
        "peer_address": result.peer_address,
    }
    if result.error is not None or result.status is None:
        evidence["error"] = result.error
        return Finding.failed(
            _("Viewers cannot reach the page: %(why)s") % {"why": result.error},
            _(
                "Make the address answer from the internet before air: check its DNS record, the load balancer "
                "or CloudFront listener for this scheme and port, the security groups, and that the origin is up."
            ),
            **evidence,
        )
    if result.status >= 500:
        return Finding.failed(
            _("The page answers %(status)s: the server fails before any viewer arrives.") % {"status": result.status},
            _(
                "Find the error in the origin's logs (load balancer 5xx, application errors) and fix it; "
                "a page that fails with one visitor will not hold a TV audience."
            ),
            **evidence,
        )
    if result.status >= 400:
        return Finding.failed(
            _("The page answers %(status)s: viewers would land on an error.") % {"status": result.status},
            _(
                "Publish the page at this address, or correct the landing URL in the event to the address "
                "that will be shown on air (check paths, trailing slashes and any sign-in wall)."
            ),
            **evidence,
        )
    hops = len(result.redirects)
    if hops > MAX_REDIRECT_HOPS:
        return Finding.warn(
            _("The page answers %(status)s after %(hops)d redirects; each one is a round trip before the page.")
            % {"status": result.status, "hops": hops},
            _(
                "Show and link the final address (%(final)s) directly, or make the first address redirect "
                "to it in a single hop (one rule at CloudFront or the load balancer)."
            )
            % {"final": result.final_url},
            **evidence,
        )
    if hops:
        message = _("The page answers %(status)s after %(hops)d redirect(s).") % {
            "status": result.status,
            "hops": hops,
        }
    else:
        message = _("The page answers %(status)s.") % {"status": result.status}
    return Finding.passed(message, **evidence)


@register(
    id="http.latency",
    title=gettext_lazy("The landing page answers quickly under concurrent requests"),
    category=CATEGORY,
    severity=Severity.MAJOR,
    timeout=40,
    targets=_landing_urls,
)
def latency(context, target: str) -> Finding:
    fetched = _page_or_finding(target)
    if isinstance(fetched, Finding):
        return fetched
    sample = prober.burst(
        target, count=BURST_COUNT, concurrency=BURST_CONCURRENCY, timeout=BURST_TIMEOUT, verify=TRUST_STORE
    )
    if sample.refused:
        return _refused(target, sample.error or _("The SSRF guard refused the address."))
    failed_statuses = sum(count for code, count in sample.statuses.items() if code >= 500 or code == 429)
    failed = sample.errors + failed_statuses
    evidence = {
        "url": target,
        "requests": BURST_COUNT,
        "concurrency": BURST_CONCURRENCY,
        "samples": len(sample.samples_ms),
        "p50_ms": _ms(sample.p50_ms),
        "p95_ms": _ms(sample.p95_ms),
        "slowest_ms": _ms(sample.samples_ms[-1]) if sample.samples_ms else None,
        "errors": sample.errors,
        "failed_answers": failed,
        "statuses": {str(code): count for code, count in sorted(sample.statuses.items())},
        "limits_ms": {"pass_below": LATENCY_PASS_MS, "warn_below": LATENCY_WARN_MS},
    }
    if sample.error:
        evidence["first_error"] = sample.error
    speed_up = _(
        "Serve the landing page from CloudFront's edge with Cache-Control: public, s-maxage=60 so the origin "
        "is not on the path; if it must come from the origin, profile its slowest queries and scale the origin "
        "out before air."
    )
    hold_up = _(
        "The origin already fails under %(concurrency)d concurrent requests: put CloudFront in front with "
        "Cache-Control: public, s-maxage=60, and raise the origin's capacity (instances, connections, "
        "database pool) before air."
    ) % {"concurrency": BURST_CONCURRENCY}
    if failed / BURST_COUNT > BURST_FAILED_SHARE or sample.p95_ms is None:
        return Finding.failed(
            _("%(failed)d of %(count)d requests failed with %(concurrency)d at a time (%(why)s).")
            % {
                "failed": failed,
                "count": BURST_COUNT,
                "concurrency": BURST_CONCURRENCY,
                "why": sample.error or _("server errors"),
            },
            hold_up,
            **evidence,
        )
    p95 = round(sample.p95_ms)
    if p95 >= LATENCY_WARN_MS:
        return Finding.failed(
            _("95%% of answers took up to %(p95)d ms, above %(limit)d ms: viewers leave before the page shows.")
            % {"p95": p95, "limit": LATENCY_WARN_MS},
            speed_up,
            **evidence,
        )
    if failed:
        return Finding.warn(
            _("%(failed)d of %(count)d requests failed, %(concurrency)d at a time; 95%% answered within %(p95)d ms.")
            % {"failed": failed, "count": BURST_COUNT, "concurrency": BURST_CONCURRENCY, "p95": p95},
            hold_up,
            **evidence,
        )
    if p95 >= LATENCY_PASS_MS:
        return Finding.warn(
            _("95%% of answers took up to %(p95)d ms, above %(limit)d ms.") % {"p95": p95, "limit": LATENCY_PASS_MS},
            speed_up,
            **evidence,
        )
    return Finding.passed(
        _("95%% of %(count)d answers came within %(p95)d ms (median %(p50)d ms).")
        % {"count": BURST_COUNT, "p95": p95, "p50": round(sample.p50_ms)},
        **evidence,
    )


@register(
    id="http.tls",
    title=gettext_lazy("The landing page has a valid HTTPS certificate"),
    category=CATEGORY,
    severity=Severity.CRITICAL,
    timeout=20,
    targets=_landing_urls,
)
def tls(context, target: str) -> Finding:
    result = page(target).result
    if result.refused:
        return _refused(target, result.error or _("The SSRF guard refused the address."))
    info = result.tls
    if info is None:
        if result.error is not None or result.status is None:
            return _could_not_check(target, result)
        return Finding.warn(
            _("The page is served without HTTPS (%(url)s): browsers mark it “Not secure”.") % {"url": result.final_url},
            _(
                "Serve the page over HTTPS with a free ACM certificate on CloudFront or the load balancer, "
                "redirect http:// to https://, and use the https:// address as the landing URL."
            ),
            **_basics(target, result),
            tls=False,
        )
    evidence = {
        **_basics(target, result),
        "verified": bool(info.verified and not info.error),
        "days_left": info.days_left,
        "not_after": info.not_after.isoformat() if info.not_after else None,
        "issuer": info.issuer,
        "subject": info.subject,
        "names": list(info.names),
        "tls_version": info.version,
    }
    renew = _(
        "Renew the certificate now (an ACM certificate renews itself once its DNS validation record is in place) "
        "and deploy it on CloudFront or the load balancer before air."
    )
    if not info.verified or info.error:
        why = info.error or result.error or _("the certificate could not be verified")
        evidence["error"] = why
        return Finding.failed(
            _("Browsers will warn viewers away from the page: %(why)s") % {"why": why},
            _(
                "Install a certificate from a trusted authority that names this host, with its intermediate "
                "certificates (a free ACM certificate on CloudFront or the load balancer does both)."
            ),
            **evidence,
        )
    if info.days_left is None or info.days_left <= TLS_FAIL_DAYS:
        return Finding.failed(
            _("The certificate expires in %(days)s day(s): browsers will warn viewers away from the page.")
            % {"days": info.days_left},
            renew,
            **evidence,
        )
    if info.days_left <= TLS_WARN_DAYS:
        return Finding.warn(
            _("The certificate expires in %(days)d days.") % {"days": info.days_left},
            renew,
            **evidence,
        )
    return Finding.passed(
        _("The certificate is valid for %(days)d more days.") % {"days": info.days_left},
        **evidence,
    )


@register(
    id="http.http2",
    title=gettext_lazy("The landing page is served over HTTP/2"),
    category=CATEGORY,
    severity=Severity.MINOR,
    timeout=20,
    targets=_landing_urls,
)
def http2(context, target: str) -> Finding:
    fetched = _page_or_finding(target)
    if isinstance(fetched, Finding):
        return fetched
    result = fetched.result
    evidence = {**_basics(target, result), "http_version": result.http_version}
    if result.http_version == "HTTP/2":
        return Finding.passed(_("The page is served over HTTP/2."), **evidence)
    if urlsplit(result.final_url).scheme != "https":
        remediation = _(
            "Browsers speak HTTP/2 only over HTTPS: serve the page over HTTPS from CloudFront or the "
            "Application Load Balancer, which speak HTTP/2 to browsers."
        )
    else:
        remediation = _(
            "Turn HTTP/2 on where TLS ends: on the CloudFront distribution (supported HTTP versions) or the "
            "Application Load Balancer's HTTPS listener; on nginx, add http2 to the listen directive."
        )
    return Finding.warn(
        _("The page is served over %(version)s: every resource waits for a free connection.")
        % {"version": result.http_version or "HTTP/1"},
        remediation,
        **evidence,
    )


@register(
    id="http.compression",
    title=gettext_lazy("The landing page travels compressed"),
    category=CATEGORY,
    severity=Severity.MINOR,
    timeout=20,
    targets=_landing_urls,
)
def compression(context, target: str) -> Finding:
    fetched = _page_or_finding(target, needs_success=True)
    if isinstance(fetched, Finding):
        return fetched
    result, facts = fetched.result, fetched.facts
    evidence = {
        **_basics(target, result),
        "content_type": result.headers.get("content-type", ""),
        "content_encoding": facts.compression.encoding,
        "page_bytes": facts.page_bytes,
        "transfer_bytes": facts.transfer_bytes,
        "headers": _headers(facts.compression.evidence),
    }
    if not facts.is_html:
        return Finding.passed(
            _("The address serves %(type)s, not an HTML page; compression is only checked for HTML.")
            % {"type": evidence["content_type"] or _("no content type")},
            **evidence,
        )
    if facts.compression.compressed:
        return Finding.passed(
            _("The page travels compressed (%(encoding)s): %(transfer)d bytes on the wire for %(size)d.")
            % {"encoding": facts.compression.encoding, "transfer": facts.transfer_bytes, "size": facts.page_bytes},
            **evidence,
        )
    return Finding.warn(
        _("The page travels uncompressed (%(size)d bytes): every viewer downloads all of it.")
        % {"size": facts.page_bytes},
        _(
            "Turn compression on: “Compress objects automatically” on the CloudFront behaviour (with a cache "
            "policy that accepts gzip and Brotli), or gzip on; gzip_types text/html text/css application/javascript; "
            "in nginx."
        ),
        **evidence,
    )


@register(
    id="http.page_weight",
    title=gettext_lazy("The landing page is light"),
    category=CATEGORY,
    severity=Severity.MINOR,
    timeout=20,
    targets=_landing_urls,
)
def page_weight(context, target: str) -> Finding:
    fetched = _page_or_finding(target, needs_success=True)
    if isinstance(fetched, Finding):
        return fetched
    result, facts = fetched.result, fetched.facts
    evidence = {
        **_basics(target, result),
        "page_bytes": facts.page_bytes,
        "transfer_bytes": facts.transfer_bytes,
        "truncated": facts.body_truncated,
        "subresources": facts.subresources.count,
        "subresources_by_kind": dict(sorted(facts.subresources.by_kind.items())),
        "limits": {"page_bytes": PAGE_MAX_BYTES, "subresources": PAGE_MAX_SUBRESOURCES},
    }
    heavy = facts.body_truncated or facts.page_bytes > PAGE_MAX_BYTES
    busy = facts.subresources.count > PAGE_MAX_SUBRESOURCES
    size = (
        _("more than %(bytes)d bytes") % {"bytes": facts.page_bytes}
        if facts.body_truncated
        else _("%(bytes)d bytes") % {"bytes": facts.page_bytes}
    )
    if not heavy and not busy:
        return Finding.passed(
            _("The page weighs %(size)s and makes the browser fetch %(count)d resources.")
            % {"size": size, "count": facts.subresources.count},
            **evidence,
        )
    problems = []
    if heavy:
        problems.append(_("the HTML alone weighs %(size)s (limit %(limit)d)") % {"size": size, "limit": PAGE_MAX_BYTES})
    if busy:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(facts.subresources.by_kind.items()))
        problems.append(
            _("it makes the browser fetch %(count)d resources (%(kinds)s; limit %(limit)d)")
            % {"count": facts.subresources.count, "kinds": kinds, "limit": PAGE_MAX_SUBRESOURCES}
        )
    return Finding.warn(
        _("The page is heavy: %(problems)s.") % {"problems": "; ".join(problems)},
        _(
            "Trim the landing page for the broadcast: remove inline data and unused scripts, bundle scripts and "
            'styles, lazy-load images below the fold (loading="lazy"), and serve the assets from CloudFront.'
        ),
        **evidence,
    )


def _cache_remediation(blockers: tuple[str, ...]) -> str:
    steps = [
        _("Serve the landing page from CloudFront with Cache-Control: public, s-maxage=60"),
    ]
    text = " ".join(blockers).lower()
    if "set-cookie" in text:
        steps.append(
            _("send no Set-Cookie on it (set cookies on a later page, or from an uncached endpoint called by script)")
        )
    if "vary" in text:
        steps.append(_("remove Cookie and * from Vary"))
    if any(word in text for word in ("private", "no-store", "no-cache", "max-age=0")):
        steps.append(_("replace private, no-store, no-cache and max-age=0 in Cache-Control"))
    return "; ".join(steps) + "."


@register(
    id="http.cacheable",
    title=gettext_lazy("A CDN may cache the landing page"),
    category=CATEGORY,
    severity=Severity.MAJOR,
    timeout=20,
    targets=_landing_urls,
)
def cacheable(context, target: str) -> Finding:
    fetched = _page_or_finding(target, needs_success=True)
    if isinstance(fetched, Finding):
        return fetched
    result, facts = fetched.result, fetched.facts
    verdict = facts.cacheability
    evidence = {
        **_basics(target, result),
        "cacheable": verdict.cacheable,
        "ttl_seconds": verdict.ttl_seconds,
        "blockers": list(verdict.blockers),
        "headers": _headers(verdict.evidence),
    }
    if verdict.cacheable:
        return Finding.passed(
            _("A CDN may keep the page for %(ttl)s s, so it answers the spike instead of the origin.")
            % {"ttl": verdict.ttl_seconds if verdict.ttl_seconds is not None else "?"},
            **evidence,
        )
    return Finding.warn(
        _("A CDN may not keep the page, so every viewer reaches the origin: %(blockers)s.")
        % {"blockers": "; ".join(verdict.blockers)},
        _cache_remediation(verdict.blockers),
        **evidence,
    )


@register(
    id="http.cdn",
    title=gettext_lazy("A CDN serves the landing page"),
    category=CATEGORY,
    severity=Severity.MAJOR,
    timeout=20,
    targets=_landing_urls,
)
def cdn(context, target: str) -> Finding:
    fetched = _page_or_finding(target)
    if isinstance(fetched, Finding):
        return fetched
    result, facts = fetched.result, fetched.facts
    presence = facts.cdn
    evidence = {
        **_basics(target, result),
        "provider": presence.provider,
        "cache_hit": presence.cache_hit,
        "headers": _headers(presence.evidence),
        "server": result.headers.get("server", ""),
    }
    put_cdn = _(
        "Put a CloudFront distribution in front of the origin, point the landing page's DNS name at it "
        "(a Route 53 alias record), and let it cache the page (Cache-Control: public, s-maxage=60)."
    )
    if presence.detected and presence.provider:
        hit = {True: _("cache hit"), False: _("cache miss"), None: _("hit or miss not said")}[presence.cache_hit]
        return Finding.passed(
            _("%(provider)s answered (%(hit)s).") % {"provider": presence.provider, "hit": hit},
            **evidence,
        )
    if presence.detected:
        return Finding.warn(
            _("A cache answered, but no known CDN: check that it sits at the edge, not beside the origin."),
            put_cdn,
            **evidence,
        )
    return Finding.failed(
        _("No CDN answered: during the spike every request would reach the origin."),
        put_cdn,
        **evidence,
    )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@register(
    id="http.dns_ttl",
    title=gettext_lazy("A DNS change reaches visitors quickly"),
    category=CATEGORY,
    severity=Severity.MINOR,
    timeout=8,
    targets=_landing_urls,
)
def dns_ttl(context, target: str) -> Finding:
    parts = urlsplit(target)
    host = (parts.hostname or "").rstrip(".")
    try:
        netguard.validate_public_url(target)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValidationError as error:
        return _refused(target, _("%(url)s was refused: %(why)s") % {"url": target, "why": " ".join(error.messages)})
    except ValueError as error:
        return _refused(target, _("%(url)s was refused: %(why)s") % {"url": target, "why": error})
    evidence: dict = {"url": target, "host": host}
    if _is_ip_literal(host):
        return Finding.passed(
            _("The landing URL names an address (%(host)s), not a DNS name: there is no record to change.")
            % {"host": host},
            **evidence,
            ttl_seconds=None,
        )
    try:
        netguard.resolve_public(host, port, timeout=DNS_LOOKUP_TIMEOUT)
    except netguard.UnsafeAddress as error:
        return _refused(target, _("%(url)s was refused: %(why)s") % {"url": target, "why": error})
    except netguard.LookupFailed as error:
        return Finding.error(str(error), **evidence)
    try:
        ttl = prober.dns_ttl(host, lifetime=DNS_LOOKUP_TIMEOUT)
    except netguard.LookupFailed as error:
        return Finding.error(str(error), **evidence)
    evidence.update(ttl_seconds=ttl, limit_seconds=DNS_MAX_TTL)
    if ttl is not None and ttl > DNS_MAX_TTL:
        return Finding.warn(
            _("Resolvers may keep %(host)s's address for %(ttl)d s: a failover would take that long to reach visitors.")
            % {"host": host, "ttl": ttl},
            _(
                "Lower the TTL of %(host)s's A/AAAA records to %(limit)d s or less (60 s is usual), at least "
                "%(ttl)d s before air so the old value has expired everywhere; a Route 53 alias to CloudFront or "
                "the load balancer does this for you."
            )
            % {"host": host, "limit": DNS_MAX_TTL, "ttl": ttl},
            **evidence,
        )
    return Finding.passed(
        _("Resolvers keep %(host)s's address for %(ttl)s s at most.") % {"host": host, "ttl": ttl},
        **evidence,
    )
