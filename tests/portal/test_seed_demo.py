from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organization, User
from events.models import MediaEvent


def test_demo_data_is_loaded_once_with_a_booked_segment_and_a_past_one(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert set(Organization.objects.values_list("slug", flat=True)) == {"maison-lumiere", "velo-vert"}
    assert User.objects.get(email="nadia@provider.example").is_engineer
    events = MediaEvent.objects.filter(organization__slug="maison-lumiere").order_by("air_start")
    assert [event.status for event in events] == ["reviewed", "on_air", "submitted"]
    upcoming = events.last()
    assert upcoming.rebroadcasts.count() == 1
    assert upcoming.peak_visits_per_s > 100


def test_the_demo_status_pages_are_published_with_history(db, settings, client):
    from status.models import Incident, StatusPage

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert set(StatusPage.objects.values_list("slug", flat=True)) == {"maison-lumiere", "primetime"}
    assert Incident.objects.filter(page__slug="maison-lumiere", kind="incident", status="resolved").count() == 3
    summary = client.get("/status/maison-lumiere/api/v2/summary.json").json()
    assert summary["status"]["indicator"] == "none"
    assert [item["name"] for item in summary["scheduled_maintenances"]] == ["TV segment on M6: expect high traffic"]
    html = client.get("/status/maison-lumiere/").content.decode()
    assert "Site unavailable after a deployment" in html
    assert client.get("/status/primetime/").status_code == 200


def test_demo_data_is_refused_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing"):
        call_command("seed_demo")
