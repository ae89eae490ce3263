from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request) -> str | None:
    """Return the visitor's address: REMOTE_ADDR, or the one the trusted proxies (``PROXY_COUNT``) recorded.

    Behind a load balancer and nginx every request comes from them; the sign-in lockout and the public
    rate limits need the visitor's own address, which the last trusted proxy appended to X-Forwarded-For.
    """
    proxies = int(getattr(settings, "PROXY_COUNT", 0) or 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    # None when unknown (a request built by hand, as force_login does): axes stores it in an IP field.
    return request.META.get("REMOTE_ADDR") or None


def safe_next_url(request, default: str) -> str:
    """Return the form's ``next`` address when it stays on this site, else the default."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, {request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class RefuseNulMiddleware:
    """Answer 404 to an address with a NUL character: nothing can be named so, and PostgreSQL (or the file
    system of the status snapshots) raises on one, which answered 500 (found by schemathesis, issue 8 scenario 8).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404
        return self.get_response(request)
