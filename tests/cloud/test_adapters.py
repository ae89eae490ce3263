"""Every adapter lists and describes the seeded demo stack in the simulated account, with the right capacity."""

from __future__ import annotations

import json

import pytest

from cloud.adapters import ADAPTERS
from cloud.adapters.autoscaling_groups import describe_autoscaling_group, list_autoscaling_groups
from cloud.adapters.cloudfront import describe_cloudfront_distribution, list_cloudfront_distributions
from cloud.adapters.dynamodb import describe_dynamodb_table, list_dynamodb_tables
from cloud.adapters.ecs_services import describe_ecs_service, list_ecs_services
from cloud.adapters.elasticache import describe_elasticache_replication_group, list_elasticache_replication_groups
from cloud.adapters.load_balancers import describe_load_balancer, list_load_balancers
from cloud.adapters.rds_clusters import describe_rds_cluster, list_rds_clusters
from cloud.adapters.rds_instances import describe_rds_instance, estimate_max_connections, list_rds_instances
from cloud.adapters.target_groups import describe_target_group, list_target_groups
from cloud.exceptions import NotFound
from cloud.resources import Resource, ResourceKind
from cloud.simulation import DEMO_ALIAS
from tests.cloud.conftest import REGION

SHOP_TAG = {"primetime:stack": "shop"}


def _only(resources: list[Resource]) -> Resource:
    assert len(resources) == 1, [resource.name for resource in resources]
    return resources[0]


def test_autoscaling_group_capacity_and_health_check(link, demo_stack):
    group = _only(list_autoscaling_groups(link, REGION))

    assert group.identifier == demo_stack["autoscaling_group"]
    assert group.name == "lumiere-shop-web"
    assert group.capacity == {
        "desired": 2,
        "min": 2,
        "max": 6,
        "instance_types": ["t3.medium"],
        "instances": 2,
        "in_service": 2,
    }
    assert group.details["health_check_type"] == "ELB"
    assert group.details["availability_zones"] == ["eu-west-3a", "eu-west-3b"]
    assert group.details["target_group_arns"] == [demo_stack["target_group"]]
    assert group.tags.items() >= SHOP_TAG.items()
    assert describe_autoscaling_group(link, REGION, group.identifier) == group
    assert describe_autoscaling_group(link, REGION, "lumiere-shop-web") == group


def test_load_balancer_type_scheme_zones_and_listeners(link, demo_stack):
    balancer = _only(list_load_balancers(link, REGION))

    assert balancer.identifier == demo_stack["load_balancer"]
    assert balancer.capacity == {
        "type": "application",
        "scheme": "internet-facing",
        "cross_zone": True,
        # moto answers DescribeCapacityReservation without a minimum: nothing reserved.
        "capacity_reservation_lcu": None,
    }
    assert balancer.details["dns_name"].startswith("lumiere-shop-alb")
    assert [zone["zone"] for zone in balancer.details["availability_zones"]] == ["eu-west-3a", "eu-west-3b"]
    [listener] = balancer.details["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTP", 80)
    assert listener["default_actions"] == [{"type": "forward", "target_group_arns": [demo_stack["target_group"]]}]
    assert balancer.details["arn_suffix"].startswith("app/lumiere-shop-alb/")
    assert balancer.tags.items() >= SHOP_TAG.items()
    assert describe_load_balancer(link, REGION, balancer.identifier) == balancer


def test_target_group_health_check_and_targets(link, demo_stack):
    group = _only(list_target_groups(link, REGION))

    assert group.identifier == demo_stack["target_group"]
    assert group.details["health_check"]["path"] == "/healthz"
    assert group.details["load_balancer_arns"] == [demo_stack["load_balancer"]]
    # The Auto Scaling group registered its two instances.
    assert group.capacity == {"registered": 2, "healthy": 2, "unhealthy": 0}
    assert describe_target_group(link, REGION, group.identifier) == group


def test_rds_instance_class_multi_az_and_estimated_connections(link, demo_stack):
    database = _only(list_rds_instances(link, REGION))  # the Aurora members count in their cluster

    assert database.identifier == demo_stack["rds_instance"]
    assert database.capacity == {
        "instance_class": "db.t3.medium",
        "multi_az": False,
        # 4 GiB, PostgreSQL's default formula on ~90 % of it.
        "max_connections": estimate_max_connections("postgres", 4096),
        "read_replicas": 0,
        "storage_gb": 100,
    }
    assert database.capacity["max_connections"] == 405
    assert database.details["engine"] == "postgres"
    assert database.details["max_connections_source"] == "estimate"
    assert database.tags.items() >= SHOP_TAG.items()
    assert describe_rds_instance(link, REGION, database.identifier) == database


