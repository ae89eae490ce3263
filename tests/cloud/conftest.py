"""The simulated AWS account for tests of ``cloud/``: moto's server on loopback, emptied before each test.

Tests that only read take ``demo_stack`` (or ``link``): the demo stack is
seeded once and shared until a test that does not take it empties the account.
Such tests must not change the account.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from django.test import override_settings
from moto.server import ThreadedMotoServer

from cloud.client import RoleLink, provider_client, reset_sessions
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account

REGION = "eu-west-3"
ACCOUNT_ID = "123456789012"  # moto's default account

_shared_stack: dict[str, Any] = {}


@pytest.fixture(scope="session")
def moto_endpoint():
    """Start moto's server on a free loopback port, with dummy credentials, for the whole session."""
    # Werkzeug logs every request at INFO; a failing test's output should show ours.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ENDPOINT_URL",
        ):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        # A developer's ~/.aws and an instance role must not leak into the tests.
        patch.setenv("AWS_CONFIG_FILE", "/dev/null")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            with override_settings(
                AWS_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION=REGION, PROVIDER_AWS_ACCOUNT_ID=ACCOUNT_ID
            ):
                yield endpoint
        finally:
            server.stop()
            reset_sessions()


def reset_account(endpoint: str) -> None:
    """Empty the simulated account (every service, every region)."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    _shared_stack.clear()


@pytest.fixture(autouse=True)
def aws(request, moto_endpoint):
    """Give each test empty session caches and, unless it reads the shared demo stack, an empty account."""
    reset_sessions()
    if "demo_stack" not in request.fixturenames:
        reset_account(moto_endpoint)
    yield moto_endpoint
    reset_sessions()


def _seed_extras() -> dict[str, str]:
    # Kinds the demo shop does not use, so every adapter has something to read.
    ecs = provider_client("ecs", REGION)
    ecs.create_cluster(clusterName="lumiere-api")
    ecs.register_task_definition(
        family="lumiere-api",
        containerDefinitions=[{"name": "api", "image": "nginx", "memory": 512}],
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ECS_SERVICE_RUNNING", "3")  # moto reports 0 running tasks otherwise
        service = ecs.create_service(
            cluster="lumiere-api",
            serviceName="lumiere-api",
            taskDefinition="lumiere-api",
            desiredCount=3,
            launchType="FARGATE",
            tags=[{"key": "primetime:stack", "value": "shop"}],
        )["service"]
    provider_client("application-autoscaling", REGION).register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/lumiere-api/lumiere-api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=2,
        MaxCapacity=10,
    )
    rds = provider_client("rds", REGION)
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="lumiere-orders",
        Engine="aurora-postgresql",
        MasterUsername="lumiere",
        MasterUserPassword="not-a-real-password",
        Tags=[{"Key": "primetime:stack", "Value": "shop"}],
    )["DBCluster"]
    for name in ("lumiere-orders-1", "lumiere-orders-2"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier="lumiere-orders",
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
        )
    return {"ecs_service": service["serviceArn"], "rds_cluster": cluster["DBClusterArn"]}


@pytest.fixture
def demo_stack(moto_endpoint) -> dict[str, Any]:
    """Return the seeded demo stack's identifiers, plus an ECS service and an Aurora cluster (read only)."""
    if not _shared_stack:
        reset_account(moto_endpoint)
        stack = seed_demo_account(region=REGION)
        stack.update(_seed_extras())
        _shared_stack.update(stack)
    return dict(_shared_stack)


@pytest.fixture
def link(demo_stack) -> RoleLink:
    """Return the demo client's link: the seeded PrimetimeAccess role and its external id."""
    return RoleLink(role_arn=demo_stack["role_arn"], external_id=DEMO_EXTERNAL_ID)


def add_autoscaling_group(seeded: dict[str, Any], name: str, *, size: int = 2, max_size: int = 6) -> None:
    """Create an Auto Scaling group of ``size`` instances (its minimum) on the seeded demo network."""
    provider_client("autoscaling", REGION).create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": seeded["launch_template_id"], "Version": "$Latest"},
        MinSize=size,
        DesiredCapacity=size,
        MaxSize=max_size,
        VPCZoneIdentifier=",".join(seeded["subnet_ids"]),
    )


def add_ecs_service(cluster: str, name: str, *, task_definition: str, size: int, max_size: int = 8) -> None:
    """Create a Fargate service of ``size`` tasks and register it as a scalable target (``size`` at least)."""
    provider_client("ecs", REGION).create_service(
        cluster=cluster, serviceName=name, taskDefinition=task_definition, desiredCount=size, launchType="FARGATE"
    )
    provider_client("application-autoscaling", REGION).register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{cluster}/{name}",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=size,
        MaxCapacity=max_size,
    )


def link_demo_account(organization, seeded: dict[str, Any] | None = None):
    """Seed the demo stack on moto (unless given) and link it to the organization as a verified account."""
    from cloud.models import CloudAccount

    seeded = seeded or seed_demo_account(region=REGION)
    return CloudAccount.objects.create(
        organization=organization,
        role_arn=seeded["role_arn"],
        external_id=DEMO_EXTERNAL_ID,
        status=CloudAccount.Status.VERIFIED,
        aws_account_id=ACCOUNT_ID,
        regions=[REGION],
    )


def attach_discovered(stack, kind: str, *, unit_rps: int | None = None, kinds=None):
    """Discover the linked account (as the inventory would) and attach its resources of ``kind`` to the stack."""
    from cloud.inventory import discover
    from cloud.models import CloudAccount, StackResource

    account = CloudAccount.objects.get(organization=stack.organization)
    found = discover(account.role_link(), REGION, kinds=kinds, include_global=False).resources
    rows = [
        StackResource.objects.create(
            stack=stack,
            kind=resource.kind,
            identifier=resource.identifier,
            name=resource.name,
            region=REGION,
            capacity=resource.capacity,
            details=resource.details,
            unit_rps=unit_rps,
        )
        for resource in found
        if resource.kind == kind
    ]
    return rows[0] if len(rows) == 1 else rows
