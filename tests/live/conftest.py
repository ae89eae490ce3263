"""Fixtures of the live room: an event on air whose stack holds the demo ALB, in a verified account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cloud.inventory import discover
from cloud.models import CloudAccount, StackResource
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account
from events.models import MediaEvent
from tests.cloud.conftest import ACCOUNT_ID, REGION
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
    seeded = seed_demo_account(region=REGION)
    CloudAccount.objects.create(
        organization=personas.organization,
        role_arn=seeded["role_arn"],
        external_id=DEMO_EXTERNAL_ID,
        status=CloudAccount.Status.VERIFIED,
        aws_account_id=ACCOUNT_ID,
        regions=[REGION],
    )
    found = discover(CloudAccount.objects.get().role_link(), REGION, include_global=False)
    balancer = next(resource for resource in found.resources if resource.kind == "load_balancer")
    StackResource.objects.create(
        stack=stack,
        kind=balancer.kind,
        identifier=balancer.identifier,
        name=balancer.name,
        region=REGION,
        capacity=balancer.capacity,
        details=balancer.details,
    )
    return on_air_event
