"""Fixtures of the live room: an event on air whose stack holds the demo ALB, in a verified account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import MediaEvent
from tests.cloud.conftest import attach_discovered, link_demo_account
from tests.tenancy_matrix import make_event


@pytest.fixture
def on_air_event(personas, stack):
    """An event that went on air 10 minutes ago, 12 minutes long."""
    start = timezone.now() - timedelta(minutes=10)
    return make_event(
        personas.organization,
        stack=stack,
        status=MediaEvent.Status.ON_AIR,
        air_start=start,
        air_end=start + timedelta(minutes=12),
        title="Capital on M6",
    )


@pytest.fixture
def linked_on_air_event(personas, stack, on_air_event, aws):
    """The on-air event, its stack holding the seeded demo ALB, in a verified account on moto."""
    link_demo_account(personas.organization)
    attach_discovered(stack, "load_balancer")
    return on_air_event
