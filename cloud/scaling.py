"""Apply a scaling plan on AWS: scheduled actions (Auto Scaling, Application Auto Scaling), capacity, LCU reservations.

Every function is idempotent and returns the mutating calls it made as
``AwsCall`` records, so the caller writes one audit row per call (who or what,
resource, request, response, AWS request id, before, after, result). The
scheduling functions also tell the caller's ``CallLog`` of each call before
it is sent, so its row exists even when the worker dies before the answer. Names of
scheduled actions derive from the plan (``scheduled_action_name``): applying
the same plan twice reads the account, finds every action already identical,
and makes no mutating call at all.

AWS runs the scheduled actions itself, so a scale-up and its revert scheduled
together happen even when Primetime is down.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from cloud.adapters._common import batches
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import CloudError, InvalidRequest, NotFound, PermanentCloudError, TransientCloudError

NAME_PREFIX = "primetime-plan"
MAX_NAME_LENGTH = 255  # Auto Scaling's limit; Application Auto Scaling allows 256
RESOURCE_HASH_LENGTH = 12
STEP_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PUT_BATCH = 50  # AWS's limit for BatchPutScheduledUpdateGroupAction
DELETE_BATCH = 50  # BatchDeleteScheduledAction takes at most 50 names
AT_FORMAT = "%Y-%m-%dT%H:%M:%S"
AT_PATTERN = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


@dataclass(frozen=True)
class ScheduledChange:
    """Describe one absolute capacity change at one moment (UTC, aware); None leaves that bound as it is."""

    name: str
    at: datetime
    min_size: int | None = None
    max_size: int | None = None
    desired: int | None = None


@dataclass(frozen=True)
class AwsCall:
    """Record one mutating AWS call for the caller's audit row.

    ``before`` is what the account held for the same action or reservation just
    before the call (None when it held nothing, or when the function did not
    need to read it); the request states the "after".
    """

    service: str
    operation: str
    request: dict[str, Any]
    response: dict[str, Any]
    request_id: str
    before: dict[str, Any] | None = None


# --- Names -------------------------------------------------------------------


def plan_prefix(plan_id: int) -> str:
    """Return the prefix every scheduled action of one plan starts with (the dash keeps plan 1 apart from 12)."""
    return f"{NAME_PREFIX}-{int(plan_id)}-"


def scheduled_action_name(plan_id: int, resource_key: str, step: str) -> str:
    """Return the deterministic name of a plan's step on one resource, e.g. ``primetime-plan-7-3f2a…-up``.

    The resource key (ARN, group name, resource id) is hashed, so the name stays
    short and within AWS's 255 characters whatever the resource is called.
    """
    if not STEP_PATTERN.match(step):
        raise InvalidRequest(f"step {step!r} must be lower-case letters, digits and dashes (e.g. 'up', 'down-1').")
    if not resource_key:
        raise InvalidRequest("resource_key must not be empty.")
    digest = hashlib.sha256(resource_key.encode()).hexdigest()[:RESOURCE_HASH_LENGTH]
    name = f"{plan_prefix(plan_id)}{digest}-{step}"
    if len(name) > MAX_NAME_LENGTH:  # pragma: no cover - bounded by STEP_PATTERN
        raise InvalidRequest(f"scheduled action name {name!r} is longer than {MAX_NAME_LENGTH} characters.")
    return name


# --- Shared helpers ----------------------------------------------------------


def _utc_seconds(value: datetime, field_name: str = "at") -> datetime:
    if value.tzinfo is None:
        raise InvalidRequest(f"{field_name} must be an aware datetime (UTC), not {value.isoformat()}.")
    return value.astimezone(UTC).replace(microsecond=0)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _call(service: str, operation: str, request: dict[str, Any], response: dict[str, Any], before: Any) -> AwsCall:
    metadata = response.get("ResponseMetadata", {})
    request_id = str(metadata.get("RequestId", ""))
    trimmed = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    trimmed["ResponseMetadata"] = {"RequestId": request_id}
    return AwsCall(
        service=service,
        operation=operation,
        request=_json_safe(request),
        response=_json_safe(trimmed),
        request_id=request_id,
        before=_json_safe(before) if before is not None else None,
    )


class CallLog(Protocol):
    """Audit each mutating call in two steps, so a worker that dies between them leaves the call on record.

    ``sending`` gets the call before AWS has it (request and before, no answer yet); then ``answered`` as soon
    as AWS accepted it, or ``refused`` when AWS answered with an error. A call cut off with no answer at all
    (a timeout, a broken connection, a killed worker) gets neither: the caller finds out from the account.
    """

    def sending(self, call: AwsCall) -> None: ...

    def answered(self, call: AwsCall) -> None: ...

    def refused(self, error: CloudError) -> None: ...


OnCall = CallLog | None


@contextmanager
def _sending(on_call: OnCall, service: str, operation: str, request: dict[str, Any], before: Any) -> Iterator[None]:
    """Make one mutating call inside the block: tell ``on_call`` first, translate botocore's errors, and tell
    ``on_call`` of a refusal."""
    if on_call is not None:
        on_call.sending(_call(service, operation, request, {}, before))
    try:
        with translate_errors(service, operation):
            yield
    except CloudError as error:
        # A permanent error or one with AWS's error code is an answer: AWS did not act. Anything else (no
        # answer) may have reached AWS, and stays "sent" for the caller to settle from what the account holds.
        if on_call is not None and (isinstance(error, PermanentCloudError) or error.code):
            on_call.refused(error)
        raise


def _made(calls: list[AwsCall], on_call: OnCall, call: AwsCall) -> None:
    calls.append(call)
    if on_call is not None:
        on_call.answered(call)


def _check_change(change: ScheduledChange, *, allow_desired: bool) -> None:
    if change.desired is not None and not allow_desired:
        raise InvalidRequest(
            f"desired of {change.name} has no meaning for Application Auto Scaling; set min_size and max_size."
        )
    if change.min_size is None and change.max_size is None and change.desired is None:
        raise InvalidRequest(f"{change.name} changes nothing: set min_size, max_size or desired.")
    for field_name in ("min_size", "max_size", "desired"):
        value = getattr(change, field_name)
        if value is not None and value < 0:
            raise InvalidRequest(f"{field_name} of {change.name} must not be negative ({value}).")


# --- Auto Scaling groups -----------------------------------------------------


def _asg_actions(link: RoleLink, region: str, group_name: str, names: list[str] | None = None) -> dict[str, dict]:
    client = aws_client(link, "autoscaling", region)
    params: dict[str, Any] = {"AutoScalingGroupName": group_name}
    if names is not None:
        params["ScheduledActionNames"] = names
    with translate_errors("autoscaling", "DescribeScheduledActions"):
        return {
            action["ScheduledActionName"]: action
            for page in client.get_paginator("describe_scheduled_actions").paginate(**params)
            for action in page["ScheduledUpdateGroupActions"]
        }


def _asg_change(action: dict[str, Any]) -> ScheduledChange:
    start = action.get("StartTime") or action.get("Time")
    if isinstance(start, datetime) and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return ScheduledChange(
        name=action["ScheduledActionName"],
        at=start.astimezone(UTC) if isinstance(start, datetime) else start,
        min_size=action.get("MinSize"),
        max_size=action.get("MaxSize"),
        desired=action.get("DesiredCapacity"),
    )


def _asg_request(group_name: str, change: ScheduledChange) -> dict[str, Any]:
    request: dict[str, Any] = {
        "AutoScalingGroupName": group_name,
        "ScheduledActionName": change.name,
        "StartTime": _utc_seconds(change.at),
    }
    for key, value in (("MinSize", change.min_size), ("MaxSize", change.max_size), ("DesiredCapacity", change.desired)):
        if value is not None:
            request[key] = value
    return request


def _asg_same(existing: dict[str, Any] | None, change: ScheduledChange) -> bool:
    if existing is None or existing.get("Recurrence"):
        return False
    current = _asg_change(existing)
    return (
        isinstance(current.at, datetime)
        and current.at.replace(microsecond=0) == _utc_seconds(change.at)
        and (current.min_size, current.max_size, current.desired) == (change.min_size, change.max_size, change.desired)
    )


def asg_schedule(
    link: RoleLink, region: str, group_name: str, changes: list[ScheduledChange], on_call: OnCall = None
) -> list[AwsCall]:
    """Schedule the changes on the group (absolute sizes) in one batch call, skipping those already identical.

    One BatchPutScheduledUpdateGroupAction per group (up to 50 actions) instead of
    one call per action: a plan's scale-up and revert steps cost a single write.
    """
    for change in changes:
        _check_change(change, allow_desired=True)
    existing = _asg_actions(link, region, group_name, sorted({change.name for change in changes})) if changes else {}
    pending = [change for change in changes if not _asg_same(existing.get(change.name), change)]
    client = aws_client(link, "autoscaling", region)
    calls = []
    for batch in batches(pending, PUT_BATCH):
        actions = []
        for change in batch:
            action = _asg_request(group_name, change)
            del action["AutoScalingGroupName"]
            actions.append(action)
        request = {"AutoScalingGroupName": group_name, "ScheduledUpdateGroupActions": actions}
        held = [existing[change.name] for change in batch if change.name in existing]
        before = {"ScheduledUpdateGroupActions": held} if held else None
        operation = "BatchPutScheduledUpdateGroupAction"
        with _sending(on_call, "autoscaling", operation, request, before):
            response = client.batch_put_scheduled_update_group_action(**request)
            failed = response.get("FailedScheduledUpdateGroupActions", [])
            if failed:
                detail = ", ".join(f"{item['ScheduledActionName']} ({item.get('ErrorCode', '')})" for item in failed)
                raise PermanentCloudError(f"AWS refused the scheduled actions {detail} of {group_name}.")
        _made(calls, on_call, _call("autoscaling", operation, request, response, before))
    return calls


def asg_unschedule(
    link: RoleLink, region: str, group_name: str, names: Iterable[str], on_call: OnCall = None
) -> list[AwsCall]:
    """Delete those of the named scheduled actions that exist on the group (missing ones are fine); return the calls."""
    wanted = sorted(set(names))
    existing = _asg_actions(link, region, group_name, wanted) if wanted else {}
    present = [name for name in wanted if name in existing]
    client = aws_client(link, "autoscaling", region)
    calls = []
    for batch in batches(present, DELETE_BATCH):
        request = {"AutoScalingGroupName": group_name, "ScheduledActionNames": batch}
        before = {"ScheduledUpdateGroupActions": [existing[name] for name in batch]}
        operation = "BatchDeleteScheduledAction"
        with _sending(on_call, "autoscaling", operation, request, before):
            response = client.batch_delete_scheduled_action(**request)
            # An action that ran or vanished since we read it is already where we want it.
            failed = [
                item
                for item in response.get("FailedScheduledActions", [])
                if "not found" not in str(item.get("ErrorMessage", "")).lower()
            ]
            if failed:
                detail = ", ".join(f"{item['ScheduledActionName']} ({item.get('ErrorCode', '')})" for item in failed)
                raise PermanentCloudError(f"AWS could not delete the scheduled actions {detail} of {group_name}.")
        _made(calls, on_call, _call("autoscaling", operation, request, response, before))
    return calls


def asg_scheduled_actions(link: RoleLink, region: str, group_name: str, prefix: str) -> list[ScheduledChange]:
    """Return the group's scheduled actions whose names start with ``prefix`` (a plan's), earliest first."""
    actions = _asg_actions(link, region, group_name)
    found = [_asg_change(action) for name, action in actions.items() if name.startswith(prefix)]
    return sorted(found, key=lambda change: (change.at, change.name))


def asg_set_capacity(
    link: RoleLink, region: str, group_name: str, *, min_size: int, max_size: int, desired: int
) -> AwsCall:
    """Set the group's MinSize, MaxSize and DesiredCapacity now, to absolute values ("scale now", "revert now")."""
    _check_change(
        ScheduledChange(name=group_name, at=datetime.now(UTC), min_size=min_size, max_size=max_size, desired=desired),
        allow_desired=True,
    )
    request = {
        "AutoScalingGroupName": group_name,
        "MinSize": min_size,
        "MaxSize": max_size,
        "DesiredCapacity": desired,
    }
    with translate_errors("autoscaling", "UpdateAutoScalingGroup"):
        response = aws_client(link, "autoscaling", region).update_auto_scaling_group(**request)
    return _call("autoscaling", "UpdateAutoScalingGroup", request, response, None)


