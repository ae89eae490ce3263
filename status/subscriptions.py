"""Subscriptions to a status page: e-mail with double opt-in, webhooks with a secret, and unsubscribing.

An e-mail address is only ever written to after its owner clicks the signed link we sent it: the
confirmation token carries the components asked for, so a stranger re-subscribing someone else's address
can neither learn that it was subscribed nor change what it receives. Tokens are ``django.core.signing``
values under their own salts (a confirmation link cannot unsubscribe, and the reverse); a confirmation
expires, an unsubscribe link never does (mail clients keep old messages).

Webhook endpoints are URLs a stranger gives: checked here (https, no private, loopback or metadata host)
and again at each delivery by the run-time guard (``status.notify``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import email_send
from portal.netguard import validate_public_url
from status.models import Component, StatusPage, Subscriber
from status.statuspage import page_url

CONFIRM_SALT = "status.subscription.confirm"
UNSUBSCRIBE_SALT = "status.subscription.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=3)
MAX_COMPONENTS = 200
MAX_WEBHOOKS_PER_ENDPOINT = 3
ENDPOINT_MAX_LENGTH = 2048
EMAIL_MAX_LENGTH = 254


@dataclass(frozen=True)
class RateLimit:
    scope: str
    limit: int
    window: int  # seconds


# Subscribe requests: per client address and per page (a page under a spike still takes a crowd of
# genuine subscribers). Confirmation e-mails to one address: a mailbox cannot be flooded through us.
SUBSCRIBE_LIMITS = (RateLimit("ip", 5, 60), RateLimit("page", 120, 60))
LINK_LIMITS = (RateLimit("ip", 30, 60),)
CONFIRMATIONS_PER_ADDRESS = RateLimit("address", 3, 3600)


class LinkError(Exception):
    """Raised when a confirmation or unsubscribe link is tampered with, expired, or names no subscriber."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


# --- Links ---------------------------------------------------------------------------


def confirm_token(*, subscriber: Subscriber, component_ids: list[str]) -> str:
    return signing.dumps({"s": subscriber.public_id, "c": component_ids}, salt=CONFIRM_SALT, compress=True)


def unsubscribe_token(*, subscriber: Subscriber) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(subscriber.public_id)


def confirm_url(*, subscriber: Subscriber, component_ids: list[str]) -> str:
    token = confirm_token(subscriber=subscriber, component_ids=component_ids)
    return f"{page_url(subscriber.page)}/subscriptions/{token}/confirm/"


def unsubscribe_url(*, subscriber: Subscriber) -> str:
    return f"{page_url(subscriber.page)}/subscriptions/{unsubscribe_token(subscriber=subscriber)}/unsubscribe/"


def subscribe_url(*, page: StatusPage) -> str:
    return f"{page_url(page)}/subscribe/"


def _subscriber_of(page: StatusPage, public_id: object, **filters) -> Subscriber:
    subscriber = Subscriber.objects.filter(page=page, public_id=str(public_id), **filters).first()
    if subscriber is None:
        raise LinkError(_("This link does not match any subscription of this page."))
    return subscriber


# --- Input ---------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": _("Give an e-mail address.")})
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError({"email": _("Keep the e-mail address under 254 characters.")})
    try:
        EmailValidator()(email)
    except ValidationError:
        raise ValidationError({"email": _("Give a valid e-mail address, like you@example.com.")}) from None
    return email


def loopback_allowed(host: str) -> bool:
    return bool(getattr(settings, "NETGUARD_ALLOW_LOOPBACK", False)) and host in {"127.0.0.1", "localhost", "::1"}


def _clean_endpoint(endpoint: str) -> str:
    endpoint = (endpoint or "").strip()
    if not endpoint:
        raise ValidationError({"endpoint": _("Give the https URL that receives the webhooks.")})
    if len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise ValidationError({"endpoint": _("Keep the URL under 2048 characters.")})
    try:
        validate_public_url(endpoint)
    except ValidationError as error:
        if error.code == "invalid":
            raise ValidationError({"endpoint": _("Give a full URL, like https://example.com/hooks/status.")}) from None
        raise ValidationError({"endpoint": error.messages}) from None
    parts = urlsplit(endpoint)
    if parts.scheme != "https" and not loopback_allowed((parts.hostname or "").lower()):
        raise ValidationError({"endpoint": _("Use an https URL: webhooks must travel encrypted.")})
    return endpoint


def _clean_components(page: StatusPage, component_ids: list[str] | None) -> list[Component]:
    """Return this page's components named by public id (none: the whole page)."""
    wanted = list(dict.fromkeys(str(value).strip() for value in component_ids or [] if str(value).strip()))
    if len(wanted) > MAX_COMPONENTS:
        raise ValidationError({"components": _("Choose at most 200 components.")})
    found = {component.public_id: component for component in Component.objects.filter(page=page, public_id__in=wanted)}
    unknown = [value for value in wanted if value not in found]
    if unknown:
        raise ValidationError(
            {"components": _("No component of this page has the id %(ids)s.") % {"ids": ", ".join(unknown[:5])}}
        )
    return [found[value] for value in wanted]


# --- Subscribing -----------------------------------------------------------------------


