"""Collect the observed traffic of events on air: CloudWatch's minutes of the stack's load balancers, into the database.

Every minute (beat), each event between ``ROOM_OPENS_BEFORE`` air start and the end of its tail
(``settings.EVENT_TAIL``) gets one GetMetricData call per region for all its load balancers, over the last
``LOOKBACK_MINUTES`` whole minutes: CloudWatch publishes late, so each minute is read several times and the row
of (event, minute) is upserted, never duplicated.

A minute is stored as:

- figures, when CloudWatch had a point for it (5xx absent with requests present means no error);
- zero requests, when CloudWatch answered, had no point, and the minute is older than ``SETTLE_MINUTES`` (an ALB
  publishes nothing in a minute without requests); younger empty minutes are left for the next run;
- ``missing=True``, when CloudWatch could not be asked or did not answer, unless the minute is already known: the
  room says "no data" rather than drawing zero traffic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from cloud.adapters import cloudwatch
from cloud.exceptions import CloudError
from cloud.models import CloudAccount, StackResource
from cloud.verification import simulated_account
from events.models import MediaEvent
from live.models import ObservedMinute

logger = logging.getLogger(__name__)

ROOM_OPENS_BEFORE = timedelta(hours=1)
LOOKBACK_MINUTES = 5
SETTLE_MINUTES = 3
PERIOD_SECONDS = 60
# An ALB answers TargetResponseTime percentiles through the extended statistic "p95" (tests swap it: moto's
# CloudWatch computes only Sum, Average, Minimum, Maximum and SampleCount).
LATENCY_STAT = cloudwatch.LATENCY_STAT
# The simulated account (moto, see live/simulation.py) cannot answer "p95": there the latency is read as the
# minute's Maximum, which the demo traffic publishes as its p95. Real AWS is always asked for LATENCY_STAT.
SIMULATED_LATENCY_STAT = "Maximum"
COLLECTED_STATUSES = (
    MediaEvent.Status.ACCEPTED,
    MediaEvent.Status.PREPARING,
    MediaEvent.Status.READY,
    MediaEvent.Status.ON_AIR,
    MediaEvent.Status.COMPLETED,
)


@dataclass
class Collection:
    """Say what one collection stored for an event: minutes with figures, minutes marked missing, and why."""

    observed: int = 0
    missing: int = 0
    errors: list[str] = field(default_factory=list)


def latency_stat() -> str:
    """Return the TargetResponseTime statistic to ask for: "Maximum" against the simulated account only."""
    return SIMULATED_LATENCY_STAT if simulated_account() else LATENCY_STAT


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def events_due_for_collection(*, now: datetime) -> QuerySet[MediaEvent]:
    """Return the events whose live room is open now: from an hour before air to the end of the tail."""
    return MediaEvent.objects.filter(
        status__in=COLLECTED_STATUSES,
        air_start__lte=now + ROOM_OPENS_BEFORE,
        air_end__gte=now - settings.EVENT_TAIL,
    )


def minutes_to_collect(event: MediaEvent, *, now: datetime) -> list[datetime]:
    """Return the last whole minutes of the window that are inside the event's room opening."""
    last = floor_minute(now) - timedelta(minutes=1)
    first_open = floor_minute(event.air_start - ROOM_OPENS_BEFORE)
    last_open = event.tail_end
    minutes = [last - timedelta(minutes=back) for back in range(LOOKBACK_MINUTES - 1, -1, -1)]
    return [minute for minute in minutes if first_open <= minute <= last_open]


def _load_balancers(event: MediaEvent) -> dict[str, list[str]]:
    by_region: dict[str, list[str]] = defaultdict(list)
    resources = StackResource.objects.filter(stack=event.stack_id, kind=StackResource.Kind.LOAD_BALANCER)
    for resource in resources.order_by("pk"):
        suffix = (resource.details or {}).get("arn_suffix") or resource.identifier.split(":loadbalancer/", 1)[-1]
        by_region[resource.region].append(suffix)
    return dict(by_region)


def _mark_missing(event: MediaEvent, minutes: list[datetime]) -> int:
    # ignore_conflicts keeps a minute already known (observed or missing) as it is.
    rows = [ObservedMinute(event=event, minute=minute, missing=True) for minute in minutes]
    known = set(ObservedMinute.objects.filter(event=event, minute__in=minutes).values_list("minute", flat=True))
    ObservedMinute.objects.bulk_create(rows, ignore_conflicts=True)
    return len(set(minutes) - known)


def event_metrics_collect(*, event: MediaEvent, now: datetime) -> Collection:
    """Read the event's load balancers' last minutes from CloudWatch and upsert them (see the module docstring)."""
    collection = Collection()
    minutes = minutes_to_collect(event, now=now)
    balancers = _load_balancers(event)
    if not minutes or not balancers:
        return collection
    account = CloudAccount.objects.filter(organization=event.organization_id).first()
    if account is None or not account.is_usable():
        collection.errors.append("The organization's AWS account is not linked.")
        collection.missing = _mark_missing(event, minutes)
        return collection

    start, end = minutes[0], minutes[-1] + timedelta(minutes=1)
    points: list[cloudwatch.LoadBalancerMinute] = []
    for region, suffixes in sorted(balancers.items()):
        try:
            points += cloudwatch.load_balancer_minutes(
                account.role_link(), region, suffixes, start=start, end=end, period=PERIOD_SECONDS,
                latency_stat=latency_stat(),
            )  # fmt: skip
        except CloudError as error:
            # A partial sum would read as a drop in traffic: one region failing leaves the whole minute unknown.
            logger.warning("CloudWatch failed for event %s in %s: %s", event.pk, region, error)
            collection.errors.append(str(error))
    if collection.errors:
        collection.missing = _mark_missing(event, minutes)
        return collection

    by_minute: dict[datetime, list[cloudwatch.LoadBalancerMinute]] = defaultdict(list)
    for point in points:
        by_minute[point.minute].append(point)
    settled = floor_minute(now) - timedelta(minutes=SETTLE_MINUTES)
    with transaction.atomic():
        for minute in minutes:
            found = by_minute.get(minute)
            if not found and minute >= settled:
                continue  # CloudWatch may still publish it; the next run reads it again
            requests = sum(point.requests or 0 for point in found or [])
            errors = sum(point.errors_5xx or 0 for point in found or [])
            latencies = [point.latency_seconds for point in found or [] if point.latency_seconds is not None]
            ObservedMinute.objects.update_or_create(
                event=event,
                minute=minute,
                defaults={
                    "requests": round(requests),
                    "errors_5xx": round(errors),
                    # Summed across load balancers; the slowest one's p95 stands for the stack.
                    "p95_ms": max(latencies) * 1000 if latencies else None,
                    "missing": False,
                },
            )
            collection.observed += 1
    return collection
