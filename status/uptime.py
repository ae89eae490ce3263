"""Uptime kept as daily aggregates: every status change adds the seconds of the status it ends.

Pages read at most 90 rows per component and add the open interval (status_since → now) on the fly,
so they never scan raw history. Days are the page's days (its time zone).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F
from django.utils import timezone

from status.models import Component, UptimeDay

STATUS_FIELDS = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")


def _day_slices(start: datetime, end: datetime, zone: zoneinfo.ZoneInfo):
    """Yield (local day, seconds) for the interval [start, end) split at local midnights.

    Whole seconds are counted from the interval's start, not per slice: three minutes from 23:59:58.6 give
    1 s and 179 s, not 1 s and 178 s, so the days add up to the interval.
    """
    start = start.astimezone(zone)
    cursor, end = start, end.astimezone(zone)
    counted = 0
    while cursor < end:
        midnight = datetime.combine(cursor.date() + timedelta(days=1), time.min, tzinfo=zone)
        stop = min(midnight, end)
        until_stop = int((stop - start).total_seconds())
        if until_stop > counted:
            yield cursor.date(), until_stop - counted
            counted = until_stop
        cursor = stop


def record_interval(component: Component, status: str, start: datetime, end: datetime) -> None:
    """Add the seconds a component spent in ``status`` between start and end to its days."""
    if end <= start:
        return
    zone = zoneinfo.ZoneInfo(component.page.time_zone)
    for day, seconds in _day_slices(start, end, zone):
        row, _created = UptimeDay.objects.get_or_create(component=component, day=day)
        UptimeDay.objects.filter(pk=row.pk).update(**{status: F(status) + seconds})


@dataclass(frozen=True)
class DayUptime:
    day: date
    seconds: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.seconds.values())

    @property
    def percent(self) -> float | None:
        return uptime_percent(self.seconds)

    @property
    def worst(self) -> str | None:
        for status in ("major_outage", "partial_outage", "degraded_performance", "under_maintenance"):
            if self.seconds.get(status):
                return status
        return "operational" if self.total else None


def uptime_percent(seconds: dict[str, int]) -> float | None:
    """Major outage counts as down, partial outage as half down; degraded and maintenance count as up."""
    total = sum(seconds.get(field, 0) for field in STATUS_FIELDS)
    if not total:
        return None
    down = seconds.get("major_outage", 0) + seconds.get("partial_outage", 0) / 2
    return 100.0 * (total - down) / total


def uptime_days(components: list[Component], *, days: int = 90, now: datetime | None = None) -> dict[int, list]:
    """Return, per component id, ``days`` DayUptime rows ending today (one query for all components)."""
    now = now or timezone.now()
    if not components:
        return {}
    zone = zoneinfo.ZoneInfo(components[0].page.time_zone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    found: dict[tuple[int, date], dict[str, int]] = {}
    rows = UptimeDay.objects.filter(component__in=components, day__gte=first, day__lte=today)
    for row in rows.values("component_id", "day", *STATUS_FIELDS):
        found[(row["component_id"], row["day"])] = {field: row[field] for field in STATUS_FIELDS}
    result = {}
    for component in components:
        open_days = dict(_day_slices(max(component.status_since, now - timedelta(days=days)), now, zone))
        series = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            seconds = dict(found.get((component.pk, day), dict.fromkeys(STATUS_FIELDS, 0)))
            if day in open_days:
                seconds[component.status] = seconds.get(component.status, 0) + open_days[day]
            series.append(DayUptime(day=day, seconds=seconds))
        result[component.pk] = series
    return result


def window_percent(series: list[DayUptime]) -> float | None:
    totals = dict.fromkeys(STATUS_FIELDS, 0)
    for day in series:
        for field in STATUS_FIELDS:
            totals[field] += day.seconds.get(field, 0)
    return uptime_percent(totals)
