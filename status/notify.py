"""Notifications to a status page's subscribers (e-mail and webhooks).

Entry points called by status/services.py after a commit only enqueue work (Celery): a fan-out task
writes one ``Delivery`` per matching subscriber and notification, then one delivery task per row sends
it, with retries and backoff, and marks it ``sent`` or, after the last try, ``dead`` with the error.

Who gets what:

- incident and maintenance updates (``deliver_notifications`` on, never drafts): e-mail and webhook
  subscribers of the whole page, and those subscribed to a component the incident touches;
- the reminder an hour before a maintenance window: e-mail subscribers (same component rule);
- component status changes: webhook subscribers (``component_update``), same component rule.

Only public pages notify: a private page's incidents never leave it by e-mail or webhook.

Webhook signature
-----------------
Each webhook is ``POST <endpoint>`` with a UTF-8 JSON body (Statuspage's webhook shapes) and::

    Content-Type: application/json
    X-Primetime-Event: incident.update | maintenance.reminder | component.update
    X-Primetime-Delivery: <24 hex characters, the same for every retry of one notification>
    X-Primetime-Timestamp: <Unix time in seconds when this attempt was signed>
    X-Primetime-Signature: sha256=<hex>

    hex = HMAC-SHA256(key = the subscriber's secret as ASCII bytes,
                      message = ASCII(timestamp) + b"." + the raw body bytes)

A receiver recomputes the HMAC over the body exactly as received (before parsing it), compares it in
constant time, and refuses a timestamp more than 5 minutes away from its clock: a captured request
cannot be replayed later, since changing the timestamp breaks the signature. It may deduplicate on
``X-Primetime-Delivery``. Any 2xx answer counts as received; anything else is retried (redirects are
not followed). Each attempt connects only to addresses the SSRF guard checked, within
``WEBHOOK_TIMEOUT`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import smtplib
import ssl
import time
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import datetime

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal import netguard
from status.models import (
    UNRESOLVED_STATUSES,
    Component,
    ComponentStatus,
    Delivery,
    Incident,
    IncidentUpdate,
    StatusPage,
    Subscriber,
    new_public_id,
)
from status.statuspage import component_object, incident_object, iso, page_url, status_indicator, with_details
from status.subscriptions import loopback_allowed, subscribe_url, unsubscribe_url

MAX_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 10.0
MAX_ADDRESSES_TRIED = 3
RESPONSE_BYTES_READ = 64 * 1024
BATCH = 500
USER_AGENT = "PrimetimeWebhook/1.0"
SIGNATURE_HEADER = "X-Primetime-Signature"
TIMESTAMP_HEADER = "X-Primetime-Timestamp"


class Kind(models.TextChoices):
    """What a Delivery carries (``Delivery.kind``)."""

    INCIDENT_UPDATE = "incident_update", _("Incident update")
    MAINTENANCE_REMINDER = "maintenance_reminder", _("Maintenance reminder")
    COMPONENT_UPDATE = "component_update", _("Component update")


EVENTS = {
    Kind.INCIDENT_UPDATE: "incident.update",
    Kind.MAINTENANCE_REMINDER: "maintenance.reminder",
    Kind.COMPONENT_UPDATE: "component.update",
}


class DeliveryFailed(Exception):
    """Raised when one attempt fails; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


# --- Entry points (called after commit) ------------------------------------------------


def notify_incident_update(update_id: int) -> None:
    """Queue a notification of this incident (or maintenance) update to the page's matching subscribers."""
    from status.tasks_notify import fan_out_incident_update_task

    fan_out_incident_update_task.delay(update_id)


def notify_maintenance_reminder(maintenance_id: int) -> None:
    """Queue the reminder, an hour before a maintenance window, to the page's matching subscribers."""
    from status.tasks_notify import fan_out_maintenance_reminder_task

    fan_out_maintenance_reminder_task.delay(maintenance_id)


def notify_component_update(component_id: int, old_status: str, new_status: str) -> None:
    """Queue a ``component_update`` to the webhook subscribers of this component (or of the whole page)."""
    from status.tasks_notify import fan_out_component_update_task

    # Named now, so a fan-out task delivered twice writes its deliveries once.
    change_id = new_public_id()
    component = Component.objects.filter(pk=component_id).only("status", "status_since").first()
    at = component.status_since if component is not None and component.status == new_status else timezone.now()
    fan_out_component_update_task.delay(component_id, old_status, new_status, change_id, at.isoformat())


# --- Fan-out: one Delivery per (subscriber, notification) --------------------------------