# --- Application Auto Scaling (ECS services, DynamoDB tables, Aurora replicas) --


def _at(value: datetime) -> str:
    return f"at({_utc_seconds(value).strftime(AT_FORMAT)})"


def _target_actions(
    link: RoleLink, region: str, namespace: str, resource_id: str, dimension: str, names: list[str] | None = None
) -> dict[str, dict]:
    client = aws_client(link, "application-autoscaling", region)
    params: dict[str, Any] = {
        "ServiceNamespace": namespace,
        "ResourceId": resource_id,
        "ScalableDimension": dimension,
    }
    if names is not None:
        params["ScheduledActionNames"] = names
    with translate_errors("application-autoscaling", "DescribeScheduledActions"):
        return {
            action["ScheduledActionName"]: action
            for page in client.get_paginator("describe_scheduled_actions").paginate(**params)
            for action in page["ScheduledActions"]
            # The filters are documented, but do not trust every implementation to apply them.
            if action.get("ResourceId") == resource_id and action.get("ScalableDimension") == dimension
        }


def _target_change(action: dict[str, Any]) -> ScheduledChange | None:
    match = AT_PATTERN.match(action.get("Schedule", ""))
    if match is None:
        return None  # cron(...) and rate(...) are not ours
    timezone = action.get("Timezone") or "UTC"
    if timezone not in ("UTC", "Etc/UTC"):
        return None
    target = action.get("ScalableTargetAction", {})
    return ScheduledChange(
        name=action["ScheduledActionName"],
        at=datetime.strptime(match.group(1), AT_FORMAT).replace(tzinfo=UTC),
        min_size=target.get("MinCapacity"),
        max_size=target.get("MaxCapacity"),
    )


