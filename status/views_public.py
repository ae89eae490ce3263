"""Public status views behind the front door: private pages, first renders, and the database-down answer.

They never touch the session unless the page is for signed-in members, and never set a cookie.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from status import front, snapshots
from status.models import StatusPage
from status.publish import publish, render_artifact


def _slug(request, slug: str | None) -> str:
    return slug or request.status_page_slug


def _password_ok(request, page: StatusPage) -> bool:
    # HTTP Basic: the browser remembers it, so a private page needs no cookie either.
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        _user, _colon, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return page.check_password(password)


def _allowed(request, page: StatusPage):
    """Return None when the visitor may read the page, else the response that says how to get in."""
    if page.is_public:
        return None
    if page.visibility == StatusPage.Visibility.PASSWORD:
        if _password_ok(request, page):
            return None
        response = HttpResponse(_("This status page is private: give its password."), status=401)
        response["WWW-Authenticate"] = f'Basic realm="{page.slug}", charset="UTF-8"'
        response["Cache-Control"] = "private, no-store"
        return response
    user = request.user
    if user.is_authenticated and (user.is_engineer or (page.organization and page.organization.role_of(user))):
        return None
    if user.is_authenticated:
        raise Http404
    return redirect_to_login(request.get_full_path())


def unavailable(request) -> HttpResponse:
    body = render_to_string("status/public/unavailable.html", {"language": "en"})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def _serve(request, slug: str | None, rel: str) -> HttpResponse:
    slug = _slug(request, slug)
    try:
        page = StatusPage.objects.filter(slug=slug).first()
        if page is None:
            raise Http404
        refusal = _allowed(request, page)
        if refusal is not None:
            return refusal
        key = front.wanted(rel, request.GET, page.language)
        if key is None:
            raise Http404
        meta = snapshots.page_meta(slug)
        if meta is None:
            publish(page.pk)  # first visit before the first publish
            snapshots.forget(slug)
            meta = snapshots.page_meta(slug)
        snapshot = snapshots.artifact(meta, key) if meta else None
        if snapshot is None:
            snapshot = render_artifact(page, key)
        if snapshot is None:
            raise Http404
    except DatabaseError:
        return unavailable(request)
    return front.respond(request, snapshot, private=not page.is_public)


@require_safe
@csrf_exempt
def page_view(request, slug=None):
    return _serve(request, slug, "")


@require_safe
@csrf_exempt
def incident_view(request, public_id, slug=None):
    return _serve(request, slug, f"incidents/{public_id}/")


@require_safe
@csrf_exempt
def history_view(request, slug=None):
    return _serve(request, slug, "history/")


@require_safe
@csrf_exempt
def artifact_view(request, name, slug=None):
    return _serve(request, slug, name)


def not_found(request, exception=None) -> HttpResponse:
    return HttpResponse(_("Nothing here. Go back to the status page: /"), status=404, content_type="text/plain")


def server_error(request) -> HttpResponse:
    return unavailable(request)
