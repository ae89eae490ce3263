"""The events API: filters, the forecast series, and the schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import MediaEvent
from tests.conftest import api_client_for

Status = MediaEvent.Status


def test_list_filters_by_status_and_date_range(personas, event_factory):
    soon = event_factory(status=Status.SUBMITTED, days_ahead=2)
    later = event_factory(status=Status.ACCEPTED, days_ahead=20)
    event_factory(status=Status.CANCELLED, days_ahead=40)
    client = api_client_for(personas.owner)

    def ids(**params):
        return [row["id"] for row in client.get(reverse("api:event-list"), params).json()["results"]]

    assert ids(status=["submitted", "accepted"]) == [soon.pk, later.pk]
    assert ids(air_before=(timezone.now() + timedelta(days=10)).isoformat()) == [soon.pk]
    assert ids(air_after=(timezone.now() + timedelta(days=10)).isoformat(), status="accepted") == [later.pk]
    bad = client.get(reverse("api:event-list"), {"status": "sleeping", "air_after": "soon"})
    assert bad.status_code == 400
    assert {"status", "air_after"} <= set(bad.json()["errors"])


def test_forecast_endpoint_returns_the_per_minute_series(personas, event_factory):
    event = event_factory(status=Status.SUBMITTED)
    response = api_client_for(personas.member).get(reverse("api:event-forecast", args=[event.pk]))
    assert response.status_code == 200
    body = response.json()
    minutes = [point["minute"] for point in body["points"]]
    assert minutes[0] == -30
    assert minutes == list(range(-30, minutes[-1] + 1))
    assert minutes[-1] >= 12 + 180
    first = body["points"][0]
    assert set(first) == {"minute", "at", "visits_per_s", "edge_rps", "origin_rps", "sessions"}
    assert first["origin_rps"]["likely"] == body["baseline_rps"] == 40
    peak = body["peak_visits_per_s"]
    assert peak["value"]["low"] < peak["value"]["likely"] < peak["value"]["high"]
    assert abs(body["total_visits"]["likely"] - 2_000_000 * 0.02) < 1


def test_forecast_follows_the_organizations_parameters(personas, event_factory, django_capture_on_commit_callbacks):
    event = event_factory(status=Status.SUBMITTED)
    client = api_client_for(personas.owner)
    before = client.get(reverse("api:event-forecast", args=[event.pk])).json()["peak_visits_per_s"]["value"]["likely"]
    from events import services

    with django_capture_on_commit_callbacks(execute=True):
        services.forecast_profile_update(
            organization=personas.organization, by=personas.owner, values={"visit_rate": 0.04}
        )
    after = client.get(reverse("api:event-forecast", args=[event.pk])).json()["peak_visits_per_s"]["value"]["likely"]
    assert abs(after - 2 * before) < 1e-6 * after
    event.refresh_from_db()
    assert abs(event.peak_visits_per_s - after) < 1e-6 * after


def test_forecast_parameters_out_of_range_name_the_field(personas):
    from django.core.exceptions import ValidationError

    from events import services

    with pytest.raises(ValidationError) as error:
        services.forecast_profile_update(
            organization=personas.organization, by=personas.owner, values={"visit_rate": 3, "cdn_hit_ratio": -1}
        )
    assert {"visit_rate", "cdn_hit_ratio"} <= set(error.value.message_dict)


def test_stack_api_refuses_internal_urls(personas):
    response = api_client_for(personas.owner).post(
        reverse("api:stack-list"),
        {"organization": "maison-lumiere", "name": "Site", "landing_url": "http://127.0.0.1:8000/"},
        format="json",
    )
    assert response.status_code == 400
    assert "landing_url" in response.json()["errors"]


def test_stack_with_events_cannot_be_deleted(personas, event_factory, stack):
    event_factory()
    response = api_client_for(personas.owner).delete(reverse("api:stack-detail", args=[stack.pk]))
    assert response.status_code == 400
    assert "stays as their record" in response.json()["errors"]["non_field_errors"][0]
