"""Celery tasks of subscriber notifications: one fan-out per notification, one delivery task per Delivery row.

Safe to run twice: a fan-out writes only the deliveries its notification still lacks, and a delivery
that is no longer pending is never sent again. The Delivery row counts the attempts; the task only
schedules the next one, with exponential backoff and jitter, until the row is sent or dead.
"""

from __future__ import annotations

import random
from datetime import datetime

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from status import notify
from status.models import Delivery

BACKOFF_BASE = 60  # seconds before the second try; then 2, 4, 8 minutes...
BACKOFF_MAX = 3600
DELIVERY_SOFT_LIMIT = 40
DELIVERY_HARD_LIMIT = 60

FAN_OUT_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": 240,
    "time_limit": 300,
}


def backoff(attempts: int) -> int:
    """Return the seconds to wait after ``attempts`` failed tries: doubling from BACKOFF_BASE, capped, jittered."""
    delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return max(1, round(delay * random.uniform(0.8, 1.2)))  # noqa: S311 - jitter, not a secret


def _enqueue(delivery_ids: list[int]) -> int:
    for delivery_id in delivery_ids:
        deliver_notification_task.delay(delivery_id)
    return len(delivery_ids)


@shared_task(name="status.notify_incident_update", **FAN_OUT_OPTIONS)
def fan_out_incident_update_task(update_id: int) -> int:
    """Write the deliveries of an incident or maintenance update and queue them."""
    return _enqueue(notify.deliveries_for_incident_update(update_id=update_id))


@shared_task(name="status.notify_maintenance_reminder", **FAN_OUT_OPTIONS)
def fan_out_maintenance_reminder_task(maintenance_id: int) -> int:
    """Write the reminder e-mails of a maintenance window and queue them."""
    return _enqueue(notify.deliveries_for_maintenance_reminder(maintenance_id=maintenance_id))


@shared_task(name="status.notify_component_update", **FAN_OUT_OPTIONS)
def fan_out_component_update_task(component_id: int, old_status: str, new_status: str, change_id: str, at: str) -> int:
    """Write the ``component_update`` webhooks of one status change and queue them."""
    return _enqueue(
        notify.deliveries_for_component_update(
            component_id=component_id,
            old_status=old_status,
            new_status=new_status,
            change_id=change_id,
            at=datetime.fromisoformat(at),
        )
    )


@shared_task(
    bind=True,
    name="status.deliver_notification",
    acks_late=True,
    # The row decides when to stop (notify.MAX_ATTEMPTS); this only bounds a runaway.
    max_retries=notify.MAX_ATTEMPTS + 2,
    soft_time_limit=DELIVERY_SOFT_LIMIT,
    time_limit=DELIVERY_HARD_LIMIT,
)
def deliver_notification_task(self, delivery_id: int) -> str:
    """Try one delivery; schedule the next try while it stays pending."""
    lock = f"status:delivery:{delivery_id}"
    # A copy of this task already running (a message delivered twice) owns the attempt.
    if not cache.add(lock, 1, timeout=DELIVERY_HARD_LIMIT + 10):
        return "busy"
    try:
        status, attempts = notify.delivery_attempt(delivery_id=delivery_id)
    finally:
        cache.delete(lock)
    if status == Delivery.Status.PENDING:
        raise self.retry(countdown=backoff(attempts))
    return status
