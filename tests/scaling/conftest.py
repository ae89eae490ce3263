"""Fixtures for plans on the simulated account; each module brings its own moto server (``moto_endpoint``)."""

from __future__ import annotations

import pytest

from events.models import MediaEvent
from scaling import services
from tests.cloud.conftest import attach_discovered, link_demo_account
from tests.tenancy_matrix import make_event


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
