"""Notifications to a status page's subscribers (e-mail and webhooks).

Entry points called by status/services.py after a commit; each must only enqueue work (Celery), never
send in the caller's request.
"""

from __future__ import annotations


def notify_incident_update(update_id: int) -> None:
    """Queue a notification of this incident (or maintenance) update to the page's matching subscribers."""


def notify_maintenance_reminder(maintenance_id: int) -> None:
    """Queue the reminder, an hour before a maintenance window, to the page's matching subscribers."""


def notify_component_update(component_id: int, old_status: str, new_status: str) -> None:
    """Queue a ``component_update`` to the webhook subscribers of this component (or of the whole page)."""
