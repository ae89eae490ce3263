"""Read what a fetched page says about itself: weight, sub-resources, compression, CDN cacheability and presence.

Every verdict carries its evidence (which header said what), so a readiness finding can show
the client the line to change rather than a bare "not cacheable".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from probes.http import ProbeHeaders, ProbeResult

COMPRESSING_ENCODINGS = frozenset({"gzip", "x-gzip", "br", "zstd", "deflate"})
LINK_RELS = {
    "stylesheet": "stylesheet",
    "preload": "preload",
    "modulepreload": "preload",
    "icon": "icon",
    "apple-touch-icon": "icon",
}
NOT_FETCHED_SCHEMES = ("data:", "blob:", "javascript:", "about:", "mailto:", "tel:")


@dataclass(frozen=True)
class Evidence:
    """One header (lower-case name, or "body") and what its value says."""

    header: str
    value: str
    says: str


@dataclass(frozen=True)
class Subresources:
    """Count the resources the HTML makes a browser fetch: one per element, distinct URLs only."""

    count: int
    by_kind: dict[str, int]
    urls: tuple[str, ...]


@dataclass(frozen=True)
class Compression:
    """Tell whether the page travelled compressed, and with which Content-Encoding."""

    compressed: bool
    encoding: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Cacheability:
    """Tell whether a CDN may keep the page, for how long, and what prevents it when it may not."""

    cacheable: bool
    ttl_seconds: int | None
    blockers: tuple[str, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class CdnPresence:
    """Tell whether a CDN or cache answered, which one when the headers say, and whether it was a hit."""

    detected: bool
    provider: str | None
    cache_hit: bool | None
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class PageFacts:
    """Sum up a fetched page: weight (decoded and on the wire), sub-resources, compression, CDN verdicts."""

    url: str
    page_bytes: int
    transfer_bytes: int
    body_truncated: bool
    is_html: bool
    subresources: Subresources
    compression: Compression
    cacheability: Cacheability
    cdn: CdnPresence


def page_facts(result: ProbeResult) -> PageFacts:
    """Return what the final answer of a fetch says about the page and its fitness for a CDN."""
    headers = result.headers
    content_type = headers.get("content-type", "")
    is_html = "html" in content_type.lower() or (not content_type and result.body.lstrip()[:1] == b"<")
    subresources = _subresources(result.body, content_type, result.final_url) if is_html else Subresources(0, {}, ())
    return PageFacts(
        url=result.final_url,
        page_bytes=len(result.body),
        transfer_bytes=result.bytes_received,
        body_truncated=result.body_truncated,
        is_html=is_html,
        subresources=subresources,
        compression=compression(headers),
        cacheability=cacheability(headers),
        cdn=cdn_presence(headers),
    )


# --- Sub-resources ---


class _ResourceParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.found: dict[str, str] = {}
        self.media_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href") and not self.found:
            self.base_url = urljoin(self.base_url, values["href"].strip())
        elif tag == "script":
            self._add(values.get("src"), "script")
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            kind = next((LINK_RELS[rel] for rel in rels if rel in LINK_RELS), None)
            if kind is not None:
                self._add(values.get("href"), kind)
        elif tag == "img":
            self._add(values.get("src") or _first_candidate(values.get("srcset")), "image")
        elif tag in {"video", "audio"}:
            self.media_depth += 1
            self._add(values.get("src"), "media")
            self._add(values.get("poster"), "image")
        elif tag == "source":
            kind = "media" if self.media_depth else "image"
            self._add(values.get("src") or _first_candidate(values.get("srcset")), kind)
        elif tag == "iframe":
            self._add(values.get("src"), "iframe")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"video", "audio"} and self.media_depth:
            self.media_depth -= 1

    def _add(self, reference: str | None, kind: str) -> None:
        reference = (reference or "").strip()
        if not reference or reference.startswith("#") or reference.lower().startswith(NOT_FETCHED_SCHEMES):
            return
        self.found.setdefault(urljoin(self.base_url, reference), kind)


def _first_candidate(srcset: str | None) -> str | None:
    first = (srcset or "").split(",")[0].strip()
    return first.split()[0] if first else None


def _charset(content_type: str) -> str:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def _subresources(body: bytes, content_type: str, base_url: str) -> Subresources:
    try:
        text = body.decode(_charset(content_type), errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    parser = _ResourceParser(base_url)
    parser.feed(text)
    parser.close()
    return Subresources(
        count=len(parser.found),
        by_kind=dict(Counter(parser.found.values())),
        urls=tuple(parser.found),
    )


# --- Compression ---


def compression(headers: ProbeHeaders) -> Compression:
    """Tell whether Content-Encoding says the body travelled compressed (gzip, br, zstd, deflate)."""
    value = headers.get("content-encoding", "")
    codings = [coding.strip().lower() for coding in value.split(",") if coding.strip()]
    used = [coding for coding in codings if coding in COMPRESSING_ENCODINGS]
    if used:
        says = f"the body travelled compressed with {', '.join(used)}"
    elif value:
        says = "this encoding does not compress"
    else:
        says = "absent: the body travelled uncompressed"
    return Compression(
        compressed=bool(used),
        encoding=", ".join(used),
        evidence=(Evidence("content-encoding", value, says),),
    )


# --- Cacheability for a CDN ---


def _cache_control(value: str) -> dict[str, str | None]:
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = argument.strip().strip('"') if argument else None
    return directives


def _seconds(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    return int(value)


def cacheability(headers: ProbeHeaders) -> Cacheability:
    """Tell whether a CDN may keep the answer: Cache-Control allows it, no Set-Cookie, Vary not * or Cookie."""
    evidence: list[Evidence] = []
    blockers: list[str] = []
    value = headers.get("cache-control", "")
    directives = _cache_control(value)
    for directive in ("private", "no-store", "no-cache"):
        if directive in directives:
            blockers.append(f"Cache-Control has {directive}")
    s_maxage = _seconds(directives.get("s-maxage"))
    max_age = _seconds(directives.get("max-age"))
    # s-maxage is the shared caches' own limit: it overrides max-age for a CDN.
    ttl = s_maxage if s_maxage is not None else max_age
    if ttl == 0:
        blockers.append(f"Cache-Control has {'s-maxage' if s_maxage is not None else 'max-age'}=0")
    allowed = "public" in directives or (ttl is not None and ttl > 0)
    if value:
        if blockers:
            says = "forbids a CDN to keep the page (" + "; ".join(blockers) + ")"
        elif allowed:
            says = "lets a CDN keep the page" + (f" for {ttl} s" if ttl else "")
        else:
            says = "gives a CDN no permission to keep the page (no public, s-maxage or max-age)"
        evidence.append(Evidence("cache-control", value, says))
    else:
        evidence.append(Evidence("cache-control", "", "absent: a CDN will not keep the page by default"))
    if not allowed and not any(blocker.startswith("Cache-Control") for blocker in blockers):
        blockers.append("Cache-Control gives no public, s-maxage or max-age")
    # Cookie values can be session secrets: the evidence names the cookies, never their values.
    cookies = [cookie.split("=", 1)[0].strip() for cookie in headers.get_all("set-cookie")]
    if cookies:
        blockers.append(f"Set-Cookie ({', '.join(cookies)})")
        evidence.append(
            Evidence("set-cookie", ", ".join(cookies), "a page that sets cookies is personal: a CDN must not share it")
        )
    vary = headers.get("vary", "")
    tokens = {token.strip().lower() for token in vary.split(",") if token.strip()}
    if tokens & {"*", "cookie"}:
        blockers.append(f"Vary: {vary}")
        evidence.append(Evidence("vary", vary, "a CDN would keep one copy per visitor, or none"))
    elif vary:
        evidence.append(Evidence("vary", vary, "a CDN keeps one copy per value of these request headers"))
    cacheable = allowed and not blockers
    return Cacheability(
        cacheable=cacheable,
        ttl_seconds=ttl if cacheable else None,
        blockers=tuple(blockers),
        evidence=tuple(evidence),
    )


# --- CDN presence ---

_HIT = re.compile(r"\b(hit|refreshhit|stale|revalidated|updating)\b", re.IGNORECASE)
_MISS = re.compile(r"\b(miss|expired|bypass|dynamic|pass|error)\b", re.IGNORECASE)


def _hit_or_miss(value: str) -> bool | None:
    if _HIT.search(value):
        return True
    if _MISS.search(value):
        return False
    return None


def cdn_presence(headers: ProbeHeaders) -> CdnPresence:
    """Tell whether a CDN or cache answered, from Age, X-Cache, CloudFront, Cloudflare, Fastly, Via and Server."""
    evidence: list[Evidence] = []
    votes: Counter[str] = Counter()
    hit: bool | None = None

    def note(header: str, says: str, provider: str | None = None) -> None:
        evidence.append(Evidence(header, headers[header], says))
        if provider:
            votes[provider] += 1

    if "age" in headers:
        note("age", f"a cache kept this answer for {headers['age']} s before sending it")
    if "x-cache" in headers:
        value = headers["x-cache"]
        hit = _hit_or_miss(value)
        note("x-cache", f"a cache answered ({_hit_word(hit)})", "CloudFront" if "cloudfront" in value.lower() else None)
    for header in ("x-amz-cf-id", "x-amz-cf-pop"):
        if header in headers:
            note(header, "CloudFront answered", "CloudFront")
    if "cf-cache-status" in headers:
        cloudflare_hit = _hit_or_miss(headers["cf-cache-status"])
        hit = cloudflare_hit if hit is None else hit
        note("cf-cache-status", f"Cloudflare's cache answered ({_hit_word(cloudflare_hit)})", "Cloudflare")
    if "cf-ray" in headers:
        note("cf-ray", "Cloudflare answered", "Cloudflare")
    if "x-served-by" in headers:
        value = headers["x-served-by"]
        note("x-served-by", "a Fastly cache node answered", "Fastly" if "cache-" in value.lower() else None)
    if "via" in headers:
        value = headers["via"].lower()
        provider = next(
            (
                name
                for key, name in (("cloudfront", "CloudFront"), ("varnish", "Varnish"), ("akamai", "Akamai"))
                if key in value
            ),
            None,
        )
        note("via", f"a proxy relayed the answer{f' ({provider})' if provider else ''}", provider)
    if "server" in headers:
        server = headers["server"].lower()
        for key, name in (("cloudfront", "CloudFront"), ("cloudflare", "Cloudflare"), ("akamaighost", "Akamai")):
            if key in server:
                note("server", f"{name} answered", name)
                break
    provider = votes.most_common(1)[0][0] if votes else None
    return CdnPresence(detected=bool(evidence), provider=provider, cache_hit=hit, evidence=tuple(evidence))


def _hit_word(hit: bool | None) -> str:
    if hit is None:
        return "hit or miss not said"
    return "hit" if hit else "miss"
