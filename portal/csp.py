"""Content Security Policy of the portal's own pages (Django 5.2 has none built in).

Scripts come only from our static files: no inline script, no eval, no third-party origin, so markup
smuggled into a page cannot run. Inline ``style`` attributes stay allowed (templates use them for widths
and colours; a style cannot run code). Public status pages set their own, stricter policy per snapshot,
which this one never replaces.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Add the portal's CSP to every answer that does not already carry one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = POLICY
        return response
