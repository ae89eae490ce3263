"""Filters for the public status page: uptime bar colours and titles, percentages, status labels."""

from __future__ import annotations

from django import template
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from status.models import ComponentStatus, Incident
from status.statuspage import INDICATOR_DESCRIPTIONS

register = template.Library()

INDICATOR_LABELS = {
    "none": lambda: _("All systems operational"),
    "minor": lambda: _("Minor service outage"),
    "major": lambda: _("Partial system outage"),
    "critical": lambda: _("Major system outage"),
    "maintenance": lambda: _("Service under maintenance"),
}


@register.filter
def indicator_label(indicator: str) -> str:
    label = INDICATOR_LABELS.get(indicator)
    return label() if label else INDICATOR_DESCRIPTIONS.get(indicator, indicator)


@register.filter
def component_status_label(status: str) -> str:
    try:
        return ComponentStatus(status).label
    except ValueError:
        return status


@register.filter
def incident_status_label(status: str) -> str:
    try:
        return Incident.Status(status).label
    except ValueError:
        return status


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return _("no data")
    # Two decimals, never rounding a bad day up to 100 %.
    shown = min(value, 99.99) if value < 100 else 100
    return f"{number_format(shown, 2)} %"


@register.filter
def day_class(day) -> str:
    return f"day-{day.worst or 'none'}"


@register.filter
def day_title(day) -> str:
    """Describe one day of a bar for the tooltip and for screen readers."""
    label = date_format(day.day, "DATE_FORMAT")
    if not day.total:
        return f"{label}: {_('no data')}"
    parts = [f"{label}: {percent(day.percent)}"]
    for status in ("major_outage", "partial_outage", "degraded_performance", "under_maintenance"):
        seconds = day.seconds.get(status, 0)
        if seconds:
            minutes = max(1, round(seconds / 60))
            parts.append(
                _("%(status)s %(minutes)d min") % {"status": ComponentStatus(status).label, "minutes": minutes}
            )
    return " · ".join(parts)
