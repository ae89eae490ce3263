"""Public subscription pages of a status page: subscribe (e-mail or webhook), confirm, unsubscribe.

Served to anyone, under /status/<slug>/ or at the root of the page's custom domain, so they stay
stateless: no session, no CSRF cookie, no messages, no ``request.user`` (templates render without the
request's context processors). Forms post without a CSRF token; what protects them is double opt-in,
signed links and rate limits per client address and per page. Confirming takes a POST, like
unsubscribing: mail scanners that open every link must not subscribe anyone.

Each view answers JSON when the client sends JSON or asks only for it, and HTML otherwise, in the
page's language.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal.http import client_ip
from status import subscriptions
from status.models import Component, StatusPage, Subscriber
from status.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER
from status.statuspage import page_url

FORM_MAX_AGE = 60
TEMPLATES = "status/subscriptions"
# From subscriptions/<token>/<action>/ back to the page's root.
LINK_ROOT = "../../../"


# --- Request helpers -----------------------------------------------------------------------


def _page(request: HttpRequest, slug: str | None) -> StatusPage:
    slug = slug or getattr(request, "status_page_slug", None)
    page = StatusPage.objects.filter(slug=slug, visibility=StatusPage.Visibility.PUBLIC).first() if slug else None
    if page is None:
        raise Http404
    return page


def wants_json(request: HttpRequest) -> bool:
    if request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _input(request: HttpRequest) -> dict[str, Any]:
    """Read email, endpoint and components from a JSON body or a form, or raise a field-named error."""
    if request.content_type != "application/json":
        return {
            "email": request.POST.get("email", ""),
            "endpoint": request.POST.get("endpoint", ""),
            "components": request.POST.getlist("components"),
        }
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": _('Send a JSON object, like {"email": "you@example.com"}.')}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": _('Send a JSON object, like {"email": "you@example.com"}.')})
    errors: dict[str, str] = {}
    for field in ("email", "endpoint"):
        if not isinstance(data.get(field) or "", str):
            errors[field] = _("Give a string.")
    components = data.get("components") or []
    if not isinstance(components, list) or not all(isinstance(value, str) for value in components):
        errors["components"] = _('Give a list of component ids, like ["8kbf7d35c070"].')
    if errors:
        raise ValidationError(errors)
    return {"email": data.get("email") or "", "endpoint": data.get("endpoint") or "", "components": components}


# --- Responses ----------------------------------------------------------------------------


def _language(request: HttpRequest, page: StatusPage) -> str:
    """Return the language asked for with ?lang= (as on the public page), else the page's."""
    language = request.GET.get("lang")
    return language if language in StatusPage.Language.values else page.language


