"""An engineer plans, approves and applies the pre-scaling of a booked segment, on the simulated AWS account."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cloud.client import provider_client
from events.models import MediaEvent
from scaling.models import ScalingPlan
from tests.browser.conftest import sign_in
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import REGION, attach_discovered, link_demo_account
from tests.conftest import PASSWORD
from tests.tenancy_matrix import make_event, make_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
aws = cloud_fixtures.aws


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback for this module (see tests/readiness/test_aws_checks.py for why module scope)."""
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


def test_engineer_plans_approves_applies_and_sees_the_audit(personas, page, screenshot, aws):
    link_demo_account(personas.organization)
    stack = make_stack(personas.organization, name="Shop website")
    group = attach_discovered(stack, "autoscaling_group", unit_rps=250)
    event = make_event(personas.organization, stack=stack, title="Capital on M6", status=MediaEvent.Status.ACCEPTED)

    sign_in(page, personas.engineer.email, PASSWORD)
    page.goto(f"/o/maison-lumiere/events/{event.pk}/")
    page.get_by_role("button", name="Plan the scaling").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Planned")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Approved")
    page.get_by_role("button", name="Apply on AWS").click()
    # Tasks run in-process in tests: the plan is applied when the page comes back.
    expect(page.get_by_test_id("plan-status")).to_have_text("Applied")
    page.get_by_text("Audit log (1 AWS call)").click()
    expect(page.get_by_text("BatchPutScheduledUpdateGroupAction")).to_be_visible()
    screenshot("scaling-plan-applied")

    actions = provider_client("autoscaling", REGION).describe_scheduled_actions(AutoScalingGroupName=group.name)
    assert len(actions["ScheduledUpdateGroupActions"]) >= 2
    assert ScalingPlan.objects.get().status == ScalingPlan.Status.APPLIED
