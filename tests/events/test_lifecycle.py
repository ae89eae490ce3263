"""Every transition, allowed and refused, by role; the clock moves events on air and completes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from events import lifecycle, services
from events.models import MediaEvent, TimelineEntry
from tests.conftest import api_client_for, client_for

Status = MediaEvent.Status

# (transition, starting status, who may, who may not)
RULES = [
    ("submit", Status.DRAFT, ["owner", "member", "engineer"], []),
    ("accept", Status.SUBMITTED, ["engineer"], ["owner", "member"]),
    ("prepare", Status.ACCEPTED, ["engineer"], ["owner", "member"]),
    ("mark_ready", Status.PREPARING, ["engineer"], ["owner", "member"]),
    ("go_on_air", Status.READY, ["engineer"], ["owner", "member"]),
    ("complete", Status.ON_AIR, ["engineer"], ["owner", "member"]),
    ("review", Status.COMPLETED, ["engineer"], ["owner", "member"]),
    ("cancel", Status.SUBMITTED, ["owner", "engineer"], ["member"]),
]
ACTION_PATHS = {"mark_ready": "mark-ready", "go_on_air": "go-on-air"}


def _allowed_cases():
    return [(name, status, persona) for name, status, allowed, _refused in RULES for persona in allowed]


def _refused_cases():
    return [(name, status, persona) for name, status, _allowed, refused in RULES for persona in refused]


@pytest.mark.parametrize(("name", "status", "persona"), _allowed_cases())
def test_allowed_transition_through_the_api(personas, event_factory, name, status, persona):
    event = event_factory(status=status, assignee=personas.engineer if status != Status.DRAFT else None)
    response = api_client_for(personas.by_name(persona)).post(
        reverse(f"api:event-{ACTION_PATHS.get(name, name)}", args=[event.pk]), {"reason": "because"}, format="json"
    )
    assert response.status_code == 200, response.json()
    event.refresh_from_db()
    assert event.status == lifecycle.TRANSITIONS[name].target
    entry = TimelineEntry.objects.filter(event=event).last()
    assert (entry.from_status, entry.to_status, entry.actor) == (status, event.status, personas.by_name(persona))


@pytest.mark.parametrize(("name", "status", "persona"), _refused_cases())
def test_refused_transition_by_role(personas, event_factory, name, status, persona):
    event = event_factory(status=status)
    response = api_client_for(personas.by_name(persona)).post(
        reverse(f"api:event-{ACTION_PATHS.get(name, name)}", args=[event.pk]), {"reason": "because"}, format="json"
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.status == status
    assert not TimelineEntry.objects.filter(event=event).exists()


@pytest.mark.parametrize("name", [rule[0] for rule in RULES])
def test_outsider_cannot_even_see_the_event(personas, event_factory, name):
    event = event_factory(status=Status.SUBMITTED)
    response = api_client_for(personas.outsider).post(
        reverse(f"api:event-{ACTION_PATHS.get(name, name)}", args=[event.pk]), {"reason": "x"}, format="json"
    )
    assert response.status_code == 404


def test_illegal_transition_is_a_409_with_the_allowed_next_states(personas, event_factory):
    event = event_factory(status=Status.DRAFT)
    response = api_client_for(personas.engineer).post(reverse("api:event-accept", args=[event.pk]))
    assert response.status_code == 409
    body = response.json()
    assert "The event is draft; it cannot move to accepted" in body["detail"]
    assert body["allowed_next_statuses"] == ["cancelled", "submitted"]


def test_illegal_transition_in_the_page_is_a_message(personas, event_factory):
    event = event_factory(status=Status.COMPLETED)
    response = client_for(personas.engineer).post(
        reverse("event-transition", args=[personas.organization.slug, event.pk, "cancel"]), {"reason": "x"}, follow=True
    )
    assert response.status_code == 200
    assert "The event is completed; it cannot move to cancelled" in response.content.decode()


def test_cancel_needs_a_reason(personas, event_factory):
    event = event_factory(status=Status.SUBMITTED)
    response = api_client_for(personas.owner).post(reverse("api:event-cancel", args=[event.pk]), {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    event.refresh_from_db()
    assert event.status == Status.SUBMITTED


def test_cannot_cancel_once_on_air(personas, event_factory):
    event = event_factory(status=Status.ON_AIR)
    with pytest.raises(services.IllegalTransition) as error:
        services.event_transition(event=event, name="cancel", by=personas.engineer, reason="too late")
    assert error.value.allowed == ["completed"]


def test_accept_assigns_the_accepting_engineer(personas, event_factory, mailoutbox, django_capture_on_commit_callbacks):
    event = event_factory(status=Status.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.event_transition(event=event, name="accept", by=personas.engineer)
    event.refresh_from_db()
    assert event.assignee == personas.engineer
    recipients = sorted(message.to[0] for message in mailoutbox)
    assert recipients == sorted([personas.owner.email, personas.member.email])
    assert "Accepted:" in mailoutbox[0].subject
    assert f"/o/maison-lumiere/events/{event.pk}/" in mailoutbox[0].body


def test_accept_refuses_a_client_as_assignee(personas, event_factory):
    event = event_factory(status=Status.SUBMITTED)
    with pytest.raises(ValidationError) as error:
        services.event_transition(event=event, name="accept", by=personas.engineer, assignee=personas.owner)
    assert "assignee" in error.value.message_dict


def test_two_concurrent_accepts_make_one_move(personas, event_factory):
    event = event_factory(status=Status.SUBMITTED)
    stale_copy = MediaEvent.objects.get(pk=event.pk)
    services.event_transition(event=event, name="accept", by=personas.engineer)
    with pytest.raises(services.IllegalTransition):
        services.event_transition(event=stale_copy, name="accept", by=personas.engineer)
    assert TimelineEntry.objects.filter(event=event, to_status=Status.ACCEPTED).count() == 1


def test_clock_puts_due_events_on_air_and_completes_them_once(personas, event_factory):
    now = timezone.now()
    due = event_factory(status=Status.READY, days_ahead=0, air_start=now - timedelta(minutes=1))
    not_yet = event_factory(status=Status.READY, days_ahead=1)
    ended = event_factory(
        status=Status.ON_AIR, air_start=now - timedelta(hours=5), air_end=now - timedelta(hours=4, minutes=50)
    )
    draft = event_factory(status=Status.DRAFT, air_start=now - timedelta(minutes=5), air_end=now + timedelta(minutes=5))

    assert services.events_advance_by_clock(now=now) == {"on_air": 1, "completed": 1}
    # A second run (or a second beat by mistake) changes nothing more.
    assert services.events_advance_by_clock(now=now) == {"on_air": 0, "completed": 0}

    statuses = {event.pk: MediaEvent.objects.get(pk=event.pk).status for event in (due, not_yet, ended, draft)}
    assert statuses == {due.pk: "on_air", not_yet.pk: "ready", ended.pk: "completed", draft.pk: "draft"}
    clock_entries = TimelineEntry.objects.filter(actor__isnull=True)
    assert clock_entries.count() == 2


def test_clock_notes_an_event_that_goes_on_air_unprepared(personas, event_factory):
    now = timezone.now()
    event = event_factory(status=Status.SUBMITTED, days_ahead=0, air_start=now - timedelta(minutes=1))
    services.events_advance_by_clock(now=now)
    entry = TimelineEntry.objects.get(event=event, to_status=Status.ON_AIR)
    assert entry.message == "On air while still submitted."


def test_timeline_is_append_only(personas, event_factory):
    event = event_factory(status=Status.SUBMITTED)
    services.event_transition(event=event, name="accept", by=personas.engineer)
    entry = TimelineEntry.objects.get(event=event)
    entry.message = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_member_sees_only_the_buttons_their_role_allows(personas, event_factory):
    event = event_factory(status=Status.SUBMITTED)
    page = client_for(personas.member).get(reverse("event-detail", args=[personas.organization.slug, event.pk]))
    html = page.content.decode()
    assert ">Accept<" not in html
    assert "Cancel the event" not in html
    engineer_page = client_for(personas.engineer).get(
        reverse("event-detail", args=[personas.organization.slug, event.pk])
    )
    assert ">Accept<" in engineer_page.content.decode()


def test_role_rules_match_the_service(personas, event_factory):
    """A member's refused accept is refused by the service itself, not only hidden."""
    event = event_factory(status=Status.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.event_transition(event=event, name="accept", by=personas.member)