def audience(*, page: StatusPage, component_ids: Iterable[int], channel: str | None = None):
    """Return the page's active subscribers for these components (whole-page subscribers always)."""
    subscribers = Subscriber.objects.filter(page=page, confirmed_at__isnull=False, unsubscribed_at__isnull=True)
    if channel is not None:
        subscribers = subscribers.filter(channel=channel)
    touched = Q(components__isnull=True) | Q(components__in=list(component_ids))
    return subscribers.filter(touched).distinct().order_by("pk")


def _page_status(page: StatusPage) -> dict:
    components = list(Component.objects.filter(page=page))
    unresolved = list(
        Incident.objects.filter(
            page=page, kind=Incident.Kind.INCIDENT, status__in=UNRESOLVED_STATUSES, is_draft=False
        ).only("impact")
    )
    in_maintenance = Incident.objects.filter(
        page=page, kind=Incident.Kind.MAINTENANCE, status__in=["in_progress", "verifying"]
    ).exists()
    indicator = status_indicator(components, unresolved, in_maintenance)
    return {
        "id": page.public_id,
        "status_indicator": indicator["indicator"],
        "status_description": indicator["description"],
    }


def _meta(subscriber: Subscriber) -> dict:
    return {
        "unsubscribe": unsubscribe_url(subscriber=subscriber),
        "documentation": f"{subscribe_url(page=subscriber.page)}#webhooks",
    }


def _write(*, page: StatusPage, kind: str, key: str, subscribers, build: Callable[[Subscriber], dict]) -> list[int]:
    """Write the deliveries this notification still lacks; return the ids of all its pending ones.

    The caller holds a lock on the notification's source row, so two fan-outs of one notification
    (a task delivered twice) never write a subscriber's delivery twice.
    """
    done = set(Delivery.objects.filter(subscriber__page=page, key=key).values_list("subscriber_id", flat=True))
    batch: list[Delivery] = []
    for subscriber in subscribers.select_related("page").iterator(chunk_size=BATCH):
        if subscriber.pk in done:
            continue
        batch.append(Delivery(subscriber=subscriber, kind=kind, key=key, payload=build(subscriber)))
        if len(batch) >= BATCH:
            # The unique (subscriber, key) is the last word if a fan-out ever races another.
            Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        Delivery.objects.bulk_create(batch, ignore_conflicts=True)
    pending = Delivery.objects.filter(subscriber__page=page, key=key, status=Delivery.Status.PENDING)
    return list(pending.order_by("pk").values_list("pk", flat=True))


def _render_email(page: StatusPage, template: str, subscriber: Subscriber, context: dict) -> dict:
    link = unsubscribe_url(subscriber=subscriber)
    context = {**context, "page": page, "page_url": page_url(page), "unsubscribe_url": link}
    with translation.override(page.language), timezone.override(zoneinfo.ZoneInfo(page.time_zone)):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    return {"subject": subject, "body": body, "unsubscribe_url": link}


def _affected_lines(update: IncidentUpdate, incident: Incident) -> list[dict]:
    labels = dict(ComponentStatus.choices)
    if update.affected_components:
        return [
            {"name": item.get("name", ""), "status": labels.get(item.get("new_status"), item.get("new_status"))}
            for item in update.affected_components
        ]
    return [
        {"name": component.name, "status": component.get_status_display()} for component in incident.components.all()
    ]


def deliveries_for_incident_update(*, update_id: int) -> list[int]:
    """Write the deliveries of an incident or maintenance update; return the pending ones' ids."""
    update = IncidentUpdate.objects.select_related("incident__page").filter(pk=update_id).first()
    if update is None:
        return []
    incident, page = update.incident, update.incident.page
    if incident.is_draft or not update.deliver_notifications or not page.is_public:
        return []
    incident = with_details(Incident.objects.filter(pk=incident.pk)).get()
    touched = {component.pk for component in incident.components.all()}
    codes = [item.get("code") for item in update.affected_components or [] if isinstance(item, dict)]
    touched |= set(Component.objects.filter(page=page, public_id__in=codes).values_list("pk", flat=True))
    incident_json = incident_object(incident, page)
    page_json = _page_status(page)
    template = "emails/status_maintenance_update" if incident.is_maintenance else "emails/status_incident_update"
    context = {
        "incident": incident,
        "update": update,
        "affected": _affected_lines(update, incident),
        "incident_url": incident_json["shortlink"],
    }

    def build(subscriber: Subscriber) -> dict:
        if subscriber.channel == Subscriber.Channel.WEBHOOK:
            return {"body": {"meta": _meta(subscriber), "page": page_json, "incident": incident_json}}
        return _render_email(page, template, subscriber, context)

    with transaction.atomic():
        IncidentUpdate.objects.select_for_update().filter(pk=update.pk).first()
        return _write(
            page=page,
            kind=Kind.INCIDENT_UPDATE,
            key=f"incident_update:{update.public_id}",
            subscribers=audience(page=page, component_ids=touched),
            build=build,
        )


