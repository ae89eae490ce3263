"""One small module per resource kind: ``list_<kind>s(link, region)`` and ``describe_<kind>(link, region, id)``.

``ADAPTERS`` maps each ResourceKind to its pair, so callers (the inventory)
never need to know which module serves which kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cloud.adapters import (
    autoscaling_groups,
    cloudfront,
    dynamodb,
    ecs_services,
    elasticache,
    load_balancers,
    rds_clusters,
    rds_instances,
    target_groups,
)
from cloud.client import RoleLink
from cloud.resources import Resource, ResourceKind


@dataclass(frozen=True)
class Adapter:
    """Pair the list and describe functions of one resource kind."""

    list: Callable[[RoleLink, str], list[Resource]]
    describe: Callable[[RoleLink, str, str], Resource]


ADAPTERS: dict[ResourceKind, Adapter] = {
    ResourceKind.autoscaling_group: Adapter(
        autoscaling_groups.list_autoscaling_groups, autoscaling_groups.describe_autoscaling_group
    ),
    ResourceKind.ecs_service: Adapter(ecs_services.list_ecs_services, ecs_services.describe_ecs_service),
    ResourceKind.load_balancer: Adapter(load_balancers.list_load_balancers, load_balancers.describe_load_balancer),
    ResourceKind.target_group: Adapter(target_groups.list_target_groups, target_groups.describe_target_group),
    ResourceKind.rds_instance: Adapter(rds_instances.list_rds_instances, rds_instances.describe_rds_instance),
    ResourceKind.rds_cluster: Adapter(rds_clusters.list_rds_clusters, rds_clusters.describe_rds_cluster),
    ResourceKind.elasticache_replication_group: Adapter(
        elasticache.list_elasticache_replication_groups, elasticache.describe_elasticache_replication_group
    ),
    ResourceKind.cloudfront_distribution: Adapter(
        cloudfront.list_cloudfront_distributions, cloudfront.describe_cloudfront_distribution
    ),
    ResourceKind.dynamodb_table: Adapter(dynamodb.list_dynamodb_tables, dynamodb.describe_dynamodb_table),
}
