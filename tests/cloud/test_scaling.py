"""cloud.scaling applies a plan's capacity changes on the simulated account (moto's server), idempotently.

Tests that change the account seed it themselves (``seeded``), so the shared
demo stack stays read-only; the error tests answer through botocore's Stubber on
the cached client and never reach the account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from botocore.stub import Stubber

from cloud.client import RoleLink, aws_client, provider_client
from cloud.exceptions import AccessDenied, InvalidRequest, TransientCloudError
from cloud.resources import ResourceKind
from cloud.scaling import (
    AwsCall,
    ScheduledChange,
    asg_schedule,
    asg_scheduled_actions,
    asg_set_capacity,
    asg_unschedule,
    elasticache_set_replicas,
    load_balancer_reserve_capacity,
    plan_prefix,
    scalable_target_schedule,
    scalable_target_scheduled_actions,
    scalable_target_unschedule,
    scheduled_action_name,
)
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account
from tests.cloud.conftest import REGION

PLAN_ID = 42
AIR = datetime(2031, 3, 14, 20, 30, tzinfo=UTC)
READ_ONLY = ("Describe", "List", "Get")
READ_UNITS = "dynamodb:table:ReadCapacityUnits"


@pytest.fixture
def seeded() -> dict[str, Any]:
    """Seed the demo stack in this test's own (emptied) account and return it with its link and group name."""
    stack = seed_demo_account(region=REGION)
    stack["link"] = RoleLink(role_arn=stack["role_arn"], external_id=DEMO_EXTERNAL_ID)
    stack["group"] = stack[ResourceKind.autoscaling_group.value].split(":autoScalingGroupName/", 1)[1]
    return stack


def _record_operations(link: RoleLink, service: str) -> list[str]:
    """Return a list that fills with the name of every operation the cached client sends from now on."""
    operations: list[str] = []
    client = aws_client(link, service, REGION)
    client.meta.events.register(
        "before-call.*.*", lambda model, **_: operations.append(model.name), unique_id=f"record-{id(operations)}"
    )
    return operations


def _mutating(operations: list[str]) -> list[str]:
    return [name for name in operations if not name.startswith(READ_ONLY)]


def _asg_plan(group: str) -> list[ScheduledChange]:
    """Return a plan's scale-up 45 minutes before air and its revert, in two steps, back to the seeded 2/2/6."""
    return [
        ScheduledChange(scheduled_action_name(PLAN_ID, group, "up"), AIR - timedelta(minutes=45), 8, 12, 8),
        ScheduledChange(scheduled_action_name(PLAN_ID, group, "down-1"), AIR + timedelta(minutes=60), 4, 12, 4),
        ScheduledChange(scheduled_action_name(PLAN_ID, group, "down-2"), AIR + timedelta(minutes=90), 2, 6, 2),
    ]


def _account_actions(group: str) -> list[dict[str, Any]]:
    """Return what the simulated account itself holds for the group (read with the portal's own client)."""
    return provider_client("autoscaling", REGION).describe_scheduled_actions(AutoScalingGroupName=group)[
        "ScheduledUpdateGroupActions"
    ]


def test_scheduled_action_names_derive_from_plan_resource_and_step():
    group_arn = "arn:aws:autoscaling:eu-west-3:1:autoScalingGroup:x:autoScalingGroupName/web"
    name = scheduled_action_name(7, group_arn, "up")

    assert name == scheduled_action_name(7, group_arn, "up")
    assert name.startswith(plan_prefix(7))
    assert name.endswith("-up")
    assert not name.startswith(plan_prefix(70))
    assert scheduled_action_name(7, "other", "up") != name
    assert scheduled_action_name(7, "x" * 5000, "down-2").__len__() <= 255
    with pytest.raises(InvalidRequest, match="step"):
        scheduled_action_name(7, "web", "Down 1")


def test_schedule_up_and_revert_on_the_group_and_read_them_back(seeded):
    link, group = seeded["link"], seeded["group"]

    calls = asg_schedule(link, REGION, group, _asg_plan(group))

    # One batch call carries the scale-up and both revert steps.
    assert [call.operation for call in calls] == ["BatchPutScheduledUpdateGroupAction"]
    assert len(calls[0].request["ScheduledUpdateGroupActions"]) == 3
    assert all(call.request_id for call in calls)
    assert all(call.before is None for call in calls)
    held = {action["ScheduledActionName"]: action for action in _account_actions(group)}
    assert set(held) == {change.name for change in _asg_plan(group)}
    up = held[scheduled_action_name(PLAN_ID, group, "up")]
    assert (up["MinSize"], up["MaxSize"], up["DesiredCapacity"]) == (8, 12, 8)
    assert up["StartTime"] == AIR - timedelta(minutes=45)

    # Invariant 2: what AWS holds under the plan is the scale-up and its revert, together.
    scheduled = asg_scheduled_actions(link, REGION, group, plan_prefix(PLAN_ID))
    assert scheduled == _asg_plan(group)
    ups = [change for change in scheduled if change.name.endswith("-up")]
    reverts = [change for change in scheduled if "-down-" in change.name]
    assert ups
    assert all(any(revert.at > up.at for revert in reverts) for up in ups)
    assert (reverts[-1].min_size, reverts[-1].desired) == (2, 2)


