from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.purge_ended_invitations", soft_time_limit=60, time_limit=90)
def purge_ended_invitations_task() -> int:
    """Delete invitations that ended more than 30 days ago; safe to run twice."""
    return services.invitations_purge_expired(older_than_days=30)