def subscriber_subscribe_email(*, page: StatusPage, email: str, component_ids: list[str] | None = None) -> None:
    """Ask an address to confirm its subscription (whole page, or the components named).

    Answers the same whether the address was unknown, pending, subscribed or unsubscribed: the
    confirmation goes to the mailbox, and only the mailbox's owner can change anything.
    """
    email = _clean_email(email)
    components = _clean_components(page, component_ids)
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(
            page=page, email=email, defaults={"channel": Subscriber.Channel.EMAIL}
        )
        if created:
            subscriber.components.set(components)
    if _hit(CONFIRMATIONS_PER_ADDRESS, f"{page.pk}:{email}") is not None:
        return  # the address already has fresh confirmations in its mailbox
    context = {
        "page": page,
        "page_url": page_url(page),
        "components": components,
        "confirm_url": confirm_url(subscriber=subscriber, component_ids=[c.public_id for c in components]),
        "unsubscribe_url": unsubscribe_url(subscriber=subscriber),
        "valid_days": CONFIRM_MAX_AGE.days,
    }
    email_send(to=[email], template="emails/status_subscription_confirm", context=context, language=page.language)


def subscriber_subscribe_webhook(
    *, page: StatusPage, endpoint: str, component_ids: list[str] | None = None
) -> tuple[Subscriber, str]:
    """Register a webhook endpoint and return it with its signing secret (shown to the caller once)."""
    endpoint = _clean_endpoint(endpoint)
    components = _clean_components(page, component_ids)
    active = Subscriber.objects.filter(page=page, endpoint=endpoint, unsubscribed_at__isnull=True)
    if active.count() >= MAX_WEBHOOKS_PER_ENDPOINT:
        raise ValidationError(
            {"endpoint": _("This URL already receives this page's webhooks; unsubscribe an older subscription first.")}
        )
    secret = secrets.token_hex(32)
    with transaction.atomic():
        subscriber = Subscriber.objects.create(
            page=page,
            channel=Subscriber.Channel.WEBHOOK,
            endpoint=endpoint,
            secret=secret,
            confirmed_at=timezone.now(),
        )
        subscriber.components.set(components)
    return subscriber, secret


def _read_confirm_token(page: StatusPage, token: str) -> tuple[Subscriber, list[str]]:
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkError(
            _("This confirmation link has expired: subscribe again to get a new one."), expired=True
        ) from None
    except signing.BadSignature:
        raise LinkError(_("This confirmation link is not valid: copy the whole link from the e-mail.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), list):
        raise LinkError(_("This confirmation link is not valid: copy the whole link from the e-mail."))
    subscriber = _subscriber_of(page, data.get("s"), channel=Subscriber.Channel.EMAIL)
    return subscriber, [str(value) for value in data["c"]]


def subscriber_confirm_check(*, page: StatusPage, token: str) -> Subscriber:
    """Return the subscriber a confirmation link names, or raise LinkError (expired, tampered, unknown)."""
    return _read_confirm_token(page, token)[0]


def subscriber_confirm(*, page: StatusPage, token: str) -> Subscriber:
    """Confirm an e-mail subscription from its signed link, with the components the link carries."""
    subscriber, component_ids = _read_confirm_token(page, token)
    # Components deleted since the link was sent are simply left out.
    components = list(Component.objects.filter(page=page, public_id__in=component_ids))
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if not subscriber.is_active:
            subscriber.confirmed_at = now
        subscriber.unsubscribed_at = None
        subscriber.save(update_fields=["confirmed_at", "unsubscribed_at"])
        subscriber.components.set(components)
    return subscriber


def subscriber_for_unsubscribe(*, page: StatusPage, token: str) -> Subscriber:
    """Return the subscriber an unsubscribe link names, or raise LinkError."""
    try:
        public_id = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        raise LinkError(_("This unsubscribe link is not valid: copy the whole link from the message.")) from None
    return _subscriber_of(page, public_id)


def subscriber_unsubscribe(*, subscriber: Subscriber) -> Subscriber:
    """Stop every notification to this subscriber; pending deliveries are dropped when their turn comes."""
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
    subscriber.refresh_from_db(fields=["unsubscribed_at"])
    return subscriber


# --- Rate limits ---------------------------------------------------------------------------


def _hit(rule: RateLimit, subject: str, *, now: float | None = None) -> int | None:
    """Count one request against a fixed-window limit; return the seconds to wait when it is over."""
    now = time.time() if now is None else now
    window = int(now // rule.window)
    key = f"status:rate:{rule.scope}:{subject}:{rule.window}:{window}"
    cache.add(key, 0, timeout=rule.window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=rule.window + 5)
        count = 1
    if count > rule.limit:
        return max(1, int((window + 1) * rule.window - now))
    return None


def subscribe_rate_limited(*, page: StatusPage, client_ip: str, now: float | None = None) -> int | None:
    """Count a subscribe request; return the seconds to wait when this address or this page is over its limit."""
    waits = []
    for rule in SUBSCRIBE_LIMITS:
        subject = client_ip if rule.scope == "ip" else str(page.pk)
        wait = _hit(rule, subject, now=now)
        if wait is not None:
            waits.append(wait)
    return max(waits) if waits else None


def link_rate_limited(*, client_ip: str, now: float | None = None) -> int | None:
    """Count a confirm or unsubscribe request from this address; return the seconds to wait when over."""
    waits = [wait for rule in LINK_LIMITS if (wait := _hit(rule, f"link:{client_ip}", now=now)) is not None]
    return max(waits) if waits else None
