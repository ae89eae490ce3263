"""Tag search, alarms, the vCPU quota and the load balancer's capacity reservation.

moto implements the Tagging API and CloudWatch alarms, so those run against the
simulated account. moto's Service Quotas knows only VPC quotas, and its
DescribeCapacityReservation is a fixed answer with no LCUs, so those two are
answered by botocore's Stubber on the adapter's own (cached) client.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from cloud.adapters.cloudwatch import alarms
from cloud.adapters.load_balancers import load_balancer_capacity_reservation
from cloud.adapters.quotas import ec2_on_demand_vcpu_quota
from cloud.adapters.tagging import kind_of_arn, resources_by_tag
from cloud.client import RoleLink, aws_client
from cloud.exceptions import AccessDenied
from cloud.resources import ResourceKind
from tests.cloud.conftest import ACCOUNT_ID, REGION

# Any role works for the stubbed tests: moto assumes it, then the service client is stubbed.
STUB_LINK = RoleLink(role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/PrimetimeAccess", external_id="primetime-0f3a9c")
QUOTA = {"ServiceCode": "ec2", "QuotaCode": "L-1216C47A"}
ALB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:loadbalancer/app/lumiere-shop-alb/50dc6c495c0c9188"


def test_resources_by_tag_finds_every_kind_of_the_stack(link, demo_stack):
    found = resources_by_tag(link, REGION, "primetime:stack", "shop")

    by_kind = dict(found)
    assert len(found) == len(by_kind)  # one of each
    for kind in ResourceKind:
        assert by_kind[kind] == demo_stack[kind.value], kind
    # Tagged subnets, security groups and certificates are not resources Primetime tracks.
    assert all(kind_of_arn(arn) is not None for _, arn in found)


def test_resources_by_tag_matches_the_value(link):
    assert resources_by_tag(link, REGION, "primetime:stack", "blog") == []
    assert len(resources_by_tag(link, REGION, "primetime:stack")) == len(ResourceKind)


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        (
            "arn:aws:autoscaling:eu-west-3:123456789012:autoScalingGroup:1a2b:autoScalingGroupName/web",
            ResourceKind.autoscaling_group,
        ),
        ("arn:aws:ecs:eu-west-3:123456789012:service/api/api", ResourceKind.ecs_service),
        ("arn:aws:ecs:eu-west-3:123456789012:cluster/api", None),
        (ALB_ARN, ResourceKind.load_balancer),
        ("arn:aws:elasticloadbalancing:eu-west-3:123456789012:loadbalancer/net/edge/1", ResourceKind.load_balancer),
        ("arn:aws:elasticloadbalancing:eu-west-3:123456789012:targetgroup/web/1", ResourceKind.target_group),
        ("arn:aws:elasticloadbalancing:eu-west-3:123456789012:listener/app/web/1/2", None),
        ("arn:aws:rds:eu-west-3:123456789012:db:shop", ResourceKind.rds_instance),
        ("arn:aws:rds:eu-west-3:123456789012:cluster:orders", ResourceKind.rds_cluster),
        ("arn:aws:rds:eu-west-3:123456789012:snapshot:nightly", None),
        (
            "arn:aws:elasticache:eu-west-3:123456789012:replicationgroup:cache",
            ResourceKind.elasticache_replication_group,
        ),
        ("arn:aws:elasticache:eu-west-3:123456789012:cluster:cache-001", None),
        ("arn:aws:cloudfront::123456789012:distribution/E2ABC", ResourceKind.cloudfront_distribution),
        ("arn:aws:dynamodb:eu-west-3:123456789012:table/sessions", ResourceKind.dynamodb_table),
        ("arn:aws:dynamodb:eu-west-3:123456789012:table/sessions/stream/2026", None),
        ("arn:aws:ec2:eu-west-3:123456789012:subnet/subnet-1", None),
        ("not-an-arn", None),
    ],
)
def test_kind_of_arn(arn, kind):
    assert kind_of_arn(arn) == kind


def test_alarms_read_the_load_balancer_5xx_alarm(link, demo_stack):
    [alarm] = alarms(link, REGION)

    assert alarm["name"] == demo_stack["alarm"]
    assert (alarm["namespace"], alarm["metric"]) == ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count")
    assert alarm["dimensions"] == {"LoadBalancer": demo_stack["load_balancer"].split(":loadbalancer/")[1]}
    assert alarm["threshold"] == 50
    assert isinstance(alarm["state_updated_at"], str)


def test_vcpu_quota_reads_the_applied_value():
    """Stubber: moto's Service Quotas knows no EC2 quota."""
    quotas = aws_client(STUB_LINK, "service-quotas", REGION)
    with Stubber(quotas) as stub:
        stub.add_response("get_service_quota", {"Quota": {**QUOTA, "Value": 640.0, "Unit": "None"}}, QUOTA)
        assert ec2_on_demand_vcpu_quota(STUB_LINK, REGION) == 640.0
        stub.assert_no_pending_responses()


