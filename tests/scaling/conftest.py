"""Fixtures for plans on the simulated account, on a moto server of each test module's own (``moto_endpoint``)."""

from __future__ import annotations

import pytest

from cloud.client import provider_client
from events.models import MediaEvent
from scaling import services
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import REGION, attach_discovered, link_demo_account
from tests.tenancy_matrix import make_event


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback, one per test module (see tests/readiness/test_aws_checks.py for why module scope)."""
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


def actions_on_aws(group_name: str) -> list[dict]:
    """The scheduled actions the Auto Scaling group holds on (simulated) AWS."""
    client = provider_client("autoscaling", REGION)
    return client.describe_scheduled_actions(AutoScalingGroupName=group_name)["ScheduledUpdateGroupActions"]


@pytest.fixture
def linked_event(personas, stack, aws):
    """An accepted event whose stack holds the seeded demo ASG (250 req/s per instance) in a verified account."""
    link_demo_account(personas.organization)
    attach_discovered(stack, "autoscaling_group", unit_rps=250)
    return make_event(personas.organization, stack=stack, status=MediaEvent.Status.ACCEPTED, days_ahead=3)


def apply_plan(plan, personas, django_capture_on_commit_callbacks):
    """Apply an approved plan as the engineer, running the task the commit enqueues."""
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_apply(plan=plan, by=personas.engineer)
    plan.refresh_from_db()
    return plan
