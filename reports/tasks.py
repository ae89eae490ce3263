"""Generate a report off the request path, once an event completes."""

from __future__ import annotations

from celery import shared_task

from events.models import MediaEvent


@shared_task(name="reports.generate", acks_late=True, soft_time_limit=120, time_limit=180)
def report_generate_task(event_id: int) -> None:
    """Re-read the event and (re)generate its report; safe to run twice."""
    from reports.services import report_generate

    event = MediaEvent.objects.filter(pk=event_id).first()
    if event is not None:
        report_generate(event)