def _html(page: StatusPage, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    language = translation.get_language()
    # No request: no context processor may touch the session, the user or the CSRF cookie.
    context = {"page": page, "page_url": page_url(page), "language": language, "root": "../", **context}
    response = HttpResponse(render_to_string(f"{TEMPLATES}/{template}", context), status=status)
    response["Content-Language"] = language
    response["X-Robots-Tag"] = "noindex"
    return response


def _json(page: StatusPage, data: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Content-Language"] = translation.get_language()
    response["X-Robots-Tag"] = "noindex"
    return response


def _too_many(page: StatusPage, wait: int, *, as_json: bool, root: str = "../") -> HttpResponse:
    message = _("Too many requests from your address or to this page: try again in %(seconds)d seconds.") % {
        "seconds": wait
    }
    if as_json:
        response = _json(page, {"detail": message}, status=429)
    else:
        response = _html(page, "rate_limited.html", {"message": message, "root": root}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _form_context(page: StatusPage, **extra: Any) -> dict[str, Any]:
    components = Component.objects.filter(page=page).select_related("group").order_by("position", "pk")
    return {
        "components": components,
        "chosen": set(extra.pop("chosen", []) or []),
        "signature_header": SIGNATURE_HEADER,
        "timestamp_header": TIMESTAMP_HEADER,
        **extra,
    }


def _link_error(page: StatusPage, error: subscriptions.LinkError, *, as_json: bool) -> HttpResponse:
    status = 410 if error.expired else 400
    if as_json:
        return _json(page, {"token": [error.message]}, status=status)
    context = {"message": error.message, "expired": error.expired, "root": LINK_ROOT}
    return _html(page, "link_error.html", context, status=status)


# --- Views --------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Show the subscribe forms; subscribe an e-mail address (to confirm) or a webhook endpoint."""
    page = _page(request, slug)
    with translation.override(_language(request, page)):
        if request.method != "POST":
            response = _html(page, "subscribe.html", _form_context(page))
            patch_cache_control(response, public=True, max_age=FORM_MAX_AGE)
            return response
        response = _subscribe(request, page)
    patch_cache_control(response, no_store=True, private=True)
    return response


def _subscribe(request: HttpRequest, page: StatusPage) -> HttpResponse:
    as_json = wants_json(request)
    wait = subscriptions.subscribe_rate_limited(page=page, client_ip=client_ip(request) or "unknown")
    if wait is not None:
        return _too_many(page, wait, as_json=as_json)
    data: dict[str, Any] = {}
    try:
        data = _input(request)
        email, endpoint = data["email"].strip(), data["endpoint"].strip()
        if email and endpoint:
            raise ValidationError({"endpoint": _("Give an e-mail address or a webhook URL, not both.")})
        if endpoint:
            subscriber, secret = subscriptions.subscriber_subscribe_webhook(
                page=page, endpoint=endpoint, component_ids=data["components"]
            )
        else:
            subscriptions.subscriber_subscribe_email(page=page, email=email, component_ids=data["components"])
    except ValidationError as error:
        errors = error.message_dict
        if as_json:
            return _json(page, errors, status=400)
        context = _form_context(page, errors=errors, values=data, chosen=data.get("components"))
        return _html(page, "subscribe.html", context, status=400)
    if endpoint:
        return _webhook_created(page, subscriber, secret, as_json=as_json)
    message = _("Check your inbox: we sent a link to confirm the subscription. Nothing is sent until you click it.")
    if as_json:
        return _json(page, {"status": "pending", "detail": message}, status=202)
    context = {"message": message, "email": email, "valid_days": subscriptions.CONFIRM_MAX_AGE.days}
    return _html(page, "pending.html", context)


def _webhook_created(page: StatusPage, subscriber: Subscriber, secret: str, *, as_json: bool) -> HttpResponse:
    components = list(subscriber.components.values_list("public_id", flat=True))
    unsubscribe = subscriptions.unsubscribe_url(subscriber=subscriber)
    if as_json:
        data = {
            "id": subscriber.public_id,
            "endpoint": subscriber.endpoint,
            "components": components,
            "secret": secret,
            "unsubscribe": unsubscribe,
            "signature": {
                "header": SIGNATURE_HEADER,
                "timestamp_header": TIMESTAMP_HEADER,
                "scheme": "sha256=hex(HMAC-SHA256(secret, timestamp + '.' + raw body))",
            },
            "detail": _("Keep the secret now: it is shown only once."),
        }
        return _json(page, data, status=201)
    context = {"subscriber": subscriber, "secret": secret, "unsubscribe_url": unsubscribe, "components": components}
    context.update(signature_header=SIGNATURE_HEADER, timestamp_header=TIMESTAMP_HEADER)
    return _html(page, "webhook_created.html", context, status=201)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str, slug: str | None = None) -> HttpResponse:
    """Show the confirm button of an e-mail subscription (GET); confirm it (POST)."""
    page = _page(request, slug)
    as_json = wants_json(request)
    with translation.override(_language(request, page)):
        wait = subscriptions.link_rate_limited(client_ip=client_ip(request) or "unknown")
        if wait is not None:
            return _too_many(page, wait, as_json=as_json, root=LINK_ROOT)
        try:
            if request.method != "POST":
                # Checked now, so an expired link says so before anyone clicks.
                subscriptions.subscriber_confirm_check(page=page, token=token)
                return _html(page, "confirm.html", {"root": LINK_ROOT})
            subscriber = subscriptions.subscriber_confirm(page=page, token=token)
        except subscriptions.LinkError as error:
            return _link_error(page, error, as_json=as_json)
        if as_json:
            return _json(page, {"status": "confirmed"})
        components = list(subscriber.components.all())
        unsubscribe = subscriptions.unsubscribe_url(subscriber=subscriber)
        context = {"components": components, "unsubscribe_url": unsubscribe, "root": LINK_ROOT}
        return _html(page, "confirmed.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str, slug: str | None = None) -> HttpResponse:
    """Show the unsubscribe button (GET); unsubscribe (POST, also RFC 8058 one-click from mail clients)."""
    page = _page(request, slug)
    as_json = wants_json(request)
    with translation.override(_language(request, page)):
        wait = subscriptions.link_rate_limited(client_ip=client_ip(request) or "unknown")
        if wait is not None:
            return _too_many(page, wait, as_json=as_json, root=LINK_ROOT)
        try:
            subscriber = subscriptions.subscriber_for_unsubscribe(page=page, token=token)
        except subscriptions.LinkError as error:
            return _link_error(page, error, as_json=as_json)
        if request.method != "POST":
            return _html(page, "unsubscribe.html", {"subscriber": subscriber, "root": LINK_ROOT})
        subscriptions.subscriber_unsubscribe(subscriber=subscriber)
        if as_json:
            return _json(page, {"status": "unsubscribed"})
        return _html(page, "unsubscribed.html", {"root": LINK_ROOT})