def test_vcpu_quota_falls_back_to_the_aws_default():
    """Stubber: GetServiceQuota has no applied value (NoSuchResourceException); the default applies."""
    quotas = aws_client(STUB_LINK, "service-quotas", REGION)
    with Stubber(quotas) as stub:
        stub.add_client_error("get_service_quota", service_error_code="NoSuchResourceException", expected_params=QUOTA)
        stub.add_response("get_aws_default_service_quota", {"Quota": {**QUOTA, "Value": 5.0}}, QUOTA)
        assert ec2_on_demand_vcpu_quota(STUB_LINK, REGION) == 5.0
        stub.assert_no_pending_responses()


def test_vcpu_quota_denied_says_which_permission_is_missing():
    """Stubber: the role lacks servicequotas:GetServiceQuota."""
    quotas = aws_client(STUB_LINK, "service-quotas", REGION)
    with Stubber(quotas) as stub:
        stub.add_client_error("get_service_quota", service_error_code="AccessDeniedException", http_status_code=400)
        with pytest.raises(AccessDenied) as raised:
            ec2_on_demand_vcpu_quota(STUB_LINK, REGION)

    assert "servicequotas:GetServiceQuota" in raised.value.message


def test_capacity_reservation_reports_lcus_and_the_worst_zone_state():
    """Stubber: moto's DescribeCapacityReservation always answers "provisioned" with no LCUs."""
    elbv2 = aws_client(STUB_LINK, "elbv2", REGION)
    answer = {
        "LastModifiedTime": datetime(2026, 6, 11, 17, 0, tzinfo=UTC),
        "DecreaseRequestsRemaining": 2,
        "MinimumLoadBalancerCapacity": {"CapacityUnits": 3000},
        "CapacityReservationState": [
            {"AvailabilityZone": "eu-west-3a", "EffectiveCapacityUnits": 1500.0, "State": {"Code": "provisioned"}},
            {"AvailabilityZone": "eu-west-3b", "EffectiveCapacityUnits": 900.0, "State": {"Code": "pending"}},
        ],
    }
    with Stubber(elbv2) as stub:
        stub.add_response("describe_capacity_reservation", answer, {"LoadBalancerArn": ALB_ARN})
        reservation = load_balancer_capacity_reservation(STUB_LINK, REGION, ALB_ARN)

    assert reservation.minimum_lcu == 3000
    assert reservation.state == "pending"
    assert reservation.decrease_requests_remaining == 2
    assert reservation.zones[1] == {"zone": "eu-west-3b", "effective_lcu": 900.0, "state": "pending", "reason": None}
    assert reservation.to_json()["last_modified"] == "2026-06-11T17:00:00+00:00"


def test_capacity_reservation_absent_is_none():
    """Stubber: a load balancer with nothing reserved."""
    elbv2 = aws_client(STUB_LINK, "elbv2", REGION)
    with Stubber(elbv2) as stub:
        stub.add_response(
            "describe_capacity_reservation", {"CapacityReservationState": []}, {"LoadBalancerArn": ALB_ARN}
        )
        reservation = load_balancer_capacity_reservation(STUB_LINK, REGION, ALB_ARN)

    assert (reservation.minimum_lcu, reservation.state, reservation.zones) == (None, None, [])
