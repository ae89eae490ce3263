"""What a plan should put on AWS, what reached AWS (the fault proxy's log) and what the simulated account holds.

Scheduled action names derive from the plan and the resource (``cloud.scaling.scheduled_action_name``), so a
name that reached AWS twice, or that the account holds twice, is work done twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.test import override_settings

from cloud.client import provider_client
from cloud.scaling import scheduled_action_name
from scaling.models import PlanTarget, ScalingAction, ScalingPlan
from tests.cloud.conftest import REGION
from tests.faults.aws_fault_proxy import AwsFaultProxy

BATCH_PUT = "autoscaling:BatchPutScheduledUpdateGroupAction"
PUT = "application-autoscaling:PutScheduledAction"
MUTATING = (BATCH_PUT, PUT)
# Application Auto Scaling kinds a plan schedules: the namespaces to read back.
APP_SCALING_NAMESPACES = ("ecs", "dynamodb")


def steps(target: PlanTarget) -> list[str]:
    """Return the target's steps: its scale-up, then each revert step."""
    return ["up"] + [f"down-{index}" for index in range(1, len(target.revert_steps) + 1)]


def expected_names(target: PlanTarget) -> set[str]:
    return {scheduled_action_name(target.plan_id, target.identifier, step) for step in steps(target)}


def all_expected(plan: ScalingPlan) -> set[str]:
    return set().union(*(expected_names(target) for target in plan.targets.all()))


def _names_in(params: dict) -> list[str]:
    if "ScheduledActionName" in params:
        return [params["ScheduledActionName"]]
    return [value for key, value in params.items() if key.endswith(".ScheduledActionName")]


def names_that_reached_aws(proxy: AwsFaultProxy) -> Counter[str]:
    """Count, per scheduled action name, the mutating calls moto accepted (whether or not the caller heard)."""
    return Counter(
        name
        for exchange in proxy.exchanges
        if exchange.request.key in MUTATING and exchange.forwarded and exchange.fault is None
        and exchange.status == 200
        for name in _names_in(exchange.request.params)
    )  # fmt: skip


def names_audited(*plans: ScalingPlan | int) -> Counter[str]:
    """Count, per scheduled action name, the audit rows of the plans' scheduling calls that took: answered, or
    left "sent" by a worker that died and confirmed by the next one, which found the step in place."""
    names: Counter[str] = Counter()
    for action in ScalingAction.objects.filter(plan__in=plans, result__in=ScalingAction.ON_AWS):
        if action.operation == "BatchPutScheduledUpdateGroupAction":
            names.update(item["ScheduledActionName"] for item in action.request["ScheduledUpdateGroupActions"])
        elif action.operation == "PutScheduledAction":
            names[action.request["ScheduledActionName"]] += 1
    return names


def names_held(moto_endpoint: str) -> Counter[str]:
    """Count every scheduled action the simulated account holds, on every group and scalable target, by name."""
    held: Counter[str] = Counter()
    with override_settings(AWS_ENDPOINT_URL=moto_endpoint):
        autoscaling = provider_client("autoscaling", REGION).get_paginator("describe_scheduled_actions")
        for page in autoscaling.paginate():
            held.update(action["ScheduledActionName"] for action in page["ScheduledUpdateGroupActions"])
        app_scaling = provider_client("application-autoscaling", REGION).get_paginator("describe_scheduled_actions")
        for namespace in APP_SCALING_NAMESPACES:
            for page in app_scaling.paginate(ServiceNamespace=namespace):
                held.update(action["ScheduledActionName"] for action in page["ScheduledActions"])
    return held


def aws_runs_due_actions(group_name: str, until: datetime, moto_endpoint: str) -> list[tuple[str, dict[str, int]]]:
    """Do for one group what AWS does and moto does not: run its scheduled actions due by ``until``, earliest
    first, each setting the sizes it names, then deleted (AWS drops a one-time action once it ran).

    Return, per action run, its name and the group's sizes after it.
    """
    sizes = {"MinSize": "min", "MaxSize": "max", "DesiredCapacity": "desired"}
    after: list[tuple[str, dict[str, int]]] = []
    with override_settings(AWS_ENDPOINT_URL=moto_endpoint):
        autoscaling = provider_client("autoscaling", REGION)
        actions = autoscaling.describe_scheduled_actions(AutoScalingGroupName=group_name)["ScheduledUpdateGroupActions"]
        for action in sorted(actions, key=lambda item: item["StartTime"]):
            if action["StartTime"] > until:
                continue
            change = {key: action[key] for key in sizes if key in action}
            autoscaling.update_auto_scaling_group(AutoScalingGroupName=group_name, **change)
            autoscaling.delete_scheduled_action(
                AutoScalingGroupName=group_name, ScheduledActionName=action["ScheduledActionName"]
            )
            group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"][0]
            after.append((action["ScheduledActionName"], {ours: group[key] for key, ours in sizes.items()}))
    return after
