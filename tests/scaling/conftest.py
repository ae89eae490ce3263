"""Fixtures for plans on the simulated account; each module brings its own moto server (``moto_endpoint``)."""

from __future__ import annotations

import pytest

from cloud.inventory import discover
from cloud.models import CloudAccount, StackResource
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account
from events.models import MediaEvent
from scaling import services
from tests.cloud.conftest import ACCOUNT_ID, REGION
from tests.tenancy_matrix import make_event


@pytest.fixture
def linked_event(personas, stack, aws):
    """An accepted event whose stack holds the seeded demo ASG (250 req/s per instance) in a verified account."""
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
    group = next(resource for resource in found.resources if resource.kind == "autoscaling_group")
    StackResource.objects.create(
        stack=stack,
        kind=group.kind,
        identifier=group.identifier,
        name=group.name,
        region=REGION,
        capacity=group.capacity,
        details=group.details,
        unit_rps=250,
    )
    return make_event(personas.organization, stack=stack, status=MediaEvent.Status.ACCEPTED, days_ahead=3)


def apply_plan(plan, personas, django_capture_on_commit_callbacks):
    """Apply an approved plan as the engineer, running the task the commit enqueues."""
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_apply(plan=plan, by=personas.engineer)
    plan.refresh_from_db()
    return plan
