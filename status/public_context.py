"""What the public page shows, computed once per publish (never per request)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from status.models import Component, Incident, StatusPage
from status.statuspage import status_indicator, with_details
from status.uptime import DayUptime, uptime_days, window_percent

UPTIME_DAYS = 90
PAST_DAYS = 7
MAX_LISTED = 50


@dataclass
class ComponentRow:
    component: Component
    days: list[DayUptime]
    percent: float | None


@dataclass
class GroupRow:
    name: str | None
    description: str
    status: str
    rows: list[ComponentRow]


def visible_incidents(page: StatusPage):
    return Incident.objects.filter(page=page, is_draft=False)


def open_incidents(incidents) -> list[Incident]:
    """Return the unresolved incidents, newest first: a few rows, found through (page, kind, status).

    Sorted here, not in SQL: asked to order by started_at, SQLite walks every incident of the page in that
    order instead of looking up the few open ones.
    """
    unresolved = ["investigating", "identified", "monitoring"]
    found = with_details(incidents.filter(kind=Incident.Kind.INCIDENT, status__in=unresolved).order_by())
    return sorted(found, key=lambda incident: (incident.started_at, incident.pk), reverse=True)


def _components(page: StatusPage) -> list[Component]:
    return list(Component.objects.filter(page=page).select_related("group", "page").order_by("position", "pk"))


def _grouped(page: StatusPage, components: list[Component], now: datetime) -> list[GroupRow]:
    from status.models import COMPONENT_SEVERITY

    series = uptime_days(components, days=UPTIME_DAYS, now=now)
    groups: dict[int | None, GroupRow] = {}
    order: list[tuple[int, int | None]] = []
    for group in page.groups.all():
        groups[group.pk] = GroupRow(group.name, group.description, "operational", [])
        order.append((group.position, group.pk))
    loose_positions = []
    for component in components:
        if component.only_show_if_degraded and component.status == "operational":
            continue
        row = ComponentRow(component, series[component.pk], window_percent(series[component.pk]))
        if component.group_id in groups:
            target = groups[component.group_id]
            target.rows.append(row)
            worst = max(COMPONENT_SEVERITY.index(target.status), COMPONENT_SEVERITY.index(component.status))
            target.status = COMPONENT_SEVERITY[worst].value
        else:
            key = -component.pk  # a component without a group is its own row
            groups[key] = GroupRow(None, "", component.status, [row])
            loose_positions.append((component.position, key))
    ordered = sorted(order + loose_positions, key=lambda item: item[0])
    return [groups[key] for _position, key in ordered if groups[key].rows]


def page_context(page: StatusPage, *, language: str, preview: bool = False, now: datetime | None = None) -> dict:
    """Return the public page's context: banner, components with 90-day uptime, incidents, maintenance."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(page.time_zone)
    components = _components(page)
    incidents = visible_incidents(page)
    unresolved = open_incidents(incidents)
    maintenance = with_details(incidents.filter(kind=Incident.Kind.MAINTENANCE))
    active = list(maintenance.filter(status__in=["in_progress", "verifying"]).order_by("scheduled_for"))
    upcoming = list(
        maintenance.filter(status="scheduled", scheduled_until__gt=now).order_by("scheduled_for")[:MAX_LISTED]
    )
    since = now - timedelta(days=PAST_DAYS)
    recent = list(
        with_details(
            incidents.filter(started_at__gte=since)
            .filter(Q(kind=Incident.Kind.INCIDENT) | Q(status="completed"))
            .exclude(status__in=["investigating", "identified", "monitoring"])
            .order_by("-started_at")[:MAX_LISTED]
        )
    )
    past_days: list[tuple[date, list[Incident]]] = []
    today = now.astimezone(zone).date()
    for offset in range(PAST_DAYS):
        day = today - timedelta(days=offset)
        past_days.append((day, [incident for incident in recent if incident.started_at.astimezone(zone).date() == day]))
    return {
        "page": page,
        "language": language,
        "preview": preview,
        "now": now,
        "zone": zone,
        "status": status_indicator(components, unresolved, bool(active)),
        "groups": _grouped(page, components, now),
        "unresolved": unresolved,
        "active_maintenance": active,
        "upcoming_maintenance": upcoming,
        "past_days": past_days,
        "uptime_days": UPTIME_DAYS,
    }


def month_bounds(month: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=zone)


def history_context(page: StatusPage, *, month: date, language: str) -> dict:
    """Return one month of history (incidents and completed maintenance), with links to the months around it."""
    zone = zoneinfo.ZoneInfo(page.time_zone)
    start, end = month_bounds(month, zone)
    incidents = visible_incidents(page).exclude(status__in=["scheduled"])
    listed = list(with_details(incidents.filter(started_at__gte=start, started_at__lt=end).order_by("-started_at")))
    earlier = incidents.filter(started_at__lt=start).order_by("-started_at").values_list("started_at", flat=True)
    later = incidents.filter(started_at__gte=end).order_by("started_at").values_list("started_at", flat=True)
    previous_at, next_at = earlier.first(), later.first()
    return {
        "page": page,
        "language": language,
        "zone": zone,
        "month": month,
        "incidents": listed,
        "previous_month": previous_at.astimezone(zone).date().replace(day=1) if previous_at else None,
        "next_month": next_at.astimezone(zone).date().replace(day=1) if next_at else None,
    }


def incident_context(page: StatusPage, incident: Incident, *, language: str) -> dict:
    return {
        "page": page,
        "language": language,
        "zone": zoneinfo.ZoneInfo(page.time_zone),
        "incident": incident,
        "updates": sorted(incident.updates.all(), key=lambda update: (update.display_at, update.pk), reverse=True),
    }
