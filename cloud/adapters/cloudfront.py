"""CloudFront distributions: aliases, origins and price class. CloudFront is global; its API lives in us-east-1."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import last_part, tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import Resource, ResourceKind

CLOUDFRONT_REGION = "us-east-1"


def _resource(link: RoleLink, distribution: dict[str, Any]) -> Resource:
    # ``distribution`` is a list summary, or GetDistribution's config with Id/ARN/Status/DomainName merged in.
    client = aws_client(link, "cloudfront", CLOUDFRONT_REGION)
    tags = client.list_tags_for_resource(Resource=distribution["ARN"])["Tags"].get("Items", [])
    behavior = distribution.get("DefaultCacheBehavior", {})
    return Resource(
        kind=ResourceKind.cloudfront_distribution,
        identifier=distribution["ARN"],
        name=distribution["Id"],
        region=CLOUDFRONT_REGION,
        capacity={
            "price_class": distribution.get("PriceClass"),
            "enabled": bool(distribution.get("Enabled")),
            "http_version": distribution.get("HttpVersion"),
        },
        details={
            "domain_name": distribution.get("DomainName"),
            "aliases": distribution.get("Aliases", {}).get("Items", []),
            "origins": [
                {
                    "id": origin["Id"],
                    "domain_name": origin["DomainName"],
                    "type": "s3" if origin.get("S3OriginConfig") else "custom",
                }
                for origin in distribution.get("Origins", {}).get("Items", [])
            ],
            "origin_groups": distribution.get("OriginGroups", {}).get("Quantity", 0),
            "status": distribution.get("Status"),
            "comment": distribution.get("Comment"),
            "web_acl_id": distribution.get("WebACLId") or None,
            "default_cache_behavior": {
                "target_origin_id": behavior.get("TargetOriginId"),
                "viewer_protocol_policy": behavior.get("ViewerProtocolPolicy"),
                "cache_policy_id": behavior.get("CachePolicyId"),
            },
        },
        tags=tags_from(tags),
    )


@translate_errors("cloudfront")
def list_cloudfront_distributions(link: RoleLink, region: str = CLOUDFRONT_REGION) -> list[Resource]:
    """Return every distribution of the account (``region`` is ignored: CloudFront is global)."""
    paginator = aws_client(link, "cloudfront", CLOUDFRONT_REGION).get_paginator("list_distributions")
    return [
        _resource(link, item) for page in paginator.paginate() for item in page["DistributionList"].get("Items", [])
    ]


@translate_errors("cloudfront")
def describe_cloudfront_distribution(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one distribution by ARN or id; raise NotFound when it is gone."""
    answer = aws_client(link, "cloudfront", CLOUDFRONT_REGION).get_distribution(Id=last_part(identifier))
    distribution = answer["Distribution"]
    summary = {
        **distribution["DistributionConfig"],
        **{key: distribution[key] for key in ("Id", "ARN", "Status", "DomainName")},
    }
    return _resource(link, summary)