def test_rds_cluster_writers_readers_and_classes(link, demo_stack):
    cluster = _only(list_rds_clusters(link, REGION))

    assert cluster.identifier == demo_stack["rds_cluster"]
    assert cluster.capacity["members"] == 2
    assert cluster.capacity["writers"] == 1
    assert cluster.capacity["readers"] == 1
    assert cluster.capacity["instance_classes"] == ["db.r6g.large"]
    assert cluster.details["engine"] == "aurora-postgresql"
    assert describe_rds_cluster(link, REGION, cluster.identifier) == cluster


def test_elasticache_node_type_and_one_replica(link, demo_stack):
    group = _only(list_elasticache_replication_groups(link, REGION))

    assert group.identifier == demo_stack["elasticache_replication_group"]
    assert group.capacity == {"node_type": "cache.t3.medium", "nodes": 2, "shards": 1, "replicas": 1}
    assert group.details["automatic_failover"] == "enabled"
    assert group.details["engine"] == "redis"
    assert group.tags.items() >= SHOP_TAG.items()
    assert describe_elasticache_replication_group(link, REGION, group.identifier) == group


def test_cloudfront_alias_and_origin_is_the_load_balancer(link, demo_stack):
    distribution = _only(list_cloudfront_distributions(link, REGION))
    balancer = describe_load_balancer(link, REGION, demo_stack["load_balancer"])

    assert distribution.identifier == demo_stack["cloudfront_distribution"]
    assert distribution.region == "us-east-1"
    assert distribution.details["aliases"] == [DEMO_ALIAS]
    assert distribution.details["domain_name"].endswith(".cloudfront.net")
    assert distribution.details["origins"] == [
        {"id": "alb", "domain_name": balancer.details["dns_name"], "type": "custom"}
    ]
    assert distribution.capacity["price_class"] == "PriceClass_100"
    assert distribution.capacity["enabled"] is True
    assert distribution.tags.items() >= SHOP_TAG.items()
    described = describe_cloudfront_distribution(link, REGION, distribution.identifier)
    assert described.details["aliases"] == distribution.details["aliases"]
    assert described.details["origins"] == distribution.details["origins"]
    assert described.capacity == distribution.capacity


def test_dynamodb_provisioned_throughput(link, demo_stack):
    table = _only(list_dynamodb_tables(link, REGION))

    assert table.identifier == demo_stack["dynamodb_table"]
    assert table.capacity["billing_mode"] == "PROVISIONED"
    assert (table.capacity["read_capacity"], table.capacity["write_capacity"]) == (10, 10)
    assert table.tags.items() >= SHOP_TAG.items()
    assert describe_dynamodb_table(link, REGION, table.identifier) == table


def test_ecs_service_tasks_and_scaling_limits(link, demo_stack):
    service = _only(list_ecs_services(link, REGION))

    assert service.identifier == demo_stack["ecs_service"]
    assert service.capacity == {"desired": 3, "running": 3, "pending": 0, "min": 2, "max": 10}
    assert service.details["launch_type"] == "FARGATE"
    assert service.tags == SHOP_TAG
    assert describe_ecs_service(link, REGION, service.identifier) == service


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        (ResourceKind.autoscaling_group, "lumiere-gone"),
        (ResourceKind.ecs_service, "arn:aws:ecs:eu-west-3:123456789012:service/lumiere-api/gone"),
        (ResourceKind.load_balancer, "arn:aws:elasticloadbalancing:eu-west-3:123456789012:loadbalancer/app/gone/0"),
        (ResourceKind.target_group, "arn:aws:elasticloadbalancing:eu-west-3:123456789012:targetgroup/gone/0"),
        (ResourceKind.rds_instance, "arn:aws:rds:eu-west-3:123456789012:db:gone"),
        (ResourceKind.rds_cluster, "arn:aws:rds:eu-west-3:123456789012:cluster:gone"),
        (ResourceKind.elasticache_replication_group, "gone"),
        (ResourceKind.cloudfront_distribution, "EGONE00000000"),
        (ResourceKind.dynamodb_table, "gone"),
    ],
)
def test_describe_a_resource_that_is_gone_raises_not_found(link, kind, identifier):
    with pytest.raises(NotFound) as raised:
        ADAPTERS[kind].describe(link, REGION, identifier)

    assert raised.value.message


def test_every_listed_resource_round_trips_through_json(link):
    for adapter in ADAPTERS.values():
        for resource in adapter.list(link, REGION):
            assert Resource.from_json(json.loads(json.dumps(resource.to_json()))) == resource
