"""seed_demo_account builds the demo stack in the simulated account once, however often it runs."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from cloud.client import provider_client
from cloud.exceptions import PermanentCloudError
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account
from tests.cloud.conftest import ACCOUNT_ID, REGION


def _census() -> dict[str, int]:
    """Count what the seed creates, straight from the simulated account."""
    ec2 = provider_client("ec2", REGION)
    rds = provider_client("rds", REGION)
    elbv2 = provider_client("elbv2", REGION)
    return {
        "vpcs": len(ec2.describe_vpcs(Filters=[{"Name": "tag:project", "Values": ["maison-lumiere"]}])["Vpcs"]),
        "subnets": len(
            ec2.describe_subnets(Filters=[{"Name": "tag:project", "Values": ["maison-lumiere"]}])["Subnets"]
        ),
        "launch_templates": len(ec2.describe_launch_templates()["LaunchTemplates"]),
        "autoscaling_groups": len(
            provider_client("autoscaling", REGION).describe_auto_scaling_groups()["AutoScalingGroups"]
        ),
        "load_balancers": len(elbv2.describe_load_balancers()["LoadBalancers"]),
        "target_groups": len(elbv2.describe_target_groups()["TargetGroups"]),
        "db_instances": len(rds.describe_db_instances()["DBInstances"]),
        "replication_groups": len(
            provider_client("elasticache", REGION).describe_replication_groups()["ReplicationGroups"]
        ),
        "distributions": provider_client("cloudfront", "us-east-1").list_distributions()["DistributionList"][
            "Quantity"
        ],
        "certificates": len(provider_client("acm", "us-east-1").list_certificates()["CertificateSummaryList"]),
        "tables": len(provider_client("dynamodb", REGION).list_tables()["TableNames"]),
        "alarms": len(provider_client("cloudwatch", REGION).describe_alarms()["MetricAlarms"]),
        "roles": len(provider_client("iam", REGION).list_roles()["Roles"]),
    }


def test_seeding_twice_creates_nothing_more():
    first = seed_demo_account(region=REGION)
    census = _census()
    second = seed_demo_account(region=REGION)

    assert second == first
    assert _census() == census
    assert census == {
        "vpcs": 1,
        "subnets": 2,
        "launch_templates": 1,
        "autoscaling_groups": 1,
        "load_balancers": 1,
        "target_groups": 1,
        "db_instances": 1,
        "replication_groups": 1,
        "distributions": 1,
        "certificates": 1,
        "tables": 1,
        "alarms": 1,
        "roles": 1,
    }


def test_demo_role_trusts_the_provider_with_the_external_id():
    stack = seed_demo_account(region=REGION)

    role = provider_client("iam", REGION).get_role(RoleName="PrimetimeAccess")["Role"]
    document = role["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(unquote(document))
    [statement] = document["Statement"]
    assert stack["role_arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/PrimetimeAccess"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": DEMO_EXTERNAL_ID}}


def test_demo_database_is_single_az_for_the_readiness_run_to_flag():
    seed_demo_account(region=REGION)

    [database] = provider_client("rds", REGION).describe_db_instances()["DBInstances"]
    assert (database["DBInstanceClass"], database["MultiAZ"]) == ("db.t3.medium", False)


def test_seeding_refuses_real_aws(settings):
    settings.AWS_ENDPOINT_URL = None

    with pytest.raises(PermanentCloudError, match="AWS_ENDPOINT_URL"):
        seed_demo_account(region=REGION)
