"""Aurora (and Multi-AZ) DB clusters: writers, readers, their classes, and Serverless v2 limits."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import last_part, tags_from
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import Resource, ResourceKind

# DescribeDBClusters also returns these engines' clusters; they are not RDS databases we scale.
OTHER_ENGINES = {"docdb", "neptune"}


def _member_classes(link: RoleLink, region: str, cluster_ids: list[str]) -> dict[str, str]:
    if not cluster_ids:
        return {}
    paginator = aws_client(link, "rds", region).get_paginator("describe_db_instances")
    pages = paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": cluster_ids}])
    return {item["DBInstanceIdentifier"]: item["DBInstanceClass"] for page in pages for item in page["DBInstances"]}


def _resource(cluster: dict[str, Any], region: str, classes: dict[str, str]) -> Resource:
    members = cluster.get("DBClusterMembers", [])
    serverless = cluster.get("ServerlessV2ScalingConfiguration")
    member_classes = [classes.get(item["DBInstanceIdentifier"]) for item in members]
    return Resource(
        kind=ResourceKind.rds_cluster,
        identifier=cluster["DBClusterArn"],
        name=cluster["DBClusterIdentifier"],
        region=region,
        capacity={
            "engine_mode": cluster.get("EngineMode", "provisioned"),
            "members": len(members),
            "writers": sum(1 for item in members if item.get("IsClusterWriter")),
            "readers": sum(1 for item in members if not item.get("IsClusterWriter")),
            "instance_classes": sorted({name for name in member_classes if name}),
            "serverless_v2": {"min_acu": serverless.get("MinCapacity"), "max_acu": serverless.get("MaxCapacity")}
            if serverless
            else None,
            "multi_az": bool(cluster.get("MultiAZ")),
        },
        details={
            "engine": cluster.get("Engine"),
            "engine_version": cluster.get("EngineVersion"),
            "status": cluster.get("Status"),
            "endpoint": cluster.get("Endpoint"),
            "reader_endpoint": cluster.get("ReaderEndpoint"),
            "port": cluster.get("Port"),
            "availability_zones": sorted(cluster.get("AvailabilityZones", [])),
            "members": [
                {
                    "id": item["DBInstanceIdentifier"],
                    "writer": bool(item.get("IsClusterWriter")),
                    "instance_class": classes.get(item["DBInstanceIdentifier"]),
                }
                for item in members
            ],
        },
        tags=tags_from(cluster.get("TagList")),
    )


@translate_errors("rds")
def list_rds_clusters(link: RoleLink, region: str) -> list[Resource]:
    """Return every Aurora or Multi-AZ DB cluster in the region."""
    paginator = aws_client(link, "rds", region).get_paginator("describe_db_clusters")
    clusters = [
        cluster
        for page in paginator.paginate()
        for cluster in page["DBClusters"]
        if cluster.get("Engine") not in OTHER_ENGINES
    ]
    classes = _member_classes(link, region, [cluster["DBClusterIdentifier"] for cluster in clusters])
    return [_resource(cluster, region, classes) for cluster in clusters]


@translate_errors("rds")
def describe_rds_cluster(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one DB cluster by ARN or identifier; raise NotFound when it is gone."""
    name = last_part(identifier, ":")
    cluster = aws_client(link, "rds", region).describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    return _resource(cluster, region, _member_classes(link, region, [name]))
