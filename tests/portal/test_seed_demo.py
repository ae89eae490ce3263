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
    assert [event.status for event in events] == ["reviewed", "submitted"]
    upcoming = events.last()
    assert upcoming.rebroadcasts.count() == 1
    assert upcoming.peak_visits_per_s > 100


def test_demo_data_is_refused_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing"):
        call_command("seed_demo")
