"""Booking and changing media events: every field validated with its name, nothing half-written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import MediaEvent, Rebroadcast, TimelineEntry
from tests.conftest import api_client_for, client_for

Status = MediaEvent.Status
IN_TEN_DAYS = timezone.now() + timedelta(days=10)


def _payload(of, **overrides):
    start = overrides.pop("start", timezone.now() + timedelta(days=10))
    body = {
        "organization": of.organization.slug,
        "stack": of.pk,
        "title": "Capital on M6",
        "kind": "tv_segment",
        "channel": "M6",
        "programme": "Capital",
        "air_start": start.isoformat(),
        "air_end": (start + timedelta(minutes=12)).isoformat(),
        "expected_audience": 2_921_000,
        "audience_share": "12.5",
    }
    body.update(overrides)
    return body


def _form_data(stack, **overrides):
    start = overrides.pop("start", timezone.localtime(timezone.now() + timedelta(days=10)))
    data = {
        "event-title": "Capital on M6",
        "event-kind": "tv_segment",
        "event-stack": str(stack.pk),
        "event-channel": "M6",
        "event-programme": "Capital",
        "event-air_start": start.strftime("%Y-%m-%dT%H:%M"),
        "event-air_end": (start + timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M"),
        "event-expected_audience": "2921000",
        "event-audience_share": "12.5",
        "event-url_exposure": "on_screen",
        "event-landing_urls": "",
        "event-notes": "",
        "rebroadcasts-TOTAL_FORMS": "2",
        "rebroadcasts-INITIAL_FORMS": "0",
        "rebroadcasts-MIN_NUM_FORMS": "0",
        "rebroadcasts-MAX_NUM_FORMS": "10",
        "action": "submit",
    }
    data.update(overrides)
    return data


def test_client_books_through_the_api_with_the_stacks_urls(personas, stack):
    response = api_client_for(personas.member).post(reverse("api:event-list"), _payload(stack), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["landing_urls"] == [stack.landing_url]
    assert body["peak_visits_per_s"] > 100
    assert body["allowed_transitions"] == ["submit"]
    event = MediaEvent.objects.get(pk=body["id"])
    assert event.created_by == personas.member
    assert TimelineEntry.objects.filter(event=event).count() == 1


def test_client_books_and_submits_through_the_page(personas, stack, mailoutbox, django_capture_on_commit_callbacks):
    data = _form_data(stack)
    data["rebroadcasts-0-air_start"] = timezone.localtime(IN_TEN_DAYS + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.owner).post(reverse("event-create", args=["maison-lumiere"]), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    event = MediaEvent.objects.get()
    assert event.status == Status.SUBMITTED
    assert Rebroadcast.objects.filter(event=event).count() == 1
    # Times typed in the form are the organization's (Europe/Paris).
    assert timezone.localtime(event.air_start, timezone.get_fixed_timezone(0)).utcoffset() == timedelta(0)
    assert [message.to for message in mailoutbox] == [[personas.engineer.email]]
    assert "New booking from Maison Lumière" in mailoutbox[0].subject
    page = client_for(personas.owner).get(response["Location"]).content.decode()
    assert "Traffic forecast" in page
    assert "<svg" in page


BAD_API_BODIES = [
    ({"start": timezone.now() - timedelta(hours=1)}, {"air_start"}),
    ({"air_end": "2020-01-01T00:00:00Z"}, {"air_end"}),
    ({"air_end": (IN_TEN_DAYS + timedelta(hours=30)).isoformat(), "start": IN_TEN_DAYS}, {"air_end"}),
    ({"expected_audience": 0}, {"expected_audience"}),
    ({"expected_audience": 100_000_001}, {"expected_audience"}),
    ({"expected_audience": "many"}, {"expected_audience"}),
    ({"audience_share": "101"}, {"audience_share"}),
    ({"audience_share": "-1"}, {"audience_share"}),
    ({"landing_urls": ["ftp://example.com/"]}, {"landing_urls"}),
    ({"landing_urls": ["http://169.254.169.254/latest/meta-data/"]}, {"landing_urls"}),
    ({"landing_urls": ["https://localhost/"]}, {"landing_urls"}),
    ({"landing_urls": "https://example.com/"}, {"landing_urls"}),
    ({"kind": "billboard"}, {"kind"}),
    ({"url_exposure": "telepathy"}, {"url_exposure"}),
    ({"title": ""}, {"title"}),
    ({"title": "x" * 200}, {"title"}),
    ({"stack": 999_999}, {"stack"}),
    ({"organization": "velo-vert"}, {"organization"}),
    ({"air_start": "tomorrow"}, {"air_start"}),
    ({"rebroadcasts": [{"air_start": "2020-01-01T00:00:00Z"}]}, {"rebroadcasts"}),
    ({"rebroadcasts": [{"expected_audience": 10}]}, {"rebroadcasts"}),
]


@pytest.mark.parametrize(("overrides", "fields"), BAD_API_BODIES)
def test_bad_booking_names_the_field_and_writes_nothing(personas, stack, overrides, fields):
    response = api_client_for(personas.owner).post(
        reverse("api:event-list"), _payload(stack, **overrides), format="json"
    )
    assert response.status_code == 400, response.json()
    assert fields <= set(response.json()["errors"]), response.json()
    assert not MediaEvent.objects.exists()
    assert not TimelineEntry.objects.exists()


BAD_FORMS = [
    ({"event-air_start": "2020-01-01T10:00", "event-air_end": "2020-01-01T10:10"}, {"air_start"}),
    ({"event-air_end": "2000-01-01T00:00"}, {"air_end"}),
    ({"event-expected_audience": "0"}, {"expected_audience"}),
    ({"event-audience_share": "150"}, {"audience_share"}),
    ({"event-landing_urls": "https://example.com/\nhttp://10.0.0.7/admin"}, {"landing_urls"}),
    ({"event-title": ""}, {"title"}),
    ({"event-stack": "999999"}, {"stack"}),
]


@pytest.mark.parametrize(("overrides", "fields"), BAD_FORMS)
def test_bad_booking_form_names_the_field(personas, stack, overrides, fields):
    response = client_for(personas.owner).post(
        reverse("event-create", args=["maison-lumiere"]), _form_data(stack, **overrides)
    )
    assert response.status_code == 400
    assert fields <= set(response.context["form"].errors), response.context["form"].errors
    assert not MediaEvent.objects.exists()


def test_rebroadcast_before_the_first_airing_is_refused_in_the_form(personas, stack):
    data = _form_data(stack, **{"rebroadcasts-0-air_start": "2020-01-01T10:00"})
    response = client_for(personas.owner).post(reverse("event-create", args=["maison-lumiere"]), data)
    assert response.status_code == 400
    assert "rebroadcast" in response.content.decode().lower()
    assert not MediaEvent.objects.exists()


def test_http_landing_url_is_allowed_with_a_warning(personas, stack):
    response = api_client_for(personas.owner).post(
        reverse("api:event-list"), _payload(stack, landing_urls=["http://www.lumiere.example/"]), format="json"
    )
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "http://www.lumiere.example/ is not https: visitors may see a security warning."
    ]


def test_overlapping_booking_of_the_same_stack_is_refused(personas, stack, event_factory):
    existing = event_factory(status=Status.SUBMITTED)
    start = existing.air_start + timedelta(minutes=5)
    response = api_client_for(personas.owner).post(
        reverse("api:event-list"), _payload(stack, start=start), format="json"
    )
    assert response.status_code == 400
    assert "already booked" in response.json()["errors"]["air_start"][0]
    # A cancelled booking does not block the slot.
    existing.status = Status.CANCELLED
    existing.save()
    response = api_client_for(personas.owner).post(
        reverse("api:event-list"), _payload(stack, start=start), format="json"
    )
    assert response.status_code == 201


def test_client_change_after_acceptance_reopens_the_review(
    personas, event_factory, mailoutbox, django_capture_on_commit_callbacks
):
    event = event_factory(status=Status.ACCEPTED, assignee=personas.engineer)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(personas.member).patch(
            reverse("api:event-detail", args=[event.pk]), {"expected_audience": 4_000_000}, format="json"
        )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    entry = TimelineEntry.objects.get(event=event)
    assert entry.message == "Changed after acceptance: review re-opened."
    assert entry.changes == {"expected_audience": ["2000000", "4000000"]}
    assert [message.to for message in mailoutbox] == [[personas.engineer.email]]
    event.refresh_from_db()
    assert event.peak_visits_per_s > 0


def test_engineer_change_after_acceptance_keeps_the_status(personas, event_factory):
    event = event_factory(status=Status.READY, assignee=personas.engineer)
    response = api_client_for(personas.engineer).patch(
        reverse("api:event-detail", args=[event.pk]), {"notes": "Checkout is fragile"}, format="json"
    )
    assert response.json()["status"] == "ready"
    assert TimelineEntry.objects.get(event=event).kind == "change"


def test_aired_event_cannot_be_changed(personas, event_factory):
    event = event_factory(status=Status.COMPLETED)
    response = api_client_for(personas.owner).patch(
        reverse("api:event-detail", args=[event.pk]), {"title": "Rewritten"}, format="json"
    )
    assert response.status_code == 409
    event.refresh_from_db()
    assert event.title != "Rewritten"


def test_an_unchanged_save_writes_no_timeline(personas, event_factory):
    event = event_factory(status=Status.ACCEPTED)
    api_client_for(personas.member).patch(
        reverse("api:event-detail", args=[event.pk]), {"title": event.title}, format="json"
    )
    event.refresh_from_db()
    assert event.status == Status.ACCEPTED
    assert not TimelineEntry.objects.filter(event=event).exists()


def test_booking_page_explains_each_field(personas, stack):
    html = client_for(personas.member).get(reverse("event-create", args=["maison-lumiere"])).content.decode()
    for text in ("Air time", "Expected audience", "How many people watch or listen", "Rebroadcasts"):
        assert text in html


def test_booking_without_a_stack_first_asks_for_one(personas):
    response = client_for(personas.owner).get(reverse("event-create", args=["maison-lumiere"]))
    assert response["Location"] == reverse("stack-create", args=["maison-lumiere"])
