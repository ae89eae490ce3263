"""discover() reads every kind and keeps going when one kind is denied; refresh() reads one resource again."""

from __future__ import annotations

from collections import Counter

import pytest
from botocore.stub import Stubber

from cloud.client import aws_client, provider_client
from cloud.exceptions import RoleNotAssumable
from cloud.inventory import discover, refresh
from cloud.resources import Resource, ResourceKind
from tests.cloud.conftest import REGION


def test_discover_finds_one_of_each_kind_in_the_demo_account(link, demo_stack):
    discovery = discover(link, REGION)

    assert discovery.errors == []
    assert Counter(resource.kind for resource in discovery.resources) == Counter(ResourceKind)
    for resource in discovery.resources:
        assert resource.identifier == demo_stack[resource.kind.value]


def test_discover_without_global_kinds_leaves_out_cloudfront(link):
    discovery = discover(link, REGION, include_global=False)

    assert ResourceKind.cloudfront_distribution not in {resource.kind for resource in discovery.resources}


def test_one_denied_kind_is_reported_and_the_others_still_found(link):
    """Stubber on the cached DynamoDB client: the role may not list tables."""
    dynamodb = aws_client(link, "dynamodb", REGION)
    with Stubber(dynamodb) as stub:
        stub.add_client_error(
            "list_tables", service_error_code="AccessDeniedException", service_message="no", http_status_code=400
        )
        discovery = discover(link, REGION)

    [error] = discovery.errors
    assert error.kind == ResourceKind.dynamodb_table
    assert error.code == "AccessDeniedException"
    assert "dynamodb:ListTables" in error.message
    found = {resource.kind for resource in discovery.resources}
    assert found == set(ResourceKind) - {ResourceKind.dynamodb_table}
    assert discovery.to_json()["errors"] == [error.to_json()]


def test_a_role_that_cannot_be_assumed_stops_discovery():
    """Stubber on the portal's STS client: AssumeRole is refused, so every kind would fail alike."""
    from cloud.client import RoleLink

    link = RoleLink(role_arn="arn:aws:iam::123456789012:role/PrimetimeAccess", external_id="primetime-wrong")
    with Stubber(provider_client("sts")) as sts:
        sts.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(RoleNotAssumable):
            discover(link, REGION)


def test_refresh_reads_the_resource_again(link, demo_stack):
    stored = Resource.from_json(
        {
            "kind": "rds_instance",
            "identifier": demo_stack["rds_instance"],
            "name": "lumiere-shop-db",
            "region": REGION,
            "capacity": {"instance_class": "db.t3.small"},
        }
    )

    fresh = refresh(link, stored)

    assert fresh.capacity["instance_class"] == "db.t3.medium"
    assert fresh.identifier == stored.identifier
