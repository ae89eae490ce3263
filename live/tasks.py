"""Live room tasks on the ``aws`` queue: one beat task fans out one collection per open room."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from events.models import MediaEvent
from live import collector

# A collection older than its minute is worthless: the next beat asks again.
COLLECT_EXPIRES_SECONDS = 55


@shared_task(name="aws.collect_live_metrics", soft_time_limit=20, time_limit=30)
def collect_live_metrics_task() -> int:
    """Enqueue one collection per event whose live room is open now."""
    ids = list(collector.events_due_for_collection(now=timezone.now()).values_list("pk", flat=True))
    for event_id in ids:
        collect_event_metrics_task.apply_async(args=[event_id], expires=COLLECT_EXPIRES_SECONDS)
    return len(ids)


@shared_task(name="aws.collect_event_metrics", soft_time_limit=40, time_limit=50)
def collect_event_metrics_task(event_id: int) -> dict:
    """Upsert the event's last minutes from CloudWatch; failures become missing minutes, never retries."""
    event = MediaEvent.objects.filter(pk=event_id).select_related("organization").first()
    if event is None:
        return {"observed": 0, "missing": 0}
    result = collector.event_metrics_collect(event=event, now=timezone.now())
    return {"observed": result.observed, "missing": result.missing}


@shared_task(name="aws.simulate_demo_traffic", soft_time_limit=40, time_limit=50)
def simulate_demo_traffic_task() -> dict:
    """Put the open live rooms' demo traffic into the simulated AWS account; does nothing against real AWS."""
    from cloud.verification import simulated_account
    from live import simulation

    if not simulated_account():
        return {"skipped": "not the simulated AWS account"}
    return simulation.demo_traffic_tick(now=timezone.now())