def deliveries_for_maintenance_reminder(*, maintenance_id: int) -> list[int]:
    """Write the reminder e-mails of a maintenance window still to come; return the pending ones' ids."""
    maintenance = (
        Incident.objects.select_related("page")
        .filter(pk=maintenance_id, kind=Incident.Kind.MAINTENANCE, is_draft=False)
        .first()
    )
    if maintenance is None or maintenance.status != Incident.Status.SCHEDULED or not maintenance.page.is_public:
        return []
    page = maintenance.page
    components = list(maintenance.components.all())
    context = {"maintenance": maintenance, "components": components, "incident_url": _incident_url(maintenance)}
    with transaction.atomic():
        Incident.objects.select_for_update().filter(pk=maintenance.pk).first()
        return _write(
            page=page,
            kind=Kind.MAINTENANCE_REMINDER,
            key=f"maintenance_reminder:{maintenance.public_id}",
            subscribers=audience(page=page, component_ids=[c.pk for c in components], channel=Subscriber.Channel.EMAIL),
            build=lambda subscriber: _render_email(page, "emails/status_maintenance_reminder", subscriber, context),
        )


def _incident_url(incident: Incident) -> str:
    return f"{page_url(incident.page)}/incidents/{incident.public_id}/"


def deliveries_for_component_update(
    *, component_id: int, old_status: str, new_status: str, change_id: str, at: datetime
) -> list[int]:
    """Write the ``component_update`` webhooks of one status change; return the pending ones' ids."""
    component = Component.objects.select_related("page", "group").filter(pk=component_id).first()
    if component is None or not component.page.is_public or old_status == new_status:
        return []
    page = component.page
    zone = zoneinfo.ZoneInfo(page.time_zone)
    change = {
        "created_at": iso(at, zone),
        "new_status": new_status,
        "old_status": old_status,
        "id": change_id,
        "component_id": component.public_id,
    }
    component_json = component_object(component, zone, page)
    page_json = _page_status(page)
    with transaction.atomic():
        Component.objects.select_for_update().filter(pk=component.pk).first()
        return _write(
            page=page,
            kind=Kind.COMPONENT_UPDATE,
            key=f"component_update:{component.public_id}:{change_id}",
            subscribers=audience(page=page, component_ids=[component.pk], channel=Subscriber.Channel.WEBHOOK),
            build=lambda subscriber: {
                "body": {
                    "meta": _meta(subscriber),
                    "page": page_json,
                    "component_update": change,
                    "component": component_json,
                }
            },
        )


# --- Sending one delivery --------------------------------------------------------------


def delivery_attempt(*, delivery_id: int) -> tuple[str, int]:
    """Try one delivery once; return its status afterwards and the attempts made.

    A delivery that is no longer pending (already sent, or dead) is left alone: a task delivered twice
    sends nothing twice. The row is the only count of attempts; after ``MAX_ATTEMPTS`` it is dead.
    """
    delivery = Delivery.objects.select_related("subscriber__page").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return (delivery.status if delivery else Delivery.Status.DEAD), (delivery.attempts if delivery else 0)
    pending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
    if not delivery.subscriber.is_active:
        pending.update(status=Delivery.Status.DEAD, last_error="The subscriber unsubscribed before it was sent.")
        return Delivery.Status.DEAD, delivery.attempts
    attempts = delivery.attempts + 1
    try:
        try:
            delivery_send(delivery=delivery)
        except SoftTimeLimitExceeded:
            raise DeliveryFailed("The attempt ran out of time.") from None
    except DeliveryFailed as failure:
        final = failure.permanent or attempts >= MAX_ATTEMPTS
        status = Delivery.Status.DEAD if final else Delivery.Status.PENDING
        pending.update(status=status, attempts=attempts, last_error=failure.message[:2000])
        return status, attempts
    pending.update(status=Delivery.Status.SENT, attempts=attempts, sent_at=timezone.now(), last_error="")
    return Delivery.Status.SENT, attempts


