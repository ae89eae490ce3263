"""page_facts: weight, sub-resources, compression, CDN cacheability and CDN presence, with their evidence."""

from __future__ import annotations

import pytest

from probes import http
from probes.http import ProbeHeaders, ProbeResult
from probes.pages import page_facts
from tests.probes import gzipped, serve

HTML = b"""<!doctype html>
<html><head>
  <base href="https://www.example.com/shop/">
  <link rel="stylesheet" href="/css/site.css">
  <link rel="preload" href="/fonts/a.woff2" as="font">
  <link rel="shortcut icon" href="/favicon.ico">
  <link rel="canonical" href="https://www.example.com/">
  <script src="/js/app.js"></script>
  <script src="/js/app.js"></script>
  <script>window.inline = true;</script>
</head><body>
  <img src="hero.jpg" alt="">
  <img srcset="small.jpg 480w, large.jpg 1080w" alt="">
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
  <picture><source srcset="hero.webp"><img src="hero.jpg"></picture>
  <video poster="poster.jpg"><source src="clip.mp4" type="video/mp4"></video>
  <audio src="jingle.mp3"></audio>
  <iframe src="https://player.example.net/embed/1"></iframe>
  <a href="/not-a-resource">link</a>
</body></html>"""


def result_with(headers: list[tuple[str, str]], body: bytes = HTML, status: int = 200) -> ProbeResult:
    return ProbeResult(
        url="https://www.example.com/",
        final_url="https://www.example.com/",
        status=status,
        http_version="HTTP/2",
        headers=ProbeHeaders([("Content-Type", "text/html; charset=utf-8"), *headers]),
        body=body,
        bytes_received=len(body) // 3,
    )


def test_subresources_are_counted_once_each_with_their_kind():
    facts = page_facts(result_with([]))
    assert facts.is_html
    assert facts.page_bytes == len(HTML)
    assert facts.transfer_bytes == len(HTML) // 3
    assert facts.subresources.by_kind == {
        "stylesheet": 1,
        "preload": 1,
        "icon": 1,
        "script": 1,
        "image": 4,
        "media": 2,
        "iframe": 1,
    }
    assert facts.subresources.count == 11  # hero.jpg twice counts once, the data: image not at all
    urls = facts.subresources.urls
    assert "https://www.example.com/css/site.css" in urls
    assert "https://www.example.com/shop/hero.jpg" in urls
    assert "https://www.example.com/shop/small.jpg" in urls
    assert "https://www.example.com/canonical" not in urls
    assert not any(url.startswith("data:") for url in urls)


def test_a_page_that_is_not_html_has_no_subresources():
    result = ProbeResult(
        url="https://api.example.com/health",
        final_url="https://api.example.com/health",
        status=200,
        headers=ProbeHeaders([("Content-Type", "application/json")]),
        body=b'{"ok": true, "html": "<script src=x.js>"}',
    )
    facts = page_facts(result)
    assert not facts.is_html
    assert facts.subresources.count == 0


@pytest.mark.parametrize(
    ("encoding", "compressed"),
    [("gzip", True), ("br", True), ("zstd", True), ("identity", False), (None, False)],
)
def test_compression_is_read_from_content_encoding(encoding, compressed):
    headers = [("Content-Encoding", encoding)] if encoding else []
    verdict = page_facts(result_with(headers)).compression
    assert verdict.compressed is compressed
    assert verdict.evidence[0].header == "content-encoding"
    assert verdict.evidence[0].value == (encoding or "")


def test_public_page_with_max_age_is_cacheable():
    verdict = page_facts(
        result_with([("Cache-Control", "public, max-age=300"), ("Vary", "Accept-Encoding")])
    ).cacheability
    assert verdict.cacheable
    assert verdict.ttl_seconds == 300
    assert verdict.blockers == ()
    assert verdict.evidence[0].header == "cache-control"
    assert verdict.evidence[0].says == "lets a CDN keep the page for 300 s"