def test_every_request_states_absolute_sizes_and_a_start_time(seeded):
    calls = asg_schedule(seeded["link"], REGION, seeded["group"], _asg_plan(seeded["group"]))

    actions = [action for call in calls for action in call.request["ScheduledUpdateGroupActions"]]
    assert len(actions) == 3
    for action in actions:
        assert {"MinSize", "MaxSize", "DesiredCapacity", "StartTime"} <= set(action)
        assert all(isinstance(action[key], int) for key in ("MinSize", "MaxSize", "DesiredCapacity"))
        assert not {"AdjustmentType", "ScalingAdjustment", "Recurrence"} & set(action)
        datetime.fromisoformat(action["StartTime"])  # JSON-safe for the audit row


def test_applying_twice_makes_no_mutating_call_and_no_duplicate(seeded):
    link, group = seeded["link"], seeded["group"]
    asg_schedule(link, REGION, group, _asg_plan(group))
    operations = _record_operations(link, "autoscaling")

    again = asg_schedule(link, REGION, group, _asg_plan(group))

    assert again == []
    assert operations == ["DescribeScheduledActions"]
    assert sorted(action["ScheduledActionName"] for action in _account_actions(group)) == sorted(
        change.name for change in _asg_plan(group)
    )


def test_a_changed_step_overwrites_its_own_action_only(seeded):
    link, group = seeded["link"], seeded["group"]
    plan = _asg_plan(group)
    asg_schedule(link, REGION, group, plan)
    replanned = [ScheduledChange(plan[0].name, plan[0].at, 10, 14, 10), *plan[1:]]

    [call] = asg_schedule(link, REGION, group, replanned)

    [action] = call.request["ScheduledUpdateGroupActions"]
    assert action["ScheduledActionName"] == plan[0].name
    [before] = call.before["ScheduledUpdateGroupActions"]
    assert (before["MinSize"], action["MinSize"]) == (8, 10)
    assert len(_account_actions(group)) == 3


def test_unschedule_removes_the_plan_and_a_second_unschedule_is_a_no_op(seeded):
    link, group = seeded["link"], seeded["group"]
    asg_schedule(link, REGION, group, _asg_plan(group))
    names = [change.name for change in _asg_plan(group)]

    [call] = asg_unschedule(link, REGION, group, [*names, scheduled_action_name(PLAN_ID, group, "never-made")])

    assert call.operation == "BatchDeleteScheduledAction"
    assert sorted(call.request["ScheduledActionNames"]) == sorted(names)
    assert len(call.before["ScheduledUpdateGroupActions"]) == 3
    assert _account_actions(group) == []
    assert asg_scheduled_actions(link, REGION, group, plan_prefix(PLAN_ID)) == []
    operations = _record_operations(link, "autoscaling")
    assert asg_unschedule(link, REGION, group, names) == []
    assert _mutating(operations) == []


def test_scheduled_actions_are_read_per_plan(seeded):
    link, group = seeded["link"], seeded["group"]
    asg_schedule(link, REGION, group, _asg_plan(group))
    other = ScheduledChange(scheduled_action_name(PLAN_ID + 1, group, "up"), AIR, 3, 6, 3)
    asg_schedule(link, REGION, group, [other])

    assert [change.name for change in asg_scheduled_actions(link, REGION, group, plan_prefix(PLAN_ID + 1))] == [
        other.name
    ]
    assert len(asg_scheduled_actions(link, REGION, group, plan_prefix(PLAN_ID))) == 3


def test_set_capacity_now_uses_absolute_values(seeded):
    link, group = seeded["link"], seeded["group"]

    call = asg_set_capacity(link, REGION, group, min_size=4, max_size=10, desired=5)

    assert call.operation == "UpdateAutoScalingGroup"
    assert call.request == {"AutoScalingGroupName": group, "MinSize": 4, "MaxSize": 10, "DesiredCapacity": 5}
    [found] = provider_client("autoscaling", REGION).describe_auto_scaling_groups(AutoScalingGroupNames=[group])[
        "AutoScalingGroups"
    ]
    assert (found["MinSize"], found["MaxSize"], found["DesiredCapacity"]) == (4, 10, 5)


