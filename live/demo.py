"""The demo's live room and report: a rehearsal on air when the demo starts, and last month's broadcast reported.

Called by ``manage.py seed_demo``; safe to run again. Booking refuses an air start in the past, so the rehearsal is
booked through the ordinary services as if it were a minute before its air start (``event_create(now=...)``), then
moved along its lifecycle like any event: accepted with the demo engineer as lead, preparing, ready, and put on air
by the clock's own transition.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from accounts.models import Organization, User
from cloud.verification import simulated_account
from events import services as event_services
from events.forecasting import forecast_for_event
from events.models import MediaEvent
from live.models import ObservedMinute
from reports.models import EventReport
from reports.services import report_generate, report_publish
from stacks.models import Stack

REHEARSAL_TITLE = "Rehearsal: morning show on France 2"
REHEARSAL_STARTED = timedelta(minutes=10)
REHEARSAL_LENGTH = timedelta(minutes=30)
PAST_TITLE = "Radio interview on France Inter"
# Last month's broadcast drew 70 % of the forecast's extra traffic: the report suggests a lower visit rate.
PAST_OBSERVED_SHARE = 0.7
PAST_MISSING_OFFSETS = (13, 14)  # two minutes CloudWatch never answered, inside the air window
PAST_OBSERVED_MINUTES = range(-10, 75)


@dataclass
class DemoLive:
    rehearsal: MediaEvent
    minutes_put: int = 0
    minutes_observed: int = 0
    report: EventReport | None = None


def rehearsal_seed(organization: Organization, *, stack: Stack, owner: User, engineer: User, now=None) -> MediaEvent:
    """Return the rehearsal on air now, booking one (air start 10 minutes ago, 30 minutes long) if none is."""
    now = now or timezone.now()
    current = MediaEvent.objects.filter(
        organization=organization, title=REHEARSAL_TITLE, status=MediaEvent.Status.ON_AIR, air_end__gt=now
    ).first()
    if current is not None:
        return current
    # After an earlier demo run, the stack's last window may still be ending: start after it (no overlap).
    latest_end = (
        MediaEvent.objects.filter(stack=stack, air_end__lte=now)
        .exclude(status=MediaEvent.Status.CANCELLED)
        .aggregate(end=Max("air_end"))["end"]
    )
    air_start = (now - REHEARSAL_STARTED).replace(second=0, microsecond=0)
    if latest_end is not None and latest_end > air_start:
        air_start = latest_end
    air_end = now.replace(second=0, microsecond=0) + REHEARSAL_LENGTH - REHEARSAL_STARTED
    event = event_services.event_create(
        organization=organization,
        by=owner,
        data={
            "stack": stack,
            "title": REHEARSAL_TITLE,
            "kind": MediaEvent.Kind.TV_SEGMENT,
            "channel": "France 2",
            "programme": "Télématin",
            "air_start": air_start,
            "air_end": air_end,
            "expected_audience": 450_000,
            "notes": "A dress rehearsal of the on-air watch: the lamp is shown in the morning show's shopping slot.",
        },
        submit=True,
        now=air_start - timedelta(minutes=1),  # booked "a minute before air": booking refuses the past
    )
    event_services.event_transition(event=event, name="accept", by=engineer, assignee=engineer)
    event_services.event_transition(event=event, name="prepare", by=engineer)
    event_services.event_transition(event=event, name="mark_ready", by=engineer)
    event_services.event_transition(event=event, name="go_on_air", by=None)  # what the clock does at air start
    event.refresh_from_db()
    return event


def past_observations_seed(event: MediaEvent) -> int:
    """Give an aired event its observed minutes (once): 70 % of the forecast's extra traffic, two minutes missing."""
    if ObservedMinute.objects.filter(event=event).exists():
        return 0
    forecast = forecast_for_event(event)
    baseline = forecast.baseline_rps
    likely = {point.minute: point.origin_rps.likely for point in forecast.points}
    noise = random.Random(event.pk)  # noqa: S311 - demo figures
    rows = []
    for offset in PAST_OBSERVED_MINUTES:
        minute = event.air_start.replace(second=0, microsecond=0) + timedelta(minutes=offset)
        if offset in PAST_MISSING_OFFSETS:
            rows.append(ObservedMinute(event=event, minute=minute, missing=True))
            continue
        rps = baseline + PAST_OBSERVED_SHARE * (likely.get(offset, baseline) - baseline)
        requests = round(rps * 60 * noise.uniform(0.93, 1.07))
        load = rps / max(baseline, 1.0)
        rows.append(
            ObservedMinute(
                event=event,
                minute=minute,
                requests=requests,
                errors_5xx=math.floor(requests * noise.uniform(0.0005, 0.002)),
                p95_ms=round(280 * (1 + 0.06 * min(load, 20)) * noise.uniform(0.9, 1.1), 1),
            )
        )
    ObservedMinute.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def past_report_seed(event: MediaEvent, *, engineer: User) -> EventReport:
    """Generate the aired event's report and publish it to the client; its calibration suggestion stays open."""
    existing = EventReport.objects.filter(event=event).first()
    if existing is not None and existing.is_published():
        return existing
    report = report_generate(event, by=engineer)
    return report_publish(report=report, by=engineer)


def demo_live_seed(organization: Organization, *, owner: User, engineer: User, now: datetime | None = None) -> DemoLive:
    """Seed the rehearsal on air (with its traffic so far, in the simulated account) and last month's report."""
    from live import simulation

    now = now or timezone.now()
    stack = Stack.objects.get(organization=organization, name="Shop website")
    rehearsal = rehearsal_seed(organization, stack=stack, owner=owner, engineer=engineer, now=now)
    result = DemoLive(rehearsal=rehearsal)
    if simulated_account():
        result.minutes_put = simulation.demo_traffic_put(event=rehearsal, now=now)
        start = rehearsal.air_start - timedelta(minutes=simulation.LEAD_MINUTES)
        simulation.collect_since(event=rehearsal, start=start, now=now)
        result.minutes_observed = ObservedMinute.objects.filter(event=rehearsal, missing=False).count()
    past = (
        MediaEvent.objects.filter(organization=organization, title=PAST_TITLE, air_end__lt=now)
        .order_by("-air_start")
        .first()
    )
    if past is not None:
        past_observations_seed(past)
        result.report = past_report_seed(past, engineer=engineer)
    return result
