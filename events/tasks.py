from __future__ import annotations

from celery import shared_task

from events import services


@shared_task(name="events.advance_by_clock", soft_time_limit=50, time_limit=60)
def advance_by_clock_task() -> dict[str, int]:
    """Put due events on air and complete ended ones; each move is a conditional update, so overlap is harmless."""
    return services.events_advance_by_clock()


@shared_task(name="events.refresh_forecasts", soft_time_limit=240, time_limit=300)
def refresh_forecasts_task(organization_id: int) -> int:
    """Recompute the forecast peaks of an organization's events after its parameters changed (idempotent)."""
    return services.forecasts_refresh(organization_id=organization_id)
