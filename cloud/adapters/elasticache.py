"""ElastiCache replication groups (Redis OSS, Valkey): node type, shards, replicas, failover."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import last_part, tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import Resource, ResourceKind


def _resource(link: RoleLink, region: str, group: dict[str, Any]) -> Resource:
    # DescribeReplicationGroups does not return tags.
    tags = aws_client(link, "elasticache", region).list_tags_for_resource(ResourceName=group["ARN"])["TagList"]
    node_groups = group.get("NodeGroups", [])
    primary = (node_groups[0].get("PrimaryEndpoint") if node_groups else None) or {}
    configuration = group.get("ConfigurationEndpoint") or {}
    return Resource(
        kind=ResourceKind.elasticache_replication_group,
        identifier=group["ARN"],
        name=group["ReplicationGroupId"],
        region=region,
        capacity={
            "node_type": group.get("CacheNodeType"),
            "nodes": len(group.get("MemberClusters", [])),
            "shards": len(node_groups),
            # Replicas per shard: the primary is one of each shard's members.
            "replicas": max((len(item.get("NodeGroupMembers", [])) - 1 for item in node_groups), default=0),
        },
        details={
            "engine": group.get("Engine"),
            "status": group.get("Status"),
            "description": group.get("Description"),
            "cluster_mode": group.get("ClusterMode") or ("enabled" if group.get("ClusterEnabled") else "disabled"),
            "automatic_failover": group.get("AutomaticFailover"),
            "multi_az": group.get("MultiAZ"),
            "primary_endpoint": f"{primary['Address']}:{primary['Port']}" if primary else None,
            "configuration_endpoint": f"{configuration['Address']}:{configuration['Port']}" if configuration else None,
            "member_clusters": group.get("MemberClusters", []),
            "node_groups": [
                {
                    "id": item.get("NodeGroupId"),
                    "members": len(item.get("NodeGroupMembers", [])),
                    "zones": sorted(
                        {
                            member["PreferredAvailabilityZone"]
                            for member in item.get("NodeGroupMembers", [])
                            if member.get("PreferredAvailabilityZone")
                        }
                    ),
                }
                for item in node_groups
            ],
            "transit_encryption": group.get("TransitEncryptionEnabled"),
        },
        tags=tags_from(tags),
    )


@translate_errors("elasticache")
def list_elasticache_replication_groups(link: RoleLink, region: str) -> list[Resource]:
    """Return every replication group in the region."""
    paginator = aws_client(link, "elasticache", region).get_paginator("describe_replication_groups")
    return [_resource(link, region, group) for page in paginator.paginate() for group in page["ReplicationGroups"]]


@translate_errors("elasticache")
def describe_elasticache_replication_group(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one replication group by ARN or id; raise NotFound when it is gone."""
    client = aws_client(link, "elasticache", region)
    groups = client.describe_replication_groups(ReplicationGroupId=last_part(identifier, ":"))["ReplicationGroups"]
    return _resource(link, region, groups[0])