def test_bad_changes_are_refused_naming_the_field(seeded):
    link, group = seeded["link"], seeded["group"]
    naive = ScheduledChange("primetime-plan-1-x-up", datetime(2031, 1, 1), 1, 2, 1)  # noqa: DTZ001
    with pytest.raises(InvalidRequest, match="at must be an aware datetime"):
        asg_schedule(link, REGION, group, [naive])
    with pytest.raises(InvalidRequest, match="changes nothing"):
        asg_schedule(link, REGION, group, [ScheduledChange("primetime-plan-1-x-up", AIR, None, None, None)])
    with pytest.raises(InvalidRequest, match="desired"):
        scalable_target_schedule(link, REGION, "dynamodb", "table/t", READ_UNITS, [ScheduledChange("n", AIR, 1, 2, 1)])
    assert _account_actions(group) == []


def test_application_auto_scaling_schedules_a_dynamodb_table_idempotently(seeded):
    link = seeded["link"]
    table = seeded[ResourceKind.dynamodb_table.value].rsplit("/", 1)[1]
    target = ("dynamodb", f"table/{table}", READ_UNITS)
    provider_client("application-autoscaling", REGION).register_scalable_target(
        ServiceNamespace=target[0], ResourceId=target[1], ScalableDimension=target[2], MinCapacity=10, MaxCapacity=40
    )
    plan = [
        ScheduledChange(scheduled_action_name(PLAN_ID, target[1], "up"), AIR - timedelta(minutes=45), 200, 400),
        ScheduledChange(scheduled_action_name(PLAN_ID, target[1], "down-1"), AIR + timedelta(minutes=60), 10, 40),
    ]

    calls = scalable_target_schedule(link, REGION, *target, plan)

    # Latest first: cut short, the table would hold a revert without its scale-up, never the reverse.
    assert [call.request["Schedule"] for call in calls] == ["at(2031-03-14T21:30:00)", "at(2031-03-14T19:45:00)"]
    assert calls[1].request["ScalableTargetAction"] == {"MinCapacity": 200, "MaxCapacity": 400}
    assert scalable_target_scheduled_actions(link, REGION, *target, plan_prefix(PLAN_ID)) == plan

    operations = _record_operations(link, "application-autoscaling")
    assert scalable_target_schedule(link, REGION, *target, plan) == []
    assert _mutating(operations) == []
    held = provider_client("application-autoscaling", REGION).describe_scheduled_actions(ServiceNamespace="dynamodb")
    assert len(held["ScheduledActions"]) == 2

    deleted = scalable_target_unschedule(link, REGION, *target, [change.name for change in plan])
    assert [call.operation for call in deleted] == ["DeleteScheduledAction"] * 2
    assert scalable_target_scheduled_actions(link, REGION, *target, plan_prefix(PLAN_ID)) == []
    assert scalable_target_unschedule(link, REGION, *target, [change.name for change in plan]) == []


def test_throttling_is_transient(link, demo_stack):
    """Stubber on the cached Auto Scaling client: the read passes, the put is throttled."""
    group = demo_stack[ResourceKind.autoscaling_group.value].split(":autoScalingGroupName/", 1)[1]
    [change] = _asg_plan(group)[:1]
    with Stubber(aws_client(link, "autoscaling", REGION)) as stub:
        stub.add_response("describe_scheduled_actions", {"ScheduledUpdateGroupActions": []})
        stub.add_client_error(
            "batch_put_scheduled_update_group_action", service_error_code="Throttling", http_status_code=400
        )
        with pytest.raises(TransientCloudError) as raised:
            asg_schedule(link, REGION, group, [change])

    assert raised.value.code == "Throttling"


@pytest.mark.parametrize(
    ("service", "operation", "permission"),
    [
        ("autoscaling", "batch_put_scheduled_update_group_action", "autoscaling:BatchPutScheduledUpdateGroupAction"),
        ("application-autoscaling", "put_scheduled_action", "application-autoscaling:PutScheduledAction"),
    ],
)
def test_access_denied_names_the_permission_to_add(link, demo_stack, service, operation, permission):
    """Stubber on the cached client: the role may read but not schedule."""
    empty = {"autoscaling": {"ScheduledUpdateGroupActions": []}, "application-autoscaling": {"ScheduledActions": []}}
    change = ScheduledChange("primetime-plan-1-x-up", AIR, 2, 4)
    if service == "autoscaling":
        apply = partial(asg_schedule, link, REGION, "lumiere-shop-web", [change])
    else:
        ecs = ("ecs", "service/lumiere-api/lumiere-api", "ecs:service:DesiredCount")
        apply = partial(scalable_target_schedule, link, REGION, *ecs, [change])
    with Stubber(aws_client(link, service, REGION)) as stub:
        stub.add_response("describe_scheduled_actions", empty[service])
        stub.add_client_error(operation, service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AccessDenied) as raised:
            apply()

    assert permission in raised.value.message


