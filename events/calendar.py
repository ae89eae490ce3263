"""The engineers' iCalendar feed of air windows, behind a signed private URL."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from icalendar import Calendar, Event

from accounts.models import User
from events.models import MediaEvent

SALT = "primetime.events.calendar"


def calendar_token(user: User) -> str:
    # The session hash changes with the password: changing it revokes old feed links.
    return signing.dumps({"u": user.pk, "h": user.get_session_auth_hash()[:12]}, salt=SALT)


def calendar_url(user: User) -> str:
    return reverse("calendar-feed", args=[calendar_token(user)])


def user_from_calendar_token(token: str) -> User | None:
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not user.is_engineer or user.get_session_auth_hash()[:12] != payload.get("h"):
        return None
    return user


def air_windows_ics(events: list[MediaEvent], *, now: datetime) -> bytes:
    """Render air windows as an iCalendar file: one VEVENT per airing window, with who watches it."""
    calendar = Calendar()
    calendar.add("prodid", "-//Primetime//Air windows//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Primetime air windows")
    for event in events:
        entry = Event()
        entry.add("uid", f"media-event-{event.pk}@primetime")
        entry.add("dtstamp", now)
        entry.add("dtstart", event.air_start)
        entry.add("dtend", event.air_end)
        entry.add("summary", f"{event.organization.name}: {event.title}")
        watcher = event.assignee.display_name if event.assignee else "unassigned"
        if event.backup:
            watcher += f", backup {event.backup.display_name}"
        entry.add(
            "description",
            f"{event.get_kind_display()} on {event.channel or '?'} · audience {event.expected_audience:,} · "
            f"status {event.get_status_display()} · lead {watcher}",
        )
        entry.add("url", settings.SITE_URL + reverse("event-detail", args=[event.organization.slug, event.pk]))
        entry.add("status", "CANCELLED" if event.status == MediaEvent.Status.CANCELLED else "CONFIRMED")
        calendar.add_component(entry)
    return calendar.to_ical()
