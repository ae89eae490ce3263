"""The public JSON in Atlassian Statuspage's v2 shapes, field for field, so its clients and widgets read it.

Pure functions of model rows: the publisher calls them once per change and stores the bytes; webhooks
send the same ``incident`` and ``component`` objects.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch

from status.models import COMPONENT_SEVERITY, Component, ComponentGroup, Incident, IncidentUpdate, StatusPage

MAX_INCIDENTS = 50

INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
INDICATOR_ORDER = ["none", "maintenance", "minor", "major", "critical"]
COMPONENT_INDICATOR = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}


def iso(value: datetime | None, zone: zoneinfo.ZoneInfo) -> str | None:
    """ISO 8601 with the page's offset and milliseconds, as Statuspage writes them."""
    if value is None:
        return None
    return value.astimezone(zone).isoformat(timespec="milliseconds")


def page_url(page: StatusPage) -> str:
    if page.custom_domain:
        return f"https://{page.custom_domain}"
    return f"{settings.SITE_URL}/status/{page.slug}"


def page_object(page: StatusPage, updated_at: datetime | None = None) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return {
        "id": page.public_id,
        "name": page.name,
        "url": page_url(page),
        "time_zone": page.time_zone,
        "updated_at": iso(updated_at or page.published_at or page.updated_at, zone),
    }


def component_object(component: Component, zone: zoneinfo.ZoneInfo, page: StatusPage) -> dict:
    return {
        "id": component.public_id,
        "name": component.name,
        "status": component.status,
        "created_at": iso(component.created_at, zone),
        "updated_at": iso(component.updated_at, zone),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": component.group.public_id if component.group_id else None,
        "page_id": page.public_id,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def group_object(group: ComponentGroup, members: list[Component], zone: zoneinfo.ZoneInfo, page: StatusPage) -> dict:
    worst = max((COMPONENT_SEVERITY.index(member.status) for member in members), default=0)
    return {
        "id": group.public_id,
        "name": group.name,
        "status": COMPONENT_SEVERITY[worst].value,
        "created_at": iso(group.created_at, zone),
        "updated_at": iso(group.updated_at, zone),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page.public_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [member.public_id for member in members],
    }


def components_list(page: StatusPage, components: list[Component], groups: list[ComponentGroup]) -> list[dict]:
    """Return groups and components in Statuspage's flat list, ordered by position (groups' children after)."""
    zone = zoneinfo.ZoneInfo(page.time_zone)
    rows = []
    by_group: dict[int, list[Component]] = {}
    for component in components:
        by_group.setdefault(component.group_id, []).append(component)
    entries: list[tuple[int, int, dict]] = []
    for group in groups:
        entries.append((group.position, 0, group_object(group, by_group.get(group.pk, []), zone, page)))
    for component in components:
        entries.append((component.position, 1, component_object(component, zone, page)))
    for _position, _kind, row in sorted(entries, key=lambda entry: (entry[0], entry[1])):
        rows.append(row)
    return rows


def update_object(update: IncidentUpdate, zone: zoneinfo.ZoneInfo) -> dict:
    return {
        "id": update.public_id,
        "status": update.status,
        "body": update.body,
        "incident_id": update.incident.public_id,
        "created_at": iso(update.created_at, zone),
        "updated_at": iso(update.updated_at, zone),
        "display_at": iso(update.display_at, zone),
        "affected_components": update.affected_components or None,
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_object(incident: Incident, page: StatusPage) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    updates = sorted(incident.updates.all(), key=lambda update: (update.display_at, update.pk), reverse=True)
    for update in updates:
        update.incident = incident  # already loaded: no query per update
    data = {
        "id": incident.public_id,
        "name": incident.name,
        "status": incident.status,
        "created_at": iso(incident.created_at, zone),
        "updated_at": iso(incident.updated_at, zone),
        "monitoring_at": iso(incident.monitoring_at, zone),
        "resolved_at": iso(incident.resolved_at, zone),
        "impact": incident.impact,
        "shortlink": f"{page_url(page)}/incidents/{incident.public_id}/",
        "started_at": iso(incident.started_at, zone),
        "page_id": page.public_id,
        "incident_updates": [update_object(update, zone) for update in updates],
        "components": [component_object(component, zone, page) for component in incident.components.all()],
    }
    if incident.is_maintenance:
        data["scheduled_for"] = iso(incident.scheduled_for, zone)
        data["scheduled_until"] = iso(incident.scheduled_until, zone)
    if incident.postmortem_published_at:
        data["postmortem_body"] = incident.postmortem_body
        data["postmortem_published_at"] = iso(incident.postmortem_published_at, zone)
    return data


def with_details(queryset):
    """Load what ``incident_object`` reads in three queries, whatever the number of incidents."""
    return queryset.prefetch_related(
        Prefetch("updates", IncidentUpdate.objects.order_by("-display_at", "-pk")),
        Prefetch("components", Component.objects.select_related("group")),
    )


def status_indicator(components: list[Component], unresolved: list[Incident], active_maintenance: bool) -> dict:
    """Roll the page up to one indicator: the worst of component statuses and unresolved incidents' impact.

    Maintenance shows only when nothing is worse.
    """
    levels = [COMPONENT_INDICATOR[component.status] for component in components]
    levels += [incident.impact for incident in unresolved if incident.impact in INDICATOR_ORDER]
    if active_maintenance:
        levels.append("maintenance")
    indicator = max(levels, key=INDICATOR_ORDER.index, default="none")
    return {"indicator": indicator, "description": INDICATOR_DESCRIPTIONS[indicator]}
