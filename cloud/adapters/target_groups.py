"""Target groups: registered and healthy targets, and the health check the load balancer runs."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import elbv2_tags
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import Resource, ResourceKind


def _resource(link: RoleLink, region: str, group: dict[str, Any], tags: dict[str, str]) -> Resource:
    client = aws_client(link, "elbv2", region)
    health = client.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    states = [item.get("TargetHealth", {}).get("State") for item in health]
    return Resource(
        kind=ResourceKind.target_group,
        identifier=group["TargetGroupArn"],
        name=group["TargetGroupName"],
        region=region,
        capacity={
            "registered": len(health),
            "healthy": states.count("healthy"),
            "unhealthy": states.count("unhealthy"),
        },
        details={
            "protocol": group.get("Protocol"),
            "port": group.get("Port"),
            "target_type": group.get("TargetType"),
            "vpc_id": group.get("VpcId"),
            "load_balancer_arns": group.get("LoadBalancerArns", []),
            "health_check": {
                "protocol": group.get("HealthCheckProtocol"),
                "path": group.get("HealthCheckPath"),
                "interval_seconds": group.get("HealthCheckIntervalSeconds"),
                "timeout_seconds": group.get("HealthCheckTimeoutSeconds"),
                "healthy_threshold": group.get("HealthyThresholdCount"),
                "unhealthy_threshold": group.get("UnhealthyThresholdCount"),
            },
        },
        tags=tags,
    )


@translate_errors("elbv2")
def list_target_groups(link: RoleLink, region: str) -> list[Resource]:
    """Return every target group in the region, with its targets' health."""
    paginator = aws_client(link, "elbv2", region).get_paginator("describe_target_groups")
    groups = [group for page in paginator.paginate() for group in page["TargetGroups"]]
    tags = elbv2_tags(link, region, [group["TargetGroupArn"] for group in groups])
    return [_resource(link, region, group, tags.get(group["TargetGroupArn"], {})) for group in groups]


@translate_errors("elbv2")
def describe_target_group(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one target group by ARN or name; raise NotFound when it is gone."""
    client = aws_client(link, "elbv2", region)
    query = {"TargetGroupArns": [identifier]} if identifier.startswith("arn:") else {"Names": [identifier]}
    group = client.describe_target_groups(**query)["TargetGroups"][0]
    arn = group["TargetGroupArn"]
    return _resource(link, region, group, elbv2_tags(link, region, [arn]).get(arn, {}))
