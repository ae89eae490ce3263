"""Answering public status requests from snapshots: which artifact a request wants, and the response.

Shared by the front-door middleware (no database) and the fallback views (database, for private pages
and artifacts not rendered yet).
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified

from status.publish import LANGUAGES, artifact_path
from status.snapshots import PageMeta, Snapshot

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
INCIDENT = re.compile(r"^incidents/[a-z0-9]{12}/$")
PLAIN = {
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
    "feed.atom",
    "feed.rss",
    "badge.svg",
}


def wanted(rel: str, query, default_language: str) -> str | None:
    """Return the store key for a request path under the page root, or None when it is not an artifact.

    Unknown query parameters are ignored, so cache-busting parameters do not miss the snapshot.
    """
    if rel in PLAIN:
        return rel
    language = query.get("lang")
    language = language if language in LANGUAGES else default_language
    if rel == "" or INCIDENT.match(rel):
        return artifact_path(rel, language=language)
    if rel == "history/":
        month = query.get("month")
        return artifact_path(rel, language=language, month=month if month and MONTH.match(month) else None)
    return None


def _not_modified(request, snapshot: Snapshot, etag: str) -> bool:
    match = request.META.get("HTTP_IF_NONE_MATCH")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or etag in tags or snapshot.etag in tags
    since = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return parsedate_to_datetime(since).timestamp() >= int(snapshot.published_at)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def cache_control(*, private: bool) -> str:
    if private:
        return "private, no-cache"
    return (
        f"public, max-age={settings.STATUS_MAX_AGE}, stale-while-revalidate={settings.STATUS_MAX_AGE * 4}, "
        "stale-if-error=86400"
    )


def respond(request, snapshot: Snapshot, *, private: bool = False) -> HttpResponse:
    """Answer with the snapshot: gzip when accepted, 304 when the client has it, cache and CORS headers."""
    use_gzip = snapshot.gzipped is not None and "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")
    etag = snapshot.etag[:-1] + '-gzip"' if use_gzip else snapshot.etag
    common = {
        "ETag": etag,
        "Last-Modified": snapshot.last_modified,
        "Cache-Control": cache_control(private=private),
        "Vary": "Accept-Encoding",
    }
    if _not_modified(request, snapshot, etag):
        response = HttpResponseNotModified()
        for name, value in common.items():
            response[name] = value
        return response
    body = snapshot.gzipped if use_gzip else snapshot.body
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=snapshot.content_type)
    response["Content-Length"] = str(len(body))
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    for name, value in {**common, **snapshot.headers}.items():
        if value:
            response[name] = value
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    if "Content-Security-Policy" not in response:
        # JSON, feeds and the badge: nothing in them may run, nor be framed, if opened directly.
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if getattr(settings, "SECURE_HSTS_SECONDS", 0):
        response["Strict-Transport-Security"] = f"max-age={settings.SECURE_HSTS_SECONDS}; includeSubDomains"
    return response


def is_public(meta: PageMeta | None) -> bool:
    return meta is not None and meta.visibility == "public"
