"""Plan, approve, apply and cancel on the simulated AWS account (moto's server on loopback).

Invariant 2: after any apply every scheduled scale-up has its revert scheduled with it, on the AWS side;
after cancel, neither remains. Invariant 3: applying twice changes nothing more, and every call is audited.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from cloud.client import provider_client
from cloud.models import CloudAccount, StackResource
from events import services as event_services
from events.models import MediaEvent
from portal.exceptions import Conflict
from scaling import executor, services
from scaling.models import ScalingAction, ScalingPlan
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import REGION
from tests.conftest import client_for
from tests.scaling.conftest import actions_on_aws
from tests.scaling.conftest import apply_plan as _apply

aws = cloud_fixtures.aws


def test_plan_raises_min_and_desired_with_a_revert(personas, linked_event):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    target = plan.targets.get()
    assert target.now == {"min": 2, "desired": 2, "max": 6} or target.now["desired"] == 2
    assert target.target["min"] == target.target["desired"] > 2
    assert target.target["max"] > target.target["desired"]
    assert target.scale_up_at == linked_event.air_start - timedelta(minutes=45)
    assert target.revert_steps[-1][1]["desired"] == target.now["desired"]


def test_apply_schedules_the_scale_up_and_its_revert_then_cancel_removes_both(
    personas, linked_event, django_capture_on_commit_callbacks
):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    plan = _apply(plan, personas, django_capture_on_commit_callbacks)
    assert plan.status == ScalingPlan.Status.APPLIED
    group = plan.targets.get().name
    names = sorted(action["ScheduledActionName"] for action in actions_on_aws(group))
    assert [name.rsplit("-", 1)[-1] if "down" not in name else "down" for name in names].count("up") == 1
    assert any("-down-" in name for name in names), names
    # Every scale-up is followed by a revert to the values of now.
    scheduled = executor.plan_scheduled_on_aws(plan)[group]
    assert scheduled[0].desired > scheduled[-1].desired == 2
    audited = ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.OK)
    # One batch call put the scale-up and its revert steps together.
    assert list(audited.values_list("operation", flat=True)) == ["BatchPutScheduledUpdateGroupAction"]
    assert len(audited.get().request["ScheduledUpdateGroupActions"]) == len(names)
    assert all(action.request_id for action in audited)

    # Applying again (a retried task) makes no call and no duplicate.
    executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    ScalingPlan.objects.filter(pk=plan.pk).update(status=ScalingPlan.Status.APPLYING)
    executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    assert sorted(action["ScheduledActionName"] for action in actions_on_aws(group)) == names
    assert ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.UNCHANGED).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.plan_cancel(plan=plan, by=personas.engineer)
    assert actions_on_aws(group) == []


def test_cancelling_the_event_cancels_its_plan_on_aws(personas, linked_event, django_capture_on_commit_callbacks):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        event_services.event_transition(event=linked_event, name="cancel", by=personas.owner, reason="Segment dropped")
    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.CANCELLED
    assert actions_on_aws(plan.targets.get().name) == []


def test_apply_is_refused_when_the_forecast_changed(personas, linked_event):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    MediaEvent.objects.filter(pk=linked_event.pk).update(expected_audience=5_000_000)
    plan.refresh_from_db()
    with pytest.raises(Conflict, match="plan again"):
        services.plan_apply(plan=plan, by=personas.engineer)
    assert ScalingAction.objects.count() == 0


def test_clients_read_plans_but_cannot_plan_approve_or_apply(personas, linked_event):
    with pytest.raises(PermissionDenied):
        services.plan_create(event=linked_event, by=personas.owner)
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    with pytest.raises(PermissionDenied):
        services.plan_approve(plan=plan, by=personas.owner)
    page = client_for(personas.member).get(reverse("event-detail", args=["maison-lumiere", linked_event.pk]))
    assert "Scaling plan" in page.content.decode()
    assert "Approve</button>" not in page.content.decode()
    response = client_for(personas.owner).post(
        reverse("scaling-plan-action", args=["maison-lumiere", linked_event.pk, plan.pk, "approve"])
    )
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.PLANNED


def test_engineer_plans_approves_and_applies_from_the_event_page(
    personas, linked_event, django_capture_on_commit_callbacks
):
    client = client_for(personas.engineer)
    client.post(reverse("scaling-plan-create", args=["maison-lumiere", linked_event.pk]))
    plan = ScalingPlan.objects.get()
    for action in ("approve", "apply"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("scaling-plan-action", args=["maison-lumiere", linked_event.pk, plan.pk, action]))
    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.APPLIED
    page = client.get(reverse("event-detail", args=["maison-lumiere", linked_event.pk])).content.decode()
    assert "Applied" in page
    assert "BatchPutScheduledUpdateGroupAction" in page
    assert timezone.now() < plan.targets.get().scale_up_at


def _group(plan):
    target = plan.targets.get()
    return provider_client("autoscaling", REGION).describe_auto_scaling_groups(AutoScalingGroupNames=[target.name])[
        "AutoScalingGroups"
    ][0]


def test_scale_now_and_revert_now_need_confirmation_and_are_audited(
    personas, linked_event, django_capture_on_commit_callbacks
):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    client = client_for(personas.engineer)
    url = reverse("scaling-plan-action", args=["maison-lumiere", linked_event.pk, plan.pk, "scale-now"])
    refused = client.post(url, follow=True)
    assert "Tick the confirmation first" in refused.content.decode()
    assert _group(plan)["DesiredCapacity"] == 2

    client.post(url, {"confirm": "yes"})
    target = plan.targets.get()
    group = _group(plan)
    assert (group["MinSize"], group["DesiredCapacity"]) == (target.target["min"], target.target["desired"])

    client.post(
        reverse("scaling-plan-action", args=["maison-lumiere", linked_event.pk, plan.pk, "revert-now"]),
        {"confirm": "yes"},
    )
    assert _group(plan)["DesiredCapacity"] == 2
    operations = list(ScalingAction.objects.filter(plan=plan).values_list("operation", "message"))
    assert operations == [("UpdateAutoScalingGroup", "Scaled now."), ("UpdateAutoScalingGroup", "Reverted now.")]


def test_kill_switch_stops_every_automated_change(personas, linked_event, django_capture_on_commit_callbacks):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    client = client_for(personas.engineer)
    client.post(
        reverse("automation-switch", args=["maison-lumiere"]),
        {"paused": "yes", "reason": "Client's own migration tonight", "confirm": "yes"},
    )
    assert CloudAccount.objects.get().automation_paused
    with pytest.raises(Conflict, match="paused"):
        services.plan_apply(plan=plan, by=personas.engineer)
    with pytest.raises(Conflict, match="paused"):
        services.plan_scale_now(plan=plan, by=personas.engineer)
    # A task already queued when the switch went on changes nothing either.
    ScalingPlan.objects.filter(pk=plan.pk).update(status=ScalingPlan.Status.APPLYING)
    executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    assert actions_on_aws(plan.targets.get().name) == []
    assert ScalingPlan.objects.get(pk=plan.pk).status == ScalingPlan.Status.FAILED
    audit = list(ScalingAction.objects.values_list("operation", flat=True))
    assert audit[0] == "pause automation"
    # Clients cannot touch the switch.
    response = client_for(personas.owner).post(
        reverse("automation-switch", args=["maison-lumiere"]), {"paused": "no", "confirm": "yes"}
    )
    assert response.status_code == 403
    assert CloudAccount.objects.get().automation_paused


def test_t_minus_10_verification_alerts_the_engineer_on_a_shortfall(
    personas, linked_event, django_capture_on_commit_callbacks, mailoutbox
):
    linked_event.assignee = personas.engineer
    linked_event.save()
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    # moto never runs scheduled actions, so at T-10 the group still has its 2 instances.
    with django_capture_on_commit_callbacks(execute=True):
        verified = executor.plans_verify_due(now=linked_event.air_start - timedelta(minutes=9))
    assert [item.pk for item in verified] == [plan.pk]
    plan.refresh_from_db()
    assert plan.shortfall[0]["in_service"] == 2
    assert plan.shortfall[0]["target"] == plan.targets.get().target["desired"]
    assert [message.to for message in mailoutbox] == [[personas.engineer.email]]
    assert "Capacity short 10 minutes before air" in mailoutbox[0].subject
    # Checked once.
    assert executor.plans_verify_due(now=linked_event.air_start - timedelta(minutes=8)) == []
    from events.risk import event_risk
    from events.selectors import event_queue

    queued = event_queue(user=personas.engineer, now=timezone.now()).get(pk=linked_event.pk)
    assert "capacity short 10 minutes before air" in event_risk(queued, now=timezone.now()).reasons


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_plan_end_to_end(personas, linked_event):
    import time

    from celery.contrib.testing.worker import start_worker

    from portal.celery import QUEUES, app

    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=10):
        services.plan_apply(plan=plan, by=personas.engineer)
        deadline = time.monotonic() + 30
        while ScalingPlan.objects.get(pk=plan.pk).status == ScalingPlan.Status.APPLYING:
            assert time.monotonic() < deadline, "the plan was not applied"
            time.sleep(0.05)
    assert ScalingPlan.objects.get(pk=plan.pk).status == ScalingPlan.Status.APPLIED
    assert len(actions_on_aws(plan.targets.get().name)) >= 2


def test_plans_through_the_api(personas, linked_event):
    from tests.conftest import api_client_for

    engineer = api_client_for(personas.engineer)
    created = engineer.post(reverse("api:scaling-plan-list"), {"event": linked_event.pk}, format="json")
    assert created.status_code == 201, created.json()
    plan_id = created.json()["id"]
    assert created.json()["targets"][0]["target"]["desired"] > 2

    member = api_client_for(personas.member)
    assert member.get(reverse("api:scaling-plan-detail", args=[plan_id])).json()["status"] == "planned"
    assert member.post(reverse("api:scaling-plan-approve", args=[plan_id])).status_code == 403
    assert engineer.post(reverse("api:scaling-plan-approve", args=[plan_id])).json()["status"] == "approved"
    again = engineer.post(reverse("api:scaling-plan-approve", args=[plan_id]))
    assert again.status_code == 409
    assert engineer.get(reverse("api:scaling-plan-audit", args=[plan_id])).json() == []


def test_the_organizations_caps_refuse_a_target_with_the_reason(personas, linked_event):
    services.policy_update(organization=personas.organization, by=personas.owner, max_instances=10, safety_factor=2)
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    assert plan.safety_factor == 2
    target = plan.targets.get()
    assert target.refused
    assert "10" in target.refused


def test_with_co_approval_the_plan_needs_an_owner_too(personas, linked_event):
    services.policy_update(organization=personas.organization, by=personas.owner, client_co_approval=True)
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    plan = services.plan_approve(plan=plan, by=personas.engineer)
    assert plan.status == ScalingPlan.Status.PLANNED
    with pytest.raises(Conflict, match="Only an approved plan"):
        services.plan_apply(plan=plan, by=personas.engineer)
    with pytest.raises(PermissionDenied):
        services.plan_approve(plan=plan, by=personas.member)
    page = client_for(personas.owner).get(reverse("event-detail", args=["maison-lumiere", linked_event.pk]))
    assert "Co-approve the plan" in page.content.decode()
    plan = services.plan_approve(plan=plan, by=personas.owner)
    assert plan.status == ScalingPlan.Status.APPROVED
    assert plan.client_approved_by == personas.owner


def test_members_cannot_change_the_scaling_policy(personas):
    response = client_for(personas.member).post(
        reverse("scaling-policy", args=["maison-lumiere"]), {"safety_factor": "1.0", "max_instances": "1"}
    )
    assert response.status_code == 403
    bad = client_for(personas.owner).post(reverse("scaling-policy", args=["maison-lumiere"]), {"safety_factor": "9"})
    assert bad.status_code == 400
    assert "safety_factor" in bad.context["form"].errors


@pytest.fixture
def reservations(monkeypatch):
    """moto has no ModifyCapacityReservation (tests/cloud/test_scaling.py checks the call with Stubber): record it."""
    from cloud import scaling as cloud_scaling

    made = []

    def reserve(link, region, arn, minimum_lcu):
        made.append(minimum_lcu)
        request = {"LoadBalancerArn": arn}
        request.update({"MinimumLoadBalancerCapacity": {"CapacityUnits": minimum_lcu}} if minimum_lcu else
                       {"ResetCapacityReservation": True})  # fmt: skip
        return cloud_scaling.AwsCall(
            "elasticloadbalancing", "ModifyCapacityReservation", request, {}, f"req-{len(made)}"
        )

    monkeypatch.setattr(cloud_scaling, "load_balancer_reserve_capacity", reserve)
    return made


@pytest.fixture
def event_with_load_balancer(linked_event):
    from cloud.inventory import discover as read

    found = read(CloudAccount.objects.get().role_link(), REGION, include_global=False)
    balancer = next(resource for resource in found.resources if resource.kind == "load_balancer")
    StackResource.objects.create(
        stack=linked_event.stack,
        kind=balancer.kind,
        identifier=balancer.identifier,
        name=balancer.name,
        region=REGION,
        capacity=balancer.capacity,
    )
    return linked_event


def test_load_balancer_reservation_and_its_revert_are_applied_by_the_reconciler_once(
    personas, event_with_load_balancer, reservations, django_capture_on_commit_callbacks
):
    from scaling.models import PendingChange

    event = event_with_load_balancer
    plan = services.plan_create(event=event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    executor.plan_apply_now(plan_id=plan.pk, actor_id=None)  # a retried apply queues nothing more
    balancer = plan.targets.get(kind="load_balancer")
    steps = list(balancer.pending_changes.values_list("step", flat=True))
    assert steps[0] == "up"
    assert any(step.startswith("down") for step in steps)

    assert executor.pending_changes_apply_due(now=balancer.scale_up_at - timedelta(minutes=1)) == 0
    assert executor.pending_changes_apply_due(now=balancer.scale_up_at) == 1
    assert executor.pending_changes_apply_due(now=balancer.scale_up_at) == 0  # a second beat
    assert reservations == [balancer.target["reserved_lcu"]]
    revert_due = balancer.pending_changes.exclude(step="up").order_by("due_at").last().due_at
    executor.pending_changes_apply_due(now=revert_due)
    assert reservations[-1] is None  # back to no reservation, as before the plan
    assert not PendingChange.objects.filter(status=PendingChange.Status.PENDING).exists()


def test_cancelling_after_the_reservation_sets_it_back(
    personas, event_with_load_balancer, reservations, django_capture_on_commit_callbacks
):
    from scaling.models import PendingChange

    plan = services.plan_create(event=event_with_load_balancer, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    balancer = plan.targets.get(kind="load_balancer")
    executor.pending_changes_apply_due(now=balancer.scale_up_at)
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_cancel(plan=plan, by=personas.engineer)
    assert reservations == [balancer.target["reserved_lcu"], None]
    assert set(balancer.pending_changes.values_list("status", flat=True)) == {
        PendingChange.Status.DONE,
        PendingChange.Status.CANCELLED,
    }


def test_the_kill_switch_holds_pending_reservations(
    personas, event_with_load_balancer, reservations, django_capture_on_commit_callbacks
):
    plan = services.plan_create(event=event_with_load_balancer, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    services.automation_pause(organization=personas.organization, by=personas.engineer, paused=True, reason="freeze")
    balancer = plan.targets.get(kind="load_balancer")
    assert executor.pending_changes_apply_due(now=balancer.scale_up_at) == 0
    assert reservations == []


def test_after_the_revert_time_the_plan_is_confirmed_back_to_normal_even_if_workers_were_down(
    personas, linked_event, django_capture_on_commit_callbacks
):
    """moto does not run scheduled actions: the group stays where the plan found it, as AWS would have left it
    after running the scale-up and then the revert while every Primetime worker and beat were stopped."""
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    plan = _apply(plan, personas, django_capture_on_commit_callbacks)
    last = max(step[0] for step in plan.targets.get().revert_steps)
    from datetime import datetime

    last = datetime.fromisoformat(last)
    assert executor.plans_check_reverted(now=last + timedelta(minutes=1)) == {"reverted": 0, "not_reverted": 0}
    assert executor.plans_check_reverted(now=last + timedelta(minutes=10)) == {"reverted": 1, "not_reverted": 0}
    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.REVERTED
    assert plan.actions.filter(operation="check revert", result=ScalingAction.Result.UNCHANGED).count() == 1
    assert executor.plans_check_reverted(now=last + timedelta(minutes=15)) == {"reverted": 0, "not_reverted": 0}


def test_a_group_left_scaled_up_after_the_revert_alerts_the_engineer_once(
    personas, linked_event, django_capture_on_commit_callbacks, mailoutbox
):
    from datetime import datetime

    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    plan = _apply(plan, personas, django_capture_on_commit_callbacks)
    event_services.event_assign(event=linked_event, engineer=personas.engineer, by=personas.engineer)
    target = plan.targets.get()
    # The scale-up ran, the revert did not (someone deleted it in the console): the group is still scaled up.
    provider_client("autoscaling", REGION).update_auto_scaling_group(
        AutoScalingGroupName=target.name, MinSize=target.target["min"], MaxSize=target.target["max"],
        DesiredCapacity=target.target["desired"],
    )  # fmt: skip
    later = datetime.fromisoformat(max(step[0] for step in target.revert_steps)) + timedelta(minutes=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert executor.plans_check_reverted(now=later)["not_reverted"] == 1
        assert executor.plans_check_reverted(now=later + timedelta(minutes=5))["not_reverted"] == 1
    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.APPLIED
    alerts = [message for message in mailoutbox if "not back to normal" in message.subject.lower()]
    assert len(alerts) == 1
    assert f"min {target.target['min']} (was {target.now['min']})" in alerts[0].body
    # An engineer reverts now: the next check confirms it.
    services.plan_scale_now(plan=plan, by=personas.engineer, revert=True)
    assert executor.plans_check_reverted(now=later + timedelta(minutes=10))["reverted"] == 1
