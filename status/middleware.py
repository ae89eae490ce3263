"""The front door of public status pages: answer from the published snapshot before anything else runs.

First in MIDDLEWARE: a snapshot hit touches no session, no user, no database (so it keeps answering when
the database is down) and sets no cookie. Everything else (private pages, artifacts not rendered yet,
subscriptions) goes on to the views. Requests on a page's custom domain are routed to the same views.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from status import front, snapshots

PREFIX = "/status/"


class PublicStatusMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        portal_host = urlsplit(getattr(settings, "SITE_URL", "")).hostname or ""
        self.portal_hosts = {host.lstrip(".") for host in settings.ALLOWED_HOSTS if host != "*"} | {portal_host}

    def _route(self, request) -> tuple[str, str, bool] | None:
        path = request.path_info
        if path.startswith(PREFIX):
            slug, slash, rel = path[len(PREFIX) :].partition("/")
            return (slug, rel, False) if slug and slash else None
        host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].lower().rstrip(".")
        if not host or host in self.portal_hosts or any(host.endswith("." + name) for name in self.portal_hosts):
            return None
        slug = snapshots.slug_for_domain(host)
        return (slug, path.lstrip("/"), True) if slug else None

    def __call__(self, request):
        route = self._route(request)
        if route is None:
            return self.get_response(request)
        slug, rel, on_domain = route
        if request.method in ("GET", "HEAD"):
            meta = snapshots.page_meta(slug)
            if front.is_public(meta):
                key = front.wanted(rel, request.GET, meta.language)
                snapshot = snapshots.artifact(meta, key) if key is not None else None
                if snapshot is not None:
                    return front.respond(request, snapshot)
        if on_domain:
            host = request.META["HTTP_HOST"]
            request.urlconf = "status.urls_domain"
            request.status_page_slug = slug
            # The host is a page's verified custom domain: accept it although ALLOWED_HOSTS cannot list it.
            request.get_host = lambda: host
        return self.get_response(request)