@pytest.mark.parametrize(
    ("minimum_lcu", "expected"),
    [
        (150, {"MinimumLoadBalancerCapacity": {"CapacityUnits": 150}}),
        (None, {"ResetCapacityReservation": True}),
    ],
    ids=["reserve", "reset"],
)
def test_load_balancer_capacity_reservation(link, demo_stack, minimum_lcu, expected):
    """Stubber on the cached ELBv2 client, checked against botocore's real service model: moto has no
    ModifyCapacityReservation."""
    arn = demo_stack[ResourceKind.load_balancer.value]
    with Stubber(aws_client(link, "elbv2", REGION)) as stub:
        stub.add_response(
            "modify_capacity_reservation",
            {
                "CapacityReservationState": [{"State": {"Code": "pending"}}],
                "DecreaseRequestsRemaining": 3,
                "ResponseMetadata": {"RequestId": "req-1234", "HTTPStatusCode": 200},
            },
            expected_params={"LoadBalancerArn": arn, **expected},
        )
        call = load_balancer_reserve_capacity(link, REGION, arn, minimum_lcu)

    assert isinstance(call, AwsCall)
    assert (call.service, call.operation, call.request_id) == ("elbv2", "ModifyCapacityReservation", "req-1234")
    assert call.request == {"LoadBalancerArn": arn, **expected}
    assert call.response["DecreaseRequestsRemaining"] == 3
    assert call.response["ResponseMetadata"] == {"RequestId": "req-1234"}


def test_load_balancer_access_denied_names_the_permission(link, demo_stack):
    """Stubber (moto has no ModifyCapacityReservation): the role lacks the permission."""
    arn = demo_stack[ResourceKind.load_balancer.value]
    with Stubber(aws_client(link, "elbv2", REGION)) as stub:
        stub.add_client_error("modify_capacity_reservation", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AccessDenied, match="elasticloadbalancing:ModifyCapacityReservation"):
            load_balancer_reserve_capacity(link, REGION, arn, 100)


def _replication_group(status: str, replicas_per_shard: list[int]) -> dict[str, Any]:
    return {
        "ReplicationGroups": [
            {
                "ReplicationGroupId": "lumiere-shop-cache",
                "Status": status,
                "NodeGroups": [
                    {"NodeGroupId": f"000{index}", "NodeGroupMembers": [{}] * (replicas + 1)}
                    for index, replicas in enumerate(replicas_per_shard, start=1)
                ],
            }
        ]
    }


@pytest.mark.parametrize(
    ("replicas", "operation"), [(3, "increase_replica_count"), (0, "decrease_replica_count")], ids=["up", "down"]
)
def test_elasticache_replicas_are_set_to_an_absolute_count(link, demo_stack, replicas, operation):
    """Stubber on the cached ElastiCache client, against botocore's service model: moto has no
    IncreaseReplicaCount or DecreaseReplicaCount."""
    with Stubber(aws_client(link, "elasticache", REGION)) as stub:
        stub.add_response(
            "describe_replication_groups",
            _replication_group("available", [1, 1]),
            {"ReplicationGroupId": "lumiere-shop-cache"},
        )
        stub.add_response(
            operation,
            {"ReplicationGroup": {"ReplicationGroupId": "lumiere-shop-cache", "Status": "modifying"},
             "ResponseMetadata": {"RequestId": "req-cache", "HTTPStatusCode": 200}},
            {"ReplicationGroupId": "lumiere-shop-cache", "NewReplicaCount": replicas, "ApplyImmediately": True},
        )  # fmt: skip
        call = elasticache_set_replicas(link, REGION, "lumiere-shop-cache", replicas)
        stub.assert_no_pending_responses()
    assert call.before == {"replicas": 1}
    assert call.request_id == "req-cache"


def test_elasticache_replicas_already_in_place_make_no_call(link, demo_stack):
    """Stubber: only the read is answered, so any mutating call would fail the test."""
    with Stubber(aws_client(link, "elasticache", REGION)) as stub:
        stub.add_response("describe_replication_groups", _replication_group("available", [2, 2]))
        assert elasticache_set_replicas(link, REGION, "lumiere-shop-cache", 2) is None


def test_a_busy_replication_group_is_retried_later(link, demo_stack):
    """Stubber: the group is being modified, so the change waits for the reconciler's next minute."""
    with Stubber(aws_client(link, "elasticache", REGION)) as stub:
        stub.add_response("describe_replication_groups", _replication_group("modifying", [1]))
        with pytest.raises(TransientCloudError, match="modifying"):
            elasticache_set_replicas(link, REGION, "lumiere-shop-cache", 2)
