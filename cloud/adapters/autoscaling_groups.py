"""Auto Scaling groups: desired/min/max, instance types, and what the health checks and load balancers see."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import NotFound
from cloud.resources import Resource, ResourceKind

NAME_MARKER = ":autoScalingGroupName/"


def _template_instance_type(
    link: RoleLink, region: str, spec: dict[str, Any], seen: dict[tuple, str | None]
) -> str | None:
    # Several groups often share one template version: read each once per call.
    key = (spec.get("LaunchTemplateId") or spec.get("LaunchTemplateName"), spec.get("Version") or "$Default")
    if key not in seen:
        ident = {"LaunchTemplateId": key[0]} if spec.get("LaunchTemplateId") else {"LaunchTemplateName": key[0]}
        with translate_errors("ec2"):
            versions = aws_client(link, "ec2", region).describe_launch_template_versions(**ident, Versions=[key[1]])
        data = versions["LaunchTemplateVersions"][0]["LaunchTemplateData"] if versions["LaunchTemplateVersions"] else {}
        seen[key] = data.get("InstanceType")
    return seen[key]


def _instance_types(link: RoleLink, region: str, group: dict[str, Any], seen: dict[tuple, str | None]) -> list[str]:
    types = {instance["InstanceType"] for instance in group.get("Instances", []) if instance.get("InstanceType")}
    mixed = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
    overrides = [item["InstanceType"] for item in mixed.get("Overrides", []) if item.get("InstanceType")]
    template = group.get("LaunchTemplate") or mixed.get("LaunchTemplateSpecification")
    if overrides:
        types.update(overrides)
    elif template:
        instance_type = _template_instance_type(link, region, template, seen)
        if instance_type:
            types.add(instance_type)
    elif group.get("LaunchConfigurationName"):
        configurations = aws_client(link, "autoscaling", region).describe_launch_configurations(
            LaunchConfigurationNames=[group["LaunchConfigurationName"]]
        )["LaunchConfigurations"]
        types.update(item["InstanceType"] for item in configurations)
    return sorted(types)


def _resource(group: dict[str, Any], region: str, instance_types: list[str]) -> Resource:
    instances = group.get("Instances", [])
    return Resource(
        kind=ResourceKind.autoscaling_group,
        identifier=group["AutoScalingGroupARN"],
        name=group["AutoScalingGroupName"],
        region=region,
        capacity={
            "desired": group["DesiredCapacity"],
            "min": group["MinSize"],
            "max": group["MaxSize"],
            "instance_types": instance_types,
            "instances": len(instances),
            "in_service": sum(1 for item in instances if item.get("LifecycleState") == "InService"),
        },
        details={
            "health_check_type": group.get("HealthCheckType"),
            "health_check_grace_period": group.get("HealthCheckGracePeriod"),
            "availability_zones": sorted(group.get("AvailabilityZones", [])),
            "subnet_ids": [item for item in group.get("VPCZoneIdentifier", "").split(",") if item],
            "target_group_arns": group.get("TargetGroupARNs", []),
            "load_balancer_names": group.get("LoadBalancerNames", []),
            "suspended_processes": sorted(item["ProcessName"] for item in group.get("SuspendedProcesses", [])),
            "default_cooldown": group.get("DefaultCooldown"),
            "status": group.get("Status"),
        },
        tags=tags_from(group.get("Tags")),
    )


@translate_errors("autoscaling")
def list_autoscaling_groups(link: RoleLink, region: str) -> list[Resource]:
    """Return every Auto Scaling group in the region."""
    client = aws_client(link, "autoscaling", region)
    seen: dict[tuple, str | None] = {}
    return [
        _resource(group, region, _instance_types(link, region, group, seen))
        for page in client.get_paginator("describe_auto_scaling_groups").paginate()
        for group in page["AutoScalingGroups"]
    ]


@translate_errors("autoscaling")
def describe_autoscaling_group(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one Auto Scaling group, named by ARN or name; raise NotFound when it is gone."""
    name = identifier.split(NAME_MARKER, 1)[-1]
    groups = aws_client(link, "autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    if not groups["AutoScalingGroups"]:
        raise NotFound(f"The Auto Scaling group {name} no longer exists in {region}; remove it from the stack.")
    group = groups["AutoScalingGroups"][0]
    return _resource(group, region, _instance_types(link, region, group, {}))
