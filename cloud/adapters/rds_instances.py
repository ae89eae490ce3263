"""RDS DB instances: class, Multi-AZ, replicas, and max_connections when it can be known or estimated."""

from __future__ import annotations

import threading
from typing import Any

from cloud.adapters._common import last_part, tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import AccessDenied, PermanentCloudError
from cloud.resources import Resource, ResourceKind

# DBInstanceClassMemory, which RDS's default formulas divide, is the class's
# memory less what the OS and RDS processes keep; about nine tenths of it.
USABLE_MEMORY_SHARE = 0.9
# RDS's default max_connections formulas (divisor in bytes, and a cap) per engine.
DEFAULT_FORMULAS = {
    "postgres": (9531392, 5000),
    "aurora-postgresql": (9531392, 5000),
    "mysql": (12582880, None),
    "mariadb": (12582880, None),
}

_memory_lock = threading.Lock()
_memory_mib: dict[str, int | None] = {}  # instance class memory never changes: keep it for the process


def estimate_max_connections(engine: str, memory_mib: int | None) -> int | None:
    """Return RDS's default max_connections for an engine and memory size, or None when there is no formula."""
    formula = DEFAULT_FORMULAS.get(engine)
    if formula is None or not memory_mib:
        return None
    divisor, cap = formula
    value = int(memory_mib * 1024 * 1024 * USABLE_MEMORY_SHARE / divisor)
    return min(value, cap) if cap else value


def instance_class_memory(link: RoleLink, region: str, instance_class: str) -> int | None:
    """Return an RDS class's memory in MiB from its EC2 twin (db.t3.medium is t3.medium), or None."""
    with _memory_lock:
        if instance_class in _memory_mib:
            return _memory_mib[instance_class]
    ec2_type = instance_class.removeprefix("db.")
    try:
        with translate_errors("ec2"):
            types = aws_client(link, "ec2", region).describe_instance_types(InstanceTypes=[ec2_type])["InstanceTypes"]
    except AccessDenied:
        return None  # not cached: the client may fix the role
    except PermanentCloudError:
        types = []  # a class with no EC2 twin (db.serverless, some db.x2 classes)
    memory = types[0]["MemoryInfo"]["SizeInMiB"] if types else None
    with _memory_lock:
        _memory_mib[instance_class] = memory
    return memory


def _configured_max_connections(link: RoleLink, region: str, instance: dict[str, Any]) -> int | None:
    # Default parameter groups keep the formula; only a custom group can set a number.
    groups = [item["DBParameterGroupName"] for item in instance.get("DBParameterGroups", [])]
    custom = [name for name in groups if not name.startswith("default.")]
    if not custom:
        return None
    paginator = aws_client(link, "rds", region).get_paginator("describe_db_parameters")
    for page in paginator.paginate(DBParameterGroupName=custom[0], Source="user"):
        for parameter in page["Parameters"]:
            value = str(parameter.get("ParameterValue", ""))
            if parameter["ParameterName"] == "max_connections" and value.isdigit():
                return int(value)
    return None


def _max_connections(link: RoleLink, region: str, instance: dict[str, Any]) -> tuple[int | None, str | None]:
    configured = _configured_max_connections(link, region, instance)
    if configured is not None:
        return configured, "parameter_group"
    memory = instance_class_memory(link, region, instance["DBInstanceClass"])
    estimate = estimate_max_connections(instance.get("Engine", ""), memory)
    return estimate, ("estimate" if estimate is not None else None)


def _resource(link: RoleLink, region: str, instance: dict[str, Any]) -> Resource:
    max_connections, source = _max_connections(link, region, instance)
    endpoint = instance.get("Endpoint") or {}
    replicas = instance.get("ReadReplicaDBInstanceIdentifiers", [])
    return Resource(
        kind=ResourceKind.rds_instance,
        identifier=instance["DBInstanceArn"],
        name=instance["DBInstanceIdentifier"],
        region=region,
        capacity={
            "instance_class": instance["DBInstanceClass"],
            "multi_az": bool(instance.get("MultiAZ")),
            "max_connections": max_connections,
            "read_replicas": len(replicas),
            "storage_gb": instance.get("AllocatedStorage"),
        },
        details={
            "engine": instance.get("Engine"),
            "engine_version": instance.get("EngineVersion"),
            "status": instance.get("DBInstanceStatus"),
            "endpoint": {"address": endpoint.get("Address"), "port": endpoint.get("Port")} if endpoint else None,
            "availability_zone": instance.get("AvailabilityZone"),
            "secondary_availability_zone": instance.get("SecondaryAvailabilityZone"),
            "db_cluster_identifier": instance.get("DBClusterIdentifier"),
            "read_replicas": replicas,
            "read_replica_source": instance.get("ReadReplicaSourceDBInstanceIdentifier"),
            "storage_type": instance.get("StorageType"),
            "iops": instance.get("Iops"),
            "max_connections_source": source,
            "parameter_groups": [item["DBParameterGroupName"] for item in instance.get("DBParameterGroups", [])],
            "publicly_accessible": instance.get("PubliclyAccessible"),
        },
        tags=tags_from(instance.get("TagList")),
    )


@translate_errors("rds")
def list_rds_instances(link: RoleLink, region: str) -> list[Resource]:
    """Return every DB instance in the region, except Aurora cluster members (they count in their cluster)."""
    paginator = aws_client(link, "rds", region).get_paginator("describe_db_instances")
    return [
        _resource(link, region, instance)
        for page in paginator.paginate()
        for instance in page["DBInstances"]
        if not instance.get("DBClusterIdentifier")
    ]


@translate_errors("rds")
def describe_rds_instance(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one DB instance by ARN or identifier; raise NotFound when it is gone."""
    answer = aws_client(link, "rds", region).describe_db_instances(DBInstanceIdentifier=last_part(identifier, ":"))
    return _resource(link, region, answer["DBInstances"][0])
