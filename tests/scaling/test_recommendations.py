"""Recommendations (RDS read replicas, ElastiCache replicas) approved on their own, the EC2 vCPU quota read
into the plan, and the T-10 check of the load balancer reservation, on moto's server.

moto holds no EC2 Service Quotas (only VPC's) and no LCU reservation, so those two answers are given at the
cloud/ adapter that reads them (each test says so); everything else is the simulated account.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cloud import services as cloud_services
from cloud.adapters import load_balancers as lb_adapter
from cloud.adapters import quotas as quota_adapter
from cloud.client import provider_client
from cloud.models import CloudAccount, StackResource
from cloud.scaling import read_replica_name
from portal.exceptions import Conflict
from scaling import executor, services
from scaling.models import PendingChange, ScalingAction, ScalingPlan
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import REGION, attach_discovered
from tests.conftest import api_client_for, client_for
from tests.scaling.conftest import apply_plan as _apply

aws = cloud_fixtures.aws


def _attach(event, kind: str, unit_rps: int | None = None) -> StackResource:
    return attach_discovered(event.stack, kind, unit_rps=unit_rps)


@pytest.fixture
def event_with_database(linked_event):
    """The demo event with its RDS instance attached; at 3,000 req/s per instance the plan wants replicas."""
    _attach(linked_event, "rds_instance", unit_rps=3000)
    return linked_event


def _replicas_on_aws(source: str) -> list[str]:
    instance = provider_client("rds", REGION).describe_db_instances(DBInstanceIdentifier=source)["DBInstances"][0]
    return sorted(instance["ReadReplicaDBInstanceIdentifiers"])


def test_a_recommendation_waits_for_its_own_approval_and_says_what_it_interrupts(
    personas, event_with_database, django_capture_on_commit_callbacks
):
    plan = services.plan_create(event=event_with_database, by=personas.engineer)
    database = plan.targets.get(kind="rds_instance")
    assert database.needs_separate_approval
    assert database.awaits_separate_approval()
    assert database.target["read_replicas"] > 0
    assert "Single-AZ" in database.outage_note
    assert "minute" in database.outage_note
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    assert plan.status == ScalingPlan.Status.APPLIED
    # Approving the plan did not approve the recommendation: nothing is queued for the database.
    assert not database.pending_changes.exists()

    page = client_for(personas.engineer).get(reverse("event-detail", args=["maison-lumiere", plan.event_id]))
    assert "Approve this change" in page.content.decode()


def test_approving_a_recommendation_creates_the_replicas_when_due_and_removes_them_after(
    personas, event_with_database, django_capture_on_commit_callbacks
):
    plan = services.plan_create(event=event_with_database, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    database = plan.targets.get(kind="rds_instance")
    with pytest.raises(PermissionDenied):
        services.recommendation_approve(target=database, by=personas.owner)

    unconfirmed = client_for(personas.engineer).post(
        reverse("scaling-recommendation-approve", args=["maison-lumiere", plan.event_id, plan.pk, database.pk])
    )
    assert unconfirmed.status_code == 302
    database.refresh_from_db()
    assert database.separately_approved_at is None
    client_for(personas.engineer).post(
        reverse("scaling-recommendation-approve", args=["maison-lumiere", plan.event_id, plan.pk, database.pk]),
        {"confirm": "yes"},
    )
    database.refresh_from_db()
    assert database.separately_approved_by == personas.engineer
    with pytest.raises(Conflict):
        services.recommendation_approve(target=database, by=personas.engineer)
    assert list(database.pending_changes.values_list("step", flat=True)) == ["up", "down-1"]

    wanted = database.target["read_replicas"] - database.now["read_replicas"]
    names = [read_replica_name(plan.pk, database.identifier, number) for number in range(1, wanted + 1)]
    assert executor.pending_changes_apply_due(now=database.scale_up_at) == 1
    assert executor.pending_changes_apply_due(now=database.scale_up_at) == 0  # a second beat
    assert _replicas_on_aws(database.name) == sorted(names)
    # A retry of the same step (the worker died before marking it done) creates nothing twice.
    up = database.pending_changes.get(step="up")
    PendingChange.objects.filter(pk=up.pk).update(status=PendingChange.Status.PENDING)
    executor.pending_changes_apply_due(now=database.scale_up_at)
    assert _replicas_on_aws(database.name) == sorted(names)
    creates = ScalingAction.objects.filter(target=database, operation="CreateDBInstanceReadReplica")
    assert creates.count() == wanted
    assert all(action.request_id for action in creates)

    revert_at = database.pending_changes.get(step="down-1").due_at
    executor.pending_changes_apply_due(now=revert_at)
    assert _replicas_on_aws(database.name) == []
    assert ScalingAction.objects.filter(target=database, operation="DeleteDBInstance").count() == wanted


def test_a_recommendation_approved_before_apply_is_queued_by_the_apply_and_cancel_sets_it_back(
    personas, event_with_database, django_capture_on_commit_callbacks
):
    plan = services.plan_create(event=event_with_database, by=personas.engineer)
    database = plan.targets.get(kind="rds_instance")
    services.recommendation_approve(target=database, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    executor.pending_changes_apply_due(now=database.scale_up_at)
    assert _replicas_on_aws(database.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_cancel(plan=plan, by=personas.engineer)
    assert _replicas_on_aws(database.name) == []
    assert set(database.pending_changes.values_list("status", flat=True)) == {"done", "cancelled"}


def test_recommendations_are_approved_through_the_api_by_engineers_only(personas, event_with_database):
    plan = services.plan_create(event=event_with_database, by=personas.engineer)
    database = plan.targets.get(kind="rds_instance")
    url = reverse("api:scaling-plan-approve-recommendation", args=[plan.pk])
    assert api_client_for(personas.owner).post(url, {"target": database.pk}, format="json").status_code == 403
    unknown = api_client_for(personas.engineer).post(url, {"target": 999999}, format="json")
    assert unknown.status_code == 400
    assert "target" in unknown.json()["errors"]
    answer = api_client_for(personas.engineer).post(url, {"target": database.pk}, format="json")
    assert answer.status_code == 200, answer.json()
    row = next(item for item in answer.json()["targets"] if item["id"] == database.pk)
    assert row["separately_approved_at"]


def test_discovery_reads_the_vcpus_running_and_says_why_the_quota_is_unknown(personas, linked_event):
    account = CloudAccount.objects.get()
    # An instance outside any group: its vCPUs stay in use during the spike.
    ec2 = provider_client("ec2", REGION)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="m5.xlarge", MinCount=1, MaxCount=1)
    cloud_services.account_discover(account_id=account.pk)
    account.refresh_from_db()
    read = account.quotas[REGION]
    group = linked_event.stack.resources.get(kind="autoscaling_group").name
    assert read["running_vcpus"][""] == 4
    assert read["running_vcpus"][group] >= 2
    # moto holds no EC2 Service Quotas: the reason is kept, and the plan says it could not check.
    assert "service-quotas" in read["error"]
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    assert plan.totals["vcpu_quota"]["error"] == read["error"]
    assert not plan.targets.get(kind="autoscaling_group").refused


def test_the_plan_refuses_a_scale_up_above_the_vcpu_quota_left(personas, linked_event, monkeypatch):
    # moto holds no EC2 Service Quotas: the quota is answered at the adapter that reads it.
    monkeypatch.setattr(quota_adapter, "ec2_on_demand_vcpu_quota", lambda link, region: 16.0)
    ec2 = provider_client("ec2", REGION)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="m5.xlarge", MinCount=1, MaxCount=1)
    cloud_services.account_discover(account_id=CloudAccount.objects.get().pk)
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    quota = plan.totals["vcpu_quota"]
    assert (quota["quota"], quota["elsewhere"], quota["available"]) == (16.0, 4, 12.0)
    group = plan.targets.get(kind="autoscaling_group")
    assert "vCPU quota of 12 available" in group.refused
    page = client_for(personas.engineer).get(reverse("event-detail", args=["maison-lumiere", linked_event.pk]))
    assert "16.0, of which 4 run outside this stack" in page.content.decode()


@pytest.fixture
def applied_plan_with_load_balancer(personas, linked_event, django_capture_on_commit_callbacks):
    _attach(linked_event, "load_balancer")
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    group = plan.targets.get(kind="autoscaling_group")
    asg = provider_client("autoscaling", REGION)
    asg.update_auto_scaling_group(
        AutoScalingGroupName=group.name, MinSize=group.target["min"], DesiredCapacity=group.target["desired"],
        MaxSize=group.target["max"],
    )  # fmt: skip
    return plan


def test_t_minus_10_flags_a_reservation_that_is_not_provisioned(
    personas, applied_plan_with_load_balancer, django_capture_on_commit_callbacks
):
    plan = applied_plan_with_load_balancer
    plan.event.assignee = personas.engineer
    plan.event.save(update_fields=["assignee"])
    mail.outbox = []
    # moto keeps no reservation (it has no ModifyCapacityReservation): it reports nothing reserved.
    with django_capture_on_commit_callbacks(execute=True):
        executor.plans_verify_due(now=plan.event.air_start - timedelta(minutes=9))
    plan.refresh_from_db()
    balancer = plan.targets.get(kind="load_balancer")
    assert plan.shortfall == [
        {
            "resource": balancer.name,
            "what": "LCUs reserved and provisioned",
            "in_service": 0,
            "target": balancer.target["reserved_lcu"],
            "state": "provisioned",
        }
    ]
    assert "LCUs reserved and provisioned" in mail.outbox[-1].body


def test_t_minus_10_accepts_a_provisioned_reservation_and_waits_on_a_pending_one(
    applied_plan_with_load_balancer, monkeypatch
):
    plan = applied_plan_with_load_balancer
    balancer = plan.targets.get(kind="load_balancer")
    lcu = balancer.target["reserved_lcu"]
    # The reservation's state is answered at the adapter: moto does not keep one.
    monkeypatch.setattr(
        lb_adapter,
        "load_balancer_capacity_reservation",
        lambda link, region, arn: lb_adapter.CapacityReservation(minimum_lcu=lcu, state="provisioned"),
    )
    executor.plans_verify_due(now=plan.event.air_start - timedelta(minutes=9))
    plan.refresh_from_db()
    assert plan.shortfall == []

    ScalingPlan.objects.filter(pk=plan.pk).update(verified_at=None)
    monkeypatch.setattr(
        lb_adapter,
        "load_balancer_capacity_reservation",
        lambda link, region, arn: lb_adapter.CapacityReservation(minimum_lcu=lcu, state="pending"),
    )
    executor.plans_verify_due(now=plan.event.air_start - timedelta(minutes=9))
    plan.refresh_from_db()
    assert plan.shortfall[0]["state"] == "pending"
    assert plan.shortfall[0]["in_service"] == 0


def test_an_approved_cache_recommendation_sets_the_replicas_then_sets_them_back(
    personas,
    linked_event,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from cloud import scaling as cloud_scaling

    # moto has no IncreaseReplicaCount (tests/cloud/test_scaling.py checks the calls with Stubber): record them.
    made = []

    def set_replicas(link, region, group_id, replicas):
        made.append((group_id, replicas))
        request = {"ReplicationGroupId": group_id, "NewReplicaCount": replicas, "ApplyImmediately": True}
        return cloud_scaling.AwsCall("elasticache", "IncreaseReplicaCount", request, {}, f"req-{len(made)}")

    monkeypatch.setattr(cloud_scaling, "elasticache_set_replicas", set_replicas)
    _attach(linked_event, "elasticache_replication_group", unit_rps=3000)
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    cache = plan.targets.get(kind="elasticache_replication_group")
    assert cache.awaits_separate_approval()
    assert "no outage" in cache.outage_note
    services.plan_approve(plan=plan, by=personas.engineer)
    _apply(plan, personas, django_capture_on_commit_callbacks)
    services.recommendation_approve(target=cache, by=personas.engineer)
    executor.pending_changes_apply_due(now=cache.scale_up_at)
    executor.pending_changes_apply_due(now=cache.pending_changes.get(step="down-1").due_at)
    assert made == [(cache.name, cache.target["replicas"]), (cache.name, cache.now["replicas"])]
    audit = list(ScalingAction.objects.filter(target=cache).values_list("operation", flat=True))
    assert audit[0] == "approve recommendation"
    assert audit.count("IncreaseReplicaCount") == 2
