"""Find a stack's resources by tag with the Resource Groups Tagging API, and tell their kind from the ARN.

The Tagging API returns nothing for Auto Scaling groups (AWS documents it), so
those are found with Auto Scaling's own DescribeTags.
"""

from __future__ import annotations

import re

from cloud.adapters._common import batches
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import ResourceKind

CLOUDFRONT_REGION = "us-east-1"  # the Tagging API sees CloudFront distributions only there
NAMES_BATCH = 50  # DescribeAutoScalingGroups takes at most 50 names

# (service, resource part of the ARN) -> kind; ARN layout: arn:aws:<service>:<region>:<account>:<resource>
ARN_KINDS: list[tuple[str, re.Pattern[str], ResourceKind]] = [
    ("autoscaling", re.compile(r"^autoScalingGroup:"), ResourceKind.autoscaling_group),
    ("ecs", re.compile(r"^service/"), ResourceKind.ecs_service),
    ("elasticloadbalancing", re.compile(r"^loadbalancer/(app|net|gwy)/"), ResourceKind.load_balancer),
    ("elasticloadbalancing", re.compile(r"^targetgroup/"), ResourceKind.target_group),
    ("rds", re.compile(r"^db:"), ResourceKind.rds_instance),
    ("rds", re.compile(r"^cluster:"), ResourceKind.rds_cluster),
    ("elasticache", re.compile(r"^replicationgroup:"), ResourceKind.elasticache_replication_group),
    ("cloudfront", re.compile(r"^distribution/"), ResourceKind.cloudfront_distribution),
    ("dynamodb", re.compile(r"^table/[^/]+$"), ResourceKind.dynamodb_table),
]


def kind_of_arn(arn: str) -> ResourceKind | None:
    """Return the ResourceKind an ARN names, or None for anything Primetime does not track (subnets, alarms...)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, resource = parts[2], parts[5]
    for known_service, pattern, kind in ARN_KINDS:
        if service == known_service and pattern.match(resource):
            return kind
    return None


def _tagged_arns(link: RoleLink, region: str, tag_filter: dict, resource_types: list[str] | None = None) -> list[str]:
    params: dict = {"TagFilters": [tag_filter]}
    if resource_types:
        params["ResourceTypeFilters"] = resource_types
    paginator = aws_client(link, "resourcegroupstaggingapi", region).get_paginator("get_resources")
    return [item["ResourceARN"] for page in paginator.paginate(**params) for item in page["ResourceTagMappingList"]]


def _tagged_autoscaling_groups(link: RoleLink, region: str, key: str, value: str | None) -> list[str]:
    client = aws_client(link, "autoscaling", region)
    filters = [{"Name": "key", "Values": [key]}]
    if value is not None:
        filters.append({"Name": "value", "Values": [value]})
    with translate_errors("autoscaling"):
        names = sorted(
            {
                tag["ResourceId"]
                for page in client.get_paginator("describe_tags").paginate(Filters=filters)
                for tag in page["Tags"]
                if tag.get("ResourceType") == "auto-scaling-group"
            }
        )
        return [
            group["AutoScalingGroupARN"]
            for batch in batches(names, NAMES_BATCH)
            for page in client.get_paginator("describe_auto_scaling_groups").paginate(AutoScalingGroupNames=batch)
            for group in page["AutoScalingGroups"]
        ]


@translate_errors("resourcegroupstaggingapi")
def resources_by_tag(link: RoleLink, region: str, key: str, value: str | None = None) -> list[tuple[ResourceKind, str]]:
    """Return (kind, ARN) of every tracked resource carrying the tag (any value when ``value`` is None).

    Auto Scaling groups come from Auto Scaling's DescribeTags; CloudFront
    distributions, being global, are looked up in us-east-1 as well.
    """
    tag_filter = {"Key": key, "Values": [value]} if value is not None else {"Key": key}
    arns = _tagged_autoscaling_groups(link, region, key, value) + _tagged_arns(link, region, tag_filter)
    if region != CLOUDFRONT_REGION:
        arns += _tagged_arns(link, CLOUDFRONT_REGION, tag_filter, ["cloudfront:distribution"])
    found = []
    for arn in dict.fromkeys(arns):
        kind = kind_of_arn(arn)
        if kind is not None:
            found.append((kind, arn))
    return found
