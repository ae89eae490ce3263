"""Publishing and the maintenance clock (default queue). Imported by StatusConfig.ready()."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="status.publish_page", soft_time_limit=120, time_limit=150)
def publish_page_task(page_id: int) -> int:
    """Render and store the page's snapshots (idempotent: the same state gives the same bytes)."""
    from status.models import StatusPage
    from status.publish import publish_now

    if not StatusPage.objects.filter(pk=page_id).exists():
        return 0  # deleted since the request
    return publish_now(page_id).artifacts


@shared_task(name="status.advance_maintenances", soft_time_limit=50, time_limit=60)
def advance_maintenances_task() -> dict:
    """Start and complete due maintenance windows and send the reminders an hour before."""
    from status.services import maintenances_advance

    return maintenances_advance()
