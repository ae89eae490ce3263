"""The engineers' iCalendar feed: a signed private URL, air windows only, revoked with the password."""

from __future__ import annotations

from django.urls import reverse
from icalendar import Calendar

from events.calendar import calendar_url
from events.models import MediaEvent
from tests.conftest import client_for

Status = MediaEvent.Status


def test_feed_lists_air_windows_with_their_engineer(personas, event_factory):
    event = event_factory(status=Status.ACCEPTED, assignee=personas.engineer)
    event_factory(status=Status.DRAFT, days_ahead=30)
    response = client_for(None).get(calendar_url(personas.engineer))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    entries = list(calendar.walk("VEVENT"))
    assert len(entries) == 1
    entry = entries[0]
    assert str(entry["summary"]) == "Maison Lumière: Segment of Maison Lumière"
    assert entry.decoded("dtstart") == event.air_start.replace(microsecond=0)
    assert "lead Nadia Engineer" in str(entry["description"])


def test_feed_link_is_shown_on_the_queue(personas):
    page = client_for(personas.engineer).get(reverse("engineering-queue")).content.decode()
    assert calendar_url(personas.engineer) in page


def test_tampered_or_foreign_links_are_not_found(personas):
    url = calendar_url(personas.engineer)
    assert client_for(None).get(url.replace("air-windows", "x")).status_code == 404
    assert client_for(None).get(url[:-25] + "A" * 10 + "/air-windows.ics").status_code == 404
    # A client is never an engineer, so a link signed for them leads nowhere.
    assert client_for(None).get(calendar_url(personas.owner)).status_code == 404


def test_changing_the_password_revokes_the_link(personas):
    url = calendar_url(personas.engineer)
    personas.engineer.set_password("a-brand-new-passphrase")
    personas.engineer.save()
    assert client_for(None).get(url).status_code == 404
