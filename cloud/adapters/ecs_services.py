"""ECS services: desired and running tasks, and the Application Auto Scaling limits when there are some."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import batches, tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import AccessDenied, NotFound
from cloud.resources import Resource, ResourceKind

DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 services
SCALABLE_TARGET_BATCH = 50


def _scaling_id(service: dict[str, Any]) -> str:
    return f"service/{service['clusterArn'].rsplit('/', 1)[-1]}/{service['serviceName']}"


def _scaling_limits(link: RoleLink, region: str, services: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Return min/max per scaling resource id; a role without the permission gets none rather than no services."""
    client = aws_client(link, "application-autoscaling", region)
    limits: dict[str, dict[str, int]] = {}
    try:
        with translate_errors("application-autoscaling"):
            for batch in batches([_scaling_id(service) for service in services], SCALABLE_TARGET_BATCH):
                paginator = client.get_paginator("describe_scalable_targets")
                for page in paginator.paginate(ServiceNamespace="ecs", ResourceIds=batch):
                    for target in page["ScalableTargets"]:
                        limits[target["ResourceId"]] = {"min": target["MinCapacity"], "max": target["MaxCapacity"]}
    except AccessDenied:
        return {}
    return limits


def _resource(service: dict[str, Any], region: str, limits: dict[str, dict[str, int]]) -> Resource:
    limit = limits.get(_scaling_id(service), {})
    return Resource(
        kind=ResourceKind.ecs_service,
        identifier=service["serviceArn"],
        name=service["serviceName"],
        region=region,
        capacity={
            "desired": service.get("desiredCount", 0),
            "running": service.get("runningCount", 0),
            "pending": service.get("pendingCount", 0),
            "min": limit.get("min"),
            "max": limit.get("max"),
        },
        details={
            "cluster_arn": service["clusterArn"],
            "status": service.get("status"),
            "launch_type": service.get("launchType"),
            "capacity_providers": [item["capacityProvider"] for item in service.get("capacityProviderStrategy", [])],
            "task_definition": service.get("taskDefinition"),
            "scheduling_strategy": service.get("schedulingStrategy"),
            "target_group_arns": [
                item["targetGroupArn"] for item in service.get("loadBalancers", []) if item.get("targetGroupArn")
            ],
            "deployments": len(service.get("deployments", [])),
        },
        tags=tags_from(service.get("tags"), key="key", value="value"),
    )


def _describe(link: RoleLink, region: str, cluster: str, arns: list[str]) -> list[dict[str, Any]]:
    client = aws_client(link, "ecs", region)
    found = []
    for batch in batches(arns, DESCRIBE_BATCH):
        found.extend(client.describe_services(cluster=cluster, services=batch, include=["TAGS"])["services"])
    return [service for service in found if service.get("status") != "INACTIVE"]


@translate_errors("ecs")
def list_ecs_services(link: RoleLink, region: str) -> list[Resource]:
    """Return every ECS service of every cluster in the region."""
    client = aws_client(link, "ecs", region)
    services = []
    for page in client.get_paginator("list_clusters").paginate():
        for cluster in page["clusterArns"]:
            arns = [
                arn
                for service_page in client.get_paginator("list_services").paginate(cluster=cluster)
                for arn in service_page["serviceArns"]
            ]
            services.extend(_describe(link, region, cluster, arns))
    limits = _scaling_limits(link, region, services) if services else {}
    return [_resource(service, region, limits) for service in services]


@translate_errors("ecs")
def describe_ecs_service(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one ECS service by ARN (arn:aws:ecs:...:service/<cluster>/<name>); raise NotFound when it is gone."""
    parts = identifier.split(":service/", 1)[-1].split("/")
    cluster = parts[0] if len(parts) == 2 else "default"  # old-style ARNs leave out the cluster
    services = _describe(link, region, cluster, [identifier])
    if not services:
        raise NotFound(f"The ECS service {parts[-1]} no longer exists in cluster {cluster}; remove it from the stack.")
    return _resource(services[0], region, _scaling_limits(link, region, services))
