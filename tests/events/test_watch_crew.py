"""The watch crew of an air window: a lead and a backup, one overlapping air window per lead, handovers on
the timeline, and who watches what in the queue and the iCalendar feed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.services import engineer_grant
from events import services
from events.calendar import air_windows_ics
from events.models import MediaEvent, TimelineEntry
from tests.conftest import client_for
from tests.tenancy_matrix import make_event


@pytest.fixture
def second_engineer(db):
    user = User.objects.create_user(email="hugo.eng@provider.example", password="x", full_name="Hugo Engineer")
    engineer_grant(user=user)
    return user


def _event(personas, *, days_ahead=5, minutes_later=0, organization=None):
    event = make_event(organization or personas.organization, days_ahead=days_ahead, status=MediaEvent.Status.SUBMITTED)
    if minutes_later:
        MediaEvent.objects.filter(pk=event.pk).update(
            air_start=event.air_start + timedelta(minutes=minutes_later),
            air_end=event.air_end + timedelta(minutes=minutes_later),
        )
        event.refresh_from_db()
    return event


def test_an_engineer_cannot_lead_two_overlapping_air_windows(personas, second_engineer):
    first = _event(personas)
    services.event_assign(event=first, engineer=personas.engineer, by=personas.engineer)
    # Another client's segment starts five minutes into the first one's air window.
    clash = _event(personas, minutes_later=5, organization=personas.other_organization)
    with pytest.raises(ValidationError) as refused:
        services.event_assign(event=clash, engineer=personas.engineer, by=personas.engineer)
    message = refused.value.message_dict["assignee"][0]
    assert first.title in message
    assert "overlaps" in message
    # Accepting it with that lead is refused the same way.
    with pytest.raises(ValidationError):
        services.event_transition(event=clash, name="accept", by=personas.engineer, assignee=personas.engineer)
    # As backup they are welcome, and another engineer leads.
    services.event_assign(event=clash, engineer=second_engineer, by=personas.engineer)
    services.event_backup_set(event=clash, engineer=personas.engineer, by=personas.engineer)
    # A window that starts when the first ends does not overlap.
    later = _event(personas, minutes_later=12)
    services.event_assign(event=later, engineer=personas.engineer, by=personas.engineer)


def test_a_cancelled_event_frees_its_lead(personas):
    first = _event(personas)
    services.event_assign(event=first, engineer=personas.engineer, by=personas.engineer)
    services.event_transition(event=first, name="cancel", by=personas.owner, reason="Show moved")
    services.event_assign(event=_event(personas, minutes_later=3), engineer=personas.engineer, by=personas.engineer)


def test_handover_and_backup_are_recorded_on_the_timeline(personas, second_engineer):
    event = _event(personas)
    services.event_assign(event=event, engineer=personas.engineer, by=personas.engineer)
    services.event_backup_set(event=event, engineer=second_engineer, by=personas.engineer)
    with pytest.raises(ValidationError) as refused:
        services.event_backup_set(event=event, engineer=personas.engineer, by=personas.engineer)
    assert "backup" in refused.value.message_dict
    # The backup takes over the lead: a handover, and nobody backs themselves.
    services.event_assign(event=event, engineer=second_engineer, by=personas.engineer)
    event.refresh_from_db()
    assert (event.assignee, event.backup) == (second_engineer, None)
    messages = list(
        TimelineEntry.objects.filter(event=event, kind=TimelineEntry.Kind.ASSIGNMENT).values_list("message", flat=True)
    )
    assert messages == [
        "Assigned to Nadia Engineer.",
        "Backup: Hugo Engineer.",
        "Watch handed over from Nadia Engineer to Hugo Engineer.",
    ]
    with pytest.raises(PermissionDenied):
        services.event_backup_set(event=event, engineer=personas.engineer, by=personas.owner)


def test_the_event_page_queue_and_calendar_show_who_watches(personas, second_engineer):
    event = _event(personas)
    engineer = client_for(personas.engineer)
    response = engineer.post(
        reverse("event-assign", args=["maison-lumiere", event.pk]),
        {"assignee": personas.engineer.pk, "backup": second_engineer.pk},
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.assignee, event.backup) == (personas.engineer, second_engineer)
    page = engineer.get(reverse("event-detail", args=["maison-lumiere", event.pk])).content.decode()
    assert "Nadia Engineer (lead)" in page
    assert "Hugo Engineer (backup)" in page
    queue = engineer.get(reverse("engineering-queue")).content.decode()
    assert "backup Hugo Engineer" in queue
    ics = air_windows_ics([event], now=event.air_start - timedelta(days=1)).decode()
    assert "lead Nadia Engineer\\, backup Hugo Engineer" in ics
