"""The live room page: who opens it, what it shows, notes and the incident button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from live import services
from live.models import ObservedMinute, RoomNote
from status.models import Component, Incident
from tests.conftest import client_for
from tests.tenancy_matrix import make_status_page

pytestmark = pytest.mark.django_db


def _url(event, name="live-room"):
    return reverse(name, kwargs={"org": event.organization.slug, "pk": event.pk})


def _observe(event, minutes_after_air: int, **fields):
    return ObservedMinute.objects.create(
        event=event, minute=event.air_start.replace(second=0, microsecond=0) + timedelta(minutes=minutes_after_air),
        **fields,
    )  # fmt: skip


@pytest.mark.parametrize("who", ["owner", "member", "engineer"])
def test_the_room_shows_observed_traffic_over_the_forecast(personas, on_air_event, who):
    _observe(on_air_event, 1, requests=6000, errors_5xx=60, p95_ms=310.0)
    response = client_for(personas.by_name(who)).get(_url(on_air_event))
    assert response.status_code == 200
    html = response.content.decode()
    assert "chart-observed-dot" in html
    assert "chart-band" in html
    assert ">100<" in html  # 6,000 requests in the minute: 100 req/s
    assert "1 %" in html
    assert "310 ms" in html
    assert ("Declare an incident" in html) is (who == "engineer")


def test_missing_minutes_read_as_no_data_not_zero(personas, on_air_event):
    _observe(on_air_event, 1, requests=6000)
    _observe(on_air_event, 2, missing=True)
    html = client_for(personas.member).get(_url(on_air_event, "live-room-fragment")).content.decode()
    assert "no data" in html
    assert "chart-missing" in html
    assert "did not answer for 1 recent minute" in html


def test_outsider_and_anonymous_cannot_open_the_room(personas, on_air_event):
    assert client_for(personas.outsider).get(_url(on_air_event)).status_code == 404
    assert client_for(personas.outsider).get(_url(on_air_event, "live-room-fragment")).status_code == 404
    assert client_for(None).get(_url(on_air_event)).status_code == 302


def test_engineer_posts_a_note_and_member_cannot(personas, on_air_event):
    url = _url(on_air_event, "live-room-note")
    assert client_for(personas.member).post(url, {"text": "Looks fine"}).status_code == 403
    response = client_for(personas.engineer).post(url, {"text": "Spike starting, ASG at 12"})
    assert response.status_code == 302
    note = RoomNote.objects.get()
    assert note.author == personas.engineer
    assert note.text == "Spike starting, ASG at 12"
    html = client_for(personas.member).get(_url(on_air_event)).content.decode()
    assert "Spike starting, ASG at 12" in html


def test_an_empty_note_is_refused(personas, on_air_event):
    client_for(personas.engineer).post(_url(on_air_event, "live-room-note"), {"text": "  "})
    assert not RoomNote.objects.exists()


def test_engineer_declares_an_incident_on_the_status_page(personas, on_air_event):
    page = make_status_page(personas.organization)
    website = Component.objects.create(page=page, name="Website")
    Component.objects.create(page=page, name="API")
    data = {
        "name": "Checkout is slow",
        "body": "We are looking into slow checkouts.",
        "impact": "major",
        "components": [website.pk],
        "component_status": "degraded_performance",
    }
    assert client_for(personas.member).post(_url(on_air_event, "live-room-incident"), data).status_code == 403
    assert not Incident.objects.exists()

    response = client_for(personas.engineer).post(_url(on_air_event, "live-room-incident"), data)
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.page == page
    assert incident.impact == "major"
    assert list(incident.components.all()) == [website]
    website.refresh_from_db()
    assert website.status == "degraded_performance"
    note = RoomNote.objects.get()
    assert note.kind == RoomNote.Kind.ACTION
    assert "Checkout is slow" in note.text


def test_a_component_of_another_page_is_refused(personas, on_air_event):
    make_status_page(personas.organization)
    other = make_status_page(personas.other_organization)
    foreign = Component.objects.create(page=other, name="Theirs")
    with pytest.raises(services.ValidationError):
        services.room_incident_declare(
            event=on_air_event, by=personas.engineer, name="x", body="y", impact="minor",
            components=[foreign], component_status="major_outage",
        )  # fmt: skip
    assert not Incident.objects.exists()
    assert not RoomNote.objects.exists()


def test_runbook_steps_appear_in_the_room_timeline_by_themselves(personas, on_air_event):
    from runbooks import services as runbook_services

    runbook = runbook_services.runbook_create(
        by=personas.engineer, title="On-air watch", phase="on_air",
        steps=[{"kind": "manual_check", "title": "Watch the origin's error rate"}],
    )  # fmt: skip
    execution = runbook_services.execution_start(
        version=runbook.versions.get(), by=personas.engineer, event=on_air_event
    )
    step = execution.version.steps.get()
    runbook_services.step_complete(execution=execution, step=step, by=personas.engineer, note="5xx at 0.1 %")
    page = client_for(personas.member).get(_url(on_air_event, "live-room-fragment")).content.decode()
    assert "On-air watch: Watch the origin" in page
    assert "5xx at 0.1 %" in page