def _target_request(namespace: str, resource_id: str, dimension: str, change: ScheduledChange) -> dict[str, Any]:
    target: dict[str, int] = {}
    if change.min_size is not None:
        target["MinCapacity"] = change.min_size
    if change.max_size is not None:
        target["MaxCapacity"] = change.max_size
    return {
        "ServiceNamespace": namespace,
        "ScheduledActionName": change.name,
        "ResourceId": resource_id,
        "ScalableDimension": dimension,
        "Schedule": _at(change.at),
        "Timezone": "UTC",
        "ScalableTargetAction": target,
    }


def scalable_target_schedule(
    link: RoleLink,
    region: str,
    namespace: str,
    resource_id: str,
    dimension: str,
    changes: list[ScheduledChange],
    on_call: OnCall = None,
) -> list[AwsCall]:
    """Schedule each change (absolute MinCapacity/MaxCapacity, ``at(...)`` in UTC), skipping identical ones.

    One call per action, latest first: an apply cut short leaves reverts without their scale-up (harmless),
    never a scale-up without its revert.
    """
    for change in changes:
        _check_change(change, allow_desired=False)
    names = sorted({change.name for change in changes})
    existing = _target_actions(link, region, namespace, resource_id, dimension, names) if changes else {}
    client = aws_client(link, "application-autoscaling", region)
    calls = []
    for change in sorted(changes, key=lambda item: _utc_seconds(item.at), reverse=True):
        before = existing.get(change.name)
        current = _target_change(before) if before is not None else None
        if current is not None and (current.at, current.min_size, current.max_size) == (
            _utc_seconds(change.at),
            change.min_size,
            change.max_size,
        ):
            continue
        request = _target_request(namespace, resource_id, dimension, change)
        with _sending(on_call, "application-autoscaling", "PutScheduledAction", request, before):
            response = client.put_scheduled_action(**request)
        _made(calls, on_call, _call("application-autoscaling", "PutScheduledAction", request, response, before))
    return calls