def delivery_send(*, delivery: Delivery) -> None:
    """Send one delivery now, by e-mail or webhook; raise DeliveryFailed when it did not arrive."""
    subscriber = delivery.subscriber
    if subscriber.channel == Subscriber.Channel.EMAIL:
        _send_email(subscriber, delivery.payload)
    else:
        _send_webhook(subscriber, delivery)


def _send_email(subscriber: Subscriber, payload: dict) -> None:
    link = payload["unsubscribe_url"]
    message = EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers={
            # RFC 8058: mail clients show an unsubscribe button that POSTs to the link.
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryFailed(f"The mail server refused the address: {error}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(f"The mail server could not take the message: {error or type(error).__name__}") from None


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``X-Primetime-Signature`` value of a body sent at ``timestamp`` (see the module docstring)."""
    digest = hmac.new(secret.encode("ascii"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def delivery_id_header(delivery: Delivery) -> str:
    """Name a notification to a subscriber stably across retries, without showing a database key."""
    material = f"{delivery.key}:{delivery.subscriber.public_id}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def _send_webhook(subscriber: Subscriber, delivery: Delivery) -> None:
    body = json.dumps(delivery.payload["body"], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Primetime-Event": EVENTS.get(delivery.kind, delivery.kind),
        "X-Primetime-Delivery": delivery_id_header(delivery),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: webhook_signature(secret=subscriber.secret, timestamp=timestamp, body=body),
    }
    status = post_guarded(subscriber.endpoint, body=body, headers=headers)
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise DeliveryFailed(
            f"The endpoint answered {status}, a redirect; webhooks do not follow redirects: subscribe the final URL.",
            permanent=True,
        )
    raise DeliveryFailed(f"The endpoint answered {status}; a 2xx answer was expected.")


def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def post_guarded(url: str, *, body: bytes, headers: dict[str, str], timeout: float = WEBHOOK_TIMEOUT) -> int:
    """POST body to url through the SSRF guard and return the answer's status code.

    The host is resolved once and every address checked; the connection goes to a checked address with
    the real name in ``Host``, TLS SNI and certificate verification, so DNS cannot move it elsewhere.
    Raise DeliveryFailed (permanent when the URL or its addresses are refused).
    """
    try:
        netguard.validate_public_url(url)
        parsed = httpx.URL(url)
    except (ValidationError, httpx.InvalidURL) as error:
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        raise DeliveryFailed(f"The endpoint {url} was refused: {reason}", permanent=True) from None
    host = parsed.host
    if parsed.scheme != "https" and not loopback_allowed(host):
        raise DeliveryFailed(f"The endpoint {url} was refused: webhooks go to https URLs only.", permanent=True)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = netguard.resolve_public(host, port, timeout=min(netguard.LOOKUP_TIMEOUT, timeout))
    except netguard.UnsafeAddress as error:
        raise DeliveryFailed(f"The endpoint {url} was refused: {error}", permanent=True) from None
    except netguard.LookupFailed as error:
        raise DeliveryFailed(str(error)) from None
    request_headers = {**headers, "Host": parsed.netloc.decode("ascii")}
    extensions: dict = {"timeout": httpx.Timeout(timeout).as_dict()}
    if parsed.scheme == "https" and not _is_ip_literal(host):
        extensions["sni_hostname"] = host
    tried = addresses[:MAX_ADDRESSES_TRIED]
    for index, address in enumerate(tried):
        request = httpx.Request(
            "POST", parsed.copy_with(host=str(address)), headers=request_headers, content=body, extensions=extensions
        )
        # A fresh transport per attempt, never proxies from the environment: it connects where we say.
        transport = httpx.HTTPTransport(
            verify=_ssl_context(), limits=httpx.Limits(max_connections=1, max_keepalive_connections=0)
        )
        try:
            with transport:
                response = transport.handle_request(request)
                try:
                    read = 0
                    for chunk in response.iter_raw():
                        read += len(chunk)
                        if read >= RESPONSE_BYTES_READ:
                            break
                finally:
                    response.close()
                return response.status_code
        except httpx.ConnectError as error:
            if index + 1 < len(tried) and not isinstance(error.__context__, ssl.SSLError):
                continue
            raise DeliveryFailed(f"Could not connect to {host} ({address}) port {port}: {error}") from None
        except httpx.TimeoutException:
            raise DeliveryFailed(f"Timed out after {timeout:g} s posting to {host} ({address}).") from None
        except (httpx.HTTPError, OSError) as error:
            raise DeliveryFailed(f"Posting to {host} failed: {error or type(error).__name__}.") from None
    raise DeliveryFailed(f"No address of {host} could be reached.")  # pragma: no cover - resolve_public never empty


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