def test_s_maxage_is_the_cdn_limit():
    assert page_facts(result_with([("Cache-Control", "max-age=0, s-maxage=600")])).cacheability.ttl_seconds == 600
    assert not page_facts(result_with([("Cache-Control", "max-age=600, s-maxage=0")])).cacheability.cacheable


def test_set_cookie_makes_a_page_uncacheable_without_revealing_the_cookie():
    headers = [("Cache-Control", "public, max-age=300"), ("Set-Cookie", "session=s3cr3t; HttpOnly")]
    verdict = page_facts(result_with(headers)).cacheability
    assert not verdict.cacheable
    assert verdict.ttl_seconds is None
    assert verdict.blockers == ("Set-Cookie (session)",)
    assert [(item.header, item.value) for item in verdict.evidence][1] == ("set-cookie", "session")
    assert "s3cr3t" not in repr(verdict)


@pytest.mark.parametrize(
    ("headers", "blocker"),
    [
        ([("Cache-Control", "no-store")], "Cache-Control has no-store"),
        ([("Cache-Control", "private, max-age=60")], "Cache-Control has private"),
        ([("Cache-Control", "no-cache, max-age=60")], "Cache-Control has no-cache"),
        ([("Cache-Control", "max-age=0")], "Cache-Control has max-age=0"),
        ([], "Cache-Control gives no public, s-maxage or max-age"),
        (
            [("Cache-Control", "public, max-age=60"), ("Vary", "Accept-Encoding, Cookie")],
            "Vary: Accept-Encoding, Cookie",
        ),
        ([("Cache-Control", "public, max-age=60"), ("Vary", "*")], "Vary: *"),
    ],
)
def test_what_prevents_a_cdn_from_keeping_the_page_is_named(headers, blocker):
    verdict = page_facts(result_with(headers)).cacheability
    assert not verdict.cacheable
    assert blocker in verdict.blockers


def test_cloudfront_is_recognised_with_its_evidence():
    headers = [
        ("X-Cache", "Hit from cloudfront"),
        ("Via", "1.1 0123abcd.cloudfront.net (CloudFront)"),
        ("X-Amz-Cf-Pop", "CDG50-C1"),
        ("X-Amz-Cf-Id", "abc=="),
        ("Age", "42"),
    ]
    cdn = page_facts(result_with(headers)).cdn
    assert cdn.detected
    assert cdn.provider == "CloudFront"
    assert cdn.cache_hit is True
    assert {item.header for item in cdn.evidence} == {"x-cache", "via", "x-amz-cf-pop", "x-amz-cf-id", "age"}
    assert next(item for item in cdn.evidence if item.header == "age").value == "42"


def test_cloudflare_miss_is_recognised():
    cdn = page_facts(result_with([("Server", "cloudflare"), ("CF-Cache-Status", "MISS"), ("CF-Ray", "8a-CDG")])).cdn
    assert cdn.provider == "Cloudflare"
    assert cdn.cache_hit is False


def test_fastly_is_recognised():
    cdn = page_facts(result_with([("X-Served-By", "cache-par-lfpg1960020-PAR"), ("X-Cache", "HIT")])).cdn
    assert cdn.provider == "Fastly"
    assert cdn.cache_hit is True


def test_an_origin_without_cdn_headers_has_no_cdn():
    cdn = page_facts(result_with([("Server", "nginx/1.27")])).cdn
    assert not cdn.detected
    assert cdn.provider is None
    assert cdn.cache_hit is None
    assert cdn.evidence == ()


def test_facts_of_a_real_gzipped_page(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    with serve({"/": gzipped(HTML)}) as server:
        facts = page_facts(http.fetch(f"{server.url}/"))
    assert facts.compression.compressed
    assert facts.compression.encoding == "gzip"
    assert facts.page_bytes == len(HTML)
    assert facts.transfer_bytes < facts.page_bytes
    assert facts.subresources.count == 11