def scalable_target_unschedule(
    link: RoleLink,
    region: str,
    namespace: str,
    resource_id: str,
    dimension: str,
    names: Iterable[str],
    on_call: OnCall = None,
) -> list[AwsCall]:
    """Delete those of the named scheduled actions that exist on the scalable target; return the calls made."""
    wanted = sorted(set(names))
    existing = _target_actions(link, region, namespace, resource_id, dimension, wanted) if wanted else {}
    client = aws_client(link, "application-autoscaling", region)
    calls = []
    for name in wanted:
        if name not in existing:
            continue
        request = {
            "ServiceNamespace": namespace,
            "ScheduledActionName": name,
            "ResourceId": resource_id,
            "ScalableDimension": dimension,
        }
        try:
            with _sending(on_call, "application-autoscaling", "DeleteScheduledAction", request, existing[name]):
                response = client.delete_scheduled_action(**request)
        except NotFound:
            continue  # gone since we read it: already where we want it
        _made(
            calls, on_call, _call("application-autoscaling", "DeleteScheduledAction", request, response, existing[name])
        )
    return calls


def scalable_target_scheduled_actions(
    link: RoleLink, region: str, namespace: str, resource_id: str, dimension: str, prefix: str
) -> list[ScheduledChange]:
    """Return the target's one-off (``at``) scheduled actions whose names start with ``prefix``, earliest first."""
    actions = _target_actions(link, region, namespace, resource_id, dimension)
    found = [_target_change(action) for name, action in actions.items() if name.startswith(prefix)]
    return sorted((change for change in found if change is not None), key=lambda change: (change.at, change.name))


# --- Load balancer capacity reservation ---------------------------------------


def load_balancer_reserve_capacity(link: RoleLink, region: str, arn: str, minimum_lcu: int | None) -> AwsCall:
    """Reserve ``minimum_lcu`` LCUs on the load balancer, or reset the reservation when None.

    AWS has no scheduler for this: the caller's reconciler calls it when due.
    """
    request: dict[str, Any] = {"LoadBalancerArn": arn}
    if minimum_lcu is None:
        request["ResetCapacityReservation"] = True
    elif minimum_lcu <= 0:
        raise InvalidRequest(f"minimum_lcu must be positive, or None to reset the reservation ({minimum_lcu}).")
    else:
        request["MinimumLoadBalancerCapacity"] = {"CapacityUnits": minimum_lcu}
    with translate_errors("elbv2", "ModifyCapacityReservation"):
        response = aws_client(link, "elbv2", region).modify_capacity_reservation(**request)
    return _call("elbv2", "ModifyCapacityReservation", request, response, None)


# --- ElastiCache replicas and RDS read replicas (separately approved recommendations) ---


def elasticache_set_replicas(link: RoleLink, region: str, group_id: str, replicas: int) -> AwsCall | None:
    """Set every shard of a replication group to ``replicas`` replicas now; None when it already has them.

    Neither direction causes an outage. A group that is busy (modifying, snapshotting) answers
    TransientCloudError, so the reconciler tries again the next minute.
    """
    if replicas < 0:
        raise InvalidRequest(f"replicas must not be negative ({replicas}).")
    client = aws_client(link, "elasticache", region)
    with translate_errors("elasticache", "DescribeReplicationGroups"):
        group = client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    shards = group.get("NodeGroups", [])
    current = min((len(shard.get("NodeGroupMembers", [])) - 1 for shard in shards), default=0)
    if current == replicas and all(len(shard.get("NodeGroupMembers", [])) - 1 == replicas for shard in shards):
        return None
    if group.get("Status") != "available":
        raise TransientCloudError(
            f"ElastiCache group {group_id} is {group.get('Status')}; its replicas can change once it is available."
        )
    operation = "IncreaseReplicaCount" if replicas > current else "DecreaseReplicaCount"
    request = {"ReplicationGroupId": group_id, "NewReplicaCount": replicas, "ApplyImmediately": True}
    with translate_errors("elasticache", operation):
        if operation == "IncreaseReplicaCount":
            response = client.increase_replica_count(**request)
        else:
            response = client.decrease_replica_count(**request)
    return _call("elasticache", operation, request, response, {"replicas": current})


def read_replica_name(plan_id: int, source_arn: str, number: int) -> str:
    """Return the identifier of a plan's n-th read replica of a source (a DB identifier: ≤ 63, no '--')."""
    digest = hashlib.sha256(source_arn.encode()).hexdigest()[:8]
    return f"primetime-{int(plan_id)}-{digest}-r{int(number)}"


def rds_set_read_replicas(link: RoleLink, region: str, source_arn: str, plan_id: int, added: int) -> list[AwsCall]:
    """Make the plan's read replicas of a DB instance number ``added``: create the missing, delete the extra.

    Only replicas the plan created (named by ``read_replica_name``) are ever deleted; the client's own
    replicas are never touched. Creating a replica causes no outage on a Multi-AZ source (a short I/O
    pause on a Single-AZ one).
    """
    if added < 0:
        raise InvalidRequest(f"added must not be negative ({added}).")
    client = aws_client(link, "rds", region)
    source_id = source_arn.rsplit(":", 1)[-1]
    with translate_errors("rds", "DescribeDBInstances"):
        source = client.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
    prefix = read_replica_name(plan_id, source_arn, 0)[:-1]
    existing = sorted(name for name in source.get("ReadReplicaDBInstanceIdentifiers", []) if name.startswith(prefix))
    wanted = [read_replica_name(plan_id, source_arn, number) for number in range(1, added + 1)]
    calls = []
    for name in wanted:
        if name in existing:
            continue
        request = {
            "DBInstanceIdentifier": name,
            "SourceDBInstanceIdentifier": source_id,
            "DBInstanceClass": source["DBInstanceClass"],
            "Tags": [{"Key": "primetime:plan", "Value": str(plan_id)}],
        }
        with translate_errors("rds", "CreateDBInstanceReadReplica"):
            try:
                response = client.create_db_instance_read_replica(**request)
            except client.exceptions.DBInstanceAlreadyExistsFault:
                continue  # created by an earlier try that did not see the answer
        calls.append(_call("rds", "CreateDBInstanceReadReplica", request, response, None))
    for name in existing:
        if name in wanted:
            continue
        request = {"DBInstanceIdentifier": name, "SkipFinalSnapshot": True, "DeleteAutomatedBackups": True}
        try:
            with translate_errors("rds", "DeleteDBInstance"):
                response = client.delete_db_instance(**request)
        except NotFound:
            continue
        calls.append(_call("rds", "DeleteDBInstance", request, response, {"replica": name}))
    return calls
