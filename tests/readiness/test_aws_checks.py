"""AWS readiness checks against the simulated account (moto's server on loopback): per check, a case that
passes and one that does not, each called with a real CheckContext whose organization has a verified link.

Read-only tests take ``demo_stack`` (the seeded shop, shared across tests); tests that change the account
take ``fresh_stack`` instead: the account is emptied before them and the shop seeded again for them alone.

moto's Service Quotas knows no EC2 quota and its DescribeCapacityReservation never reserves LCUs, so those two
reads are answered at the cloud/ adapter that makes them (said in each such test's docstring). botocore's Stubber
answers them in tests/cloud/test_lookups.py, against the adapters themselves; here it cannot be used, because
only cloud/ and tests/cloud/ may import botocore (tests/cloud/test_boundary.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from cloud import services as cloud_services
from cloud.adapters import load_balancers, quotas
from cloud.client import RoleLink, provider_client
from cloud.inventory import refresh
from cloud.models import CloudAccount, StackResource
from cloud.resources import Resource, ResourceKind
from cloud.simulation import DEMO_ALIAS, seed_demo_account
from readiness import services
from readiness.checks import aws as aws_checks
from readiness.context import CheckContext
from readiness.models import CheckResult, Outcome, ReadinessRun
from readiness.registry import Check, checks
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import ACCOUNT_ID, REGION

# tests/cloud/conftest.py's fixtures are not visible from tests/readiness/: this module takes the account emptied
# before each test that does not take demo_stack (aws) and the shared seeded demo stack (demo_stack) from there.
aws = cloud_fixtures.aws
demo_stack = cloud_fixtures.demo_stack


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback for this module, exactly as tests/cloud/conftest.py starts it.

    Importing that session-scoped fixture would start a second server whose settings override outlives this
    module and points tests/cloud/'s later tests at it; module scope ends it here. moto's state is per process,
    so both servers simulate one account, and the shared demo stack's bookkeeping stays true.
    """
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


Kind = ResourceKind
AWS_CHECK_IDS = [
    "aws.account_linked",
    "aws.cloudfront_serves_landing",
    "aws.asg_health_check",
    "aws.asg_zones",
    "aws.asg_max_size",
    "aws.load_balancer",
    "aws.rds_multi_az",
    "aws.rds_headroom",
    "aws.cache_replicas",
    "aws.cloudwatch_alarms",
    "aws.vcpu_quota",
    "aws.cloudfront_rate_quota",
]
# The default event (2,000,000 viewers, a 40 req/s stack) peaks at about 6,640 origin req/s in the high band:
# 2,000 req/s per instance needs 4 instances (the demo group's maximum is 6), 100 req/s needs 67.
ENOUGH_RPS, TOO_FEW_RPS = 2000, 100


# --- Helpers and fixtures ---


@pytest.fixture
def fresh_stack(aws) -> dict[str, Any]:
    """Seed the demo shop in an account emptied for this test alone: the test may change it."""
    return seed_demo_account(region=REGION)


def link_of(seeded: dict[str, Any]) -> RoleLink:
    return RoleLink(role_arn=seeded["role_arn"], external_id=seeded["external_id"])


def link_account(organization, seeded: dict[str, Any]) -> CloudAccount:
    """Link the organization to the seeded role, verified, as the verification task would leave it."""
    values = {
        "role_arn": seeded["role_arn"],
        "external_id": seeded["external_id"],
        "regions": [REGION],
        "status": CloudAccount.Status.VERIFIED,
        "aws_account_id": ACCOUNT_ID,
        "verified_at": timezone.now(),
    }
    return CloudAccount.objects.create(organization=organization, **values)


def attach(stack, seeded: dict[str, Any], *kinds: ResourceKind, unit_rps: int | None = None) -> list[StackResource]:
    """Attach the seeded resources of these kinds to the stack, as AWS describes them now."""
    rows = []
    for kind in kinds:
        resource = refresh(
            link_of(seeded), Resource(kind=kind, identifier=seeded[kind.value], name=kind.value, region=REGION)
        )
        rows.append(
            StackResource.objects.create(
                stack=stack,
                kind=str(resource.kind),
                identifier=resource.identifier,
                name=resource.name,
                region=resource.region,
                capacity=resource.capacity,
                details=resource.details,
                tags=resource.tags,
                unit_rps=unit_rps if kind == Kind.autoscaling_group else None,
                refreshed_at=timezone.now(),
            )
        )
    return rows


@pytest.fixture
def context_for(personas, stack, event_factory):
    """Return a CheckContext on a new event of the linked organization, with these resources on its stack."""

    def make(seeded, *kinds: ResourceKind, unit_rps: int | None = None, **event_fields) -> CheckContext:
        link_account(personas.organization, seeded)
        attach(stack, seeded, *kinds, unit_rps=unit_rps)
        return CheckContext(event=event_factory(**event_fields))

    return make


def registered(check_id: str) -> Check:
    return {check.id: check for check in checks()}[check_id]


def run_check(check_id: str, context: CheckContext):
    """Run a registered check on the one target it plans, and return its finding."""
    check = registered(check_id)
    [target] = check.targets(context)
    return check.run(context, target)


def assert_bad(finding, outcome: str) -> None:
    assert finding.outcome == outcome, finding.message
    assert finding.remediation, "a warn or fail says what to do"


def answer_vcpu_quota(monkeypatch, value: float) -> list[tuple[RoleLink, str]]:
    """Answer the adapter's read of the on-demand vCPU quota (L-1216C47A); return who asked, for which region."""
    asked = []

    def quota(link: RoleLink, region: str) -> float:
        asked.append((link, region))
        return value

    monkeypatch.setattr(quotas, "ec2_on_demand_vcpu_quota", quota)
    return asked


# --- Linked or not ---


@pytest.mark.parametrize("status", [None, CloudAccount.Status.VERIFYING, CloudAccount.Status.REFUSED])
def test_without_a_usable_link_only_account_linked_is_planned_and_it_fails(personas, stack, event_factory, status):
    if status is not None:
        CloudAccount.objects.create(
            organization=personas.organization,
            role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/PrimetimeAccess",
            status=status,
        )
    # Rows from an earlier link stay on the stack: they are not looked at without a usable link.
    StackResource.objects.create(
        stack=stack, kind=Kind.autoscaling_group, identifier="lumiere-shop-web", name="lumiere-shop-web", region=REGION
    )
    context = CheckContext(event=event_factory())

    planned = {check.id: check.targets(context) for check in checks() if check.category == "aws"}

    assert sorted(planned) == sorted(AWS_CHECK_IDS)
    assert planned == {check_id: [""] if check_id == "aws.account_linked" else [] for check_id in AWS_CHECK_IDS}
    finding = run_check("aws.account_linked", context)
    assert_bad(finding, Outcome.FAIL)
    assert "CloudFormation template" in finding.remediation
    assert finding.evidence["status"] == ("Not linked" if status is None else CloudAccount.Status(status).label)


def test_account_linked_passes_with_the_verified_role(context_for, demo_stack):
    finding = run_check("aws.account_linked", context_for(demo_stack))

    assert finding.outcome == Outcome.PASS
    assert finding.evidence == {"account": ACCOUNT_ID, "role_arn": demo_stack["role_arn"]}


# --- CloudFront ---


def test_cloudfront_serves_the_landing_host(context_for, demo_stack):
    context = context_for(demo_stack)  # the event's landing page is https://www.maison-lumiere.example/

    assert registered("aws.cloudfront_serves_landing").targets(context) == [DEMO_ALIAS]
    finding = run_check("aws.cloudfront_serves_landing", context)

    assert finding.outcome == Outcome.PASS
    assert finding.evidence["aliases"] == [DEMO_ALIAS]
    assert finding.evidence["enabled"] is True


def test_cloudfront_does_not_serve_another_host(context_for, demo_stack):
    context = context_for(demo_stack, landing_urls=["https://promo.maison-lumiere.example/capital"])

    finding = run_check("aws.cloudfront_serves_landing", context)

    assert_bad(finding, Outcome.FAIL)
    assert "promo.maison-lumiere.example" in finding.remediation
    assert len(finding.evidence["distributions_seen"]) == 1


def test_cloudfront_rate_quota_covers_a_usual_audience(context_for, demo_stack):
    finding = run_check("aws.cloudfront_rate_quota", context_for(demo_stack))

    assert finding.outcome == Outcome.PASS
    assert finding.evidence["edge_peak_high_rps"] < 0.8 * aws_checks.CLOUDFRONT_RPS_QUOTA


def test_cloudfront_rate_quota_warns_near_the_quota(context_for, demo_stack):
    finding = run_check("aws.cloudfront_rate_quota", context_for(demo_stack, expected_audience=10_000_000))

    assert_bad(finding, Outcome.WARN)
    assert finding.evidence["edge_peak_high_rps"] > 0.8 * aws_checks.CLOUDFRONT_RPS_QUOTA


# --- Auto Scaling group ---


def test_asg_health_check_and_zones_pass_on_the_demo_group(context_for, demo_stack):
    context = context_for(demo_stack, Kind.autoscaling_group)

    health = run_check("aws.asg_health_check", context)
    zones = run_check("aws.asg_zones", context)

    assert (health.outcome, health.evidence) == (Outcome.PASS, {"health_check_type": "ELB"})
    assert (zones.outcome, zones.evidence) == (Outcome.PASS, {"zones": ["eu-west-3a", "eu-west-3b"]})


@pytest.mark.parametrize(
    ("unit_rps", "outcome", "needed"),
    [(ENOUGH_RPS, Outcome.PASS, 4), (TOO_FEW_RPS, Outcome.FAIL, 67), (None, Outcome.WARN, None)],
)
def test_asg_max_size_against_the_instances_the_high_band_needs(context_for, demo_stack, unit_rps, outcome, needed):
    context = context_for(demo_stack, Kind.autoscaling_group, unit_rps=unit_rps)

    finding = run_check("aws.asg_max_size", context)

    assert finding.outcome == outcome, finding.message
    assert finding.evidence == {"max": 6, "desired": 2, "needed_for_high": needed}
    if outcome != Outcome.PASS:
        assert finding.remediation
    if outcome == Outcome.FAIL:
        assert "at least 67" in finding.remediation


# --- Load balancer ---


def test_load_balancer_without_a_capacity_reservation_warns(context_for, demo_stack):
    finding = run_check("aws.load_balancer", context_for(demo_stack, Kind.load_balancer))

    assert_bad(finding, Outcome.WARN)
    assert finding.evidence == {"type": "application", "cross_zone": True, "reserved_lcu": None}


def test_load_balancer_with_reserved_lcus_passes(context_for, demo_stack, monkeypatch):
    """The adapter's DescribeCapacityReservation read is answered (moto's never reserves LCUs); the rest of the
    load balancer is read from moto."""
    context = context_for(demo_stack, Kind.load_balancer)
    asked = []

    def reservation(link: RoleLink, region: str, arn: str) -> load_balancers.CapacityReservation:
        asked.append(arn)
        zones = [
            {"zone": zone, "effective_lcu": 1500.0, "state": "provisioned"} for zone in ("eu-west-3a", "eu-west-3b")
        ]
        return load_balancers.CapacityReservation(minimum_lcu=3000, state="provisioned", zones=zones)

    monkeypatch.setattr(load_balancers, "load_balancer_capacity_reservation", reservation)

    finding = run_check("aws.load_balancer", context)

    assert asked == [demo_stack["load_balancer"]]
    assert finding.outcome == Outcome.PASS, finding.message
    assert finding.evidence == {"type": "application", "cross_zone": True, "reserved_lcu": 3000}


# --- Database and cache ---


def test_the_demo_database_is_single_az_and_burstable(context_for, demo_stack):
    context = context_for(demo_stack, Kind.rds_instance)

    multi_az = run_check("aws.rds_multi_az", context)
    headroom = run_check("aws.rds_headroom", context)

    assert_bad(multi_az, Outcome.FAIL)
    assert multi_az.evidence == {"multi_az": False, "instance_class": "db.t3.medium"}
    assert_bad(headroom, Outcome.WARN)
    assert headroom.evidence == {"instance_class": "db.t3.medium", "max_connections": 405}


def test_cache_with_a_replica_passes(context_for, demo_stack):
    finding = run_check("aws.cache_replicas", context_for(demo_stack, Kind.elasticache_replication_group))

    assert finding.outcome == Outcome.PASS
    assert finding.evidence == {"caches": [{"name": "lumiere-shop-cache", "replicas": 1}]}


def test_a_stack_without_elasticache_fails(context_for, demo_stack):
    finding = run_check("aws.cache_replicas", context_for(demo_stack, Kind.autoscaling_group, Kind.rds_instance))

    assert_bad(finding, Outcome.FAIL)
    assert "ElastiCache" in finding.remediation


# --- Alarms and quotas ---


def test_alarms_without_latency_warn(context_for, demo_stack):
    context = context_for(demo_stack, Kind.load_balancer, Kind.cloudfront_distribution)

    finding = run_check("aws.cloudwatch_alarms", context)

    assert_bad(finding, Outcome.WARN)
    assert finding.message == "No alarm watches latency."
    assert finding.evidence == {"alarms": [demo_stack["alarm"]], "metrics": ["HTTPCode_ELB_5XX_Count"]}


@pytest.mark.parametrize(
    ("quota", "outcome"),
    [(640.0, Outcome.PASS), (9.0, Outcome.WARN), (5.0, Outcome.FAIL)],
    ids=["pass", "warn", "fail"],
)
def test_vcpu_quota_against_the_scale_up(context_for, demo_stack, monkeypatch, quota, outcome):
    """The adapter's Service Quotas read is answered: moto's Service Quotas knows no EC2 quota."""
    context = context_for(demo_stack, Kind.autoscaling_group, unit_rps=ENOUGH_RPS)
    asked = answer_vcpu_quota(monkeypatch, quota)

    finding = run_check("aws.vcpu_quota", context)

    assert asked == [(link_of(demo_stack), REGION)]
    assert finding.outcome == outcome, finding.message
    # 4 t3.medium instances for the high band, 2 vCPUs each.
    assert (finding.evidence["needed_vcpus"], finding.evidence["quota_vcpus"]) == (8, quota)
    if outcome != Outcome.PASS:
        assert finding.remediation
    if outcome == Outcome.FAIL:
        assert "at least 10 vCPUs" in finding.remediation


# --- A whole run ---


@pytest.mark.django_db(transaction=True)
def test_a_run_of_the_aws_and_capacity_checks_on_the_seeded_account(
    personas, stack, event_factory, demo_stack, only_checks, executed, monkeypatch
):
    """The adapter's Service Quotas read is answered (moto knows no EC2 quota); everything else is moto.

    Transactional: each check runs in the runner's watchdog thread, whose own database connection sees only
    committed rows.
    """
    account = link_account(personas.organization, demo_stack)
    cloud_services.account_discover(account_id=account.pk)
    cloud_services.stack_resources_attach_by_tag(stack=stack, tag_value="shop", by=personas.owner)
    StackResource.objects.filter(stack=stack, kind=Kind.autoscaling_group).update(unit_rps=ENOUGH_RPS)
    only_checks(*[check for check in checks() if check.category in {"aws", "capacity"}])
    event = event_factory()
    asked = answer_vcpu_quota(monkeypatch, 640.0)

    with executed():
        run = services.run_start(event=event, by=personas.owner)

    assert asked == [(link_of(demo_stack), REGION)]

    run.refresh_from_db()
    results = list(CheckResult.objects.filter(run=run))
    assert {result.check_id for result in results} == {*AWS_CHECK_IDS, "capacity.compute_vs_forecast"}
    assert all(result.is_done() for result in results)
    assert run.status == ReadinessRun.Status.COMPLETED
    outcomes = {(result.check_id, result.outcome) for result in results}
    assert Outcome.ERROR not in {outcome for _check, outcome in outcomes}, [r.message for r in results]
    assert ("aws.rds_multi_az", Outcome.FAIL) in outcomes
    assert run.verdict == ReadinessRun.Verdict.NOT_READY
    for result in results:
        json.dumps(result.evidence)
        if result.outcome in {Outcome.WARN, Outcome.FAIL}:
            assert result.remediation, result.check_id


# --- Tests that change the account (each seeds its own; keep them last) ---


def test_an_ec2_health_check_warns(context_for, fresh_stack):
    provider_client("autoscaling", REGION).update_auto_scaling_group(
        AutoScalingGroupName="lumiere-shop-web", HealthCheckType="EC2"
    )

    finding = run_check("aws.asg_health_check", context_for(fresh_stack, Kind.autoscaling_group))

    assert_bad(finding, Outcome.WARN)
    assert finding.evidence == {"health_check_type": "EC2"}


def test_a_group_in_one_zone_warns(context_for, fresh_stack):
    provider_client("autoscaling", REGION).update_auto_scaling_group(
        AutoScalingGroupName="lumiere-shop-web", VPCZoneIdentifier=fresh_stack["subnet_ids"][0]
    )

    finding = run_check("aws.asg_zones", context_for(fresh_stack, Kind.autoscaling_group))

    assert_bad(finding, Outcome.WARN)
    assert finding.evidence == {"zones": ["eu-west-3a"]}


def test_a_network_load_balancer_without_cross_zone_fails(context_for, fresh_stack):
    balancer = provider_client("elbv2", REGION).create_load_balancer(
        Name="lumiere-shop-nlb", Subnets=fresh_stack["subnet_ids"], Type="network"
    )["LoadBalancers"][0]
    seeded = {**fresh_stack, Kind.load_balancer.value: balancer["LoadBalancerArn"]}

    finding = run_check("aws.load_balancer", context_for(seeded, Kind.load_balancer))

    assert_bad(finding, Outcome.FAIL)
    assert finding.evidence["type"] == "network"
    assert finding.evidence["cross_zone"] is False


def test_a_multi_az_database_of_a_fixed_class_passes(context_for, fresh_stack):
    database = provider_client("rds", REGION).create_db_instance(
        DBInstanceIdentifier="lumiere-shop-db2",
        DBInstanceClass="db.m6g.large",
        Engine="postgres",
        AllocatedStorage=100,
        MultiAZ=True,
        MasterUsername="lumiere",
        MasterUserPassword="not-a-real-password",
        DBSubnetGroupName="lumiere-shop-db",
    )["DBInstance"]
    seeded = {**fresh_stack, Kind.rds_instance.value: database["DBInstanceArn"]}
    context = context_for(seeded, Kind.rds_instance)

    multi_az = run_check("aws.rds_multi_az", context)
    headroom = run_check("aws.rds_headroom", context)

    assert (multi_az.outcome, multi_az.evidence) == (Outcome.PASS, {"multi_az": True})
    assert headroom.outcome == Outcome.PASS, headroom.message
    assert headroom.evidence["instance_class"] == "db.m6g.large"
    assert headroom.evidence["max_connections"] >= 500


def test_alarms_on_errors_and_latency_pass(context_for, fresh_stack):
    balancer = fresh_stack["load_balancer"].split(":loadbalancer/", 1)[1]
    provider_client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="lumiere-shop-alb-latency",
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        Dimensions=[{"Name": "LoadBalancer", "Value": balancer}],
        ExtendedStatistic="p95",
        Period=60,
        EvaluationPeriods=3,
        Threshold=1.5,
        ComparisonOperator="GreaterThanThreshold",
    )

    finding = run_check("aws.cloudwatch_alarms", context_for(fresh_stack, Kind.load_balancer))

    assert finding.outcome == Outcome.PASS, finding.message
    assert finding.evidence["metrics"] == ["HTTPCode_ELB_5XX_Count", "TargetResponseTime"]


def test_cloudfront_serves_a_host_under_its_wildcard_alias(context_for, fresh_stack):
    wildcard = "*.maison-lumiere.example"
    certificate = provider_client("acm", "us-east-1").request_certificate(DomainName=wildcard, ValidationMethod="DNS")
    provider_client("cloudfront", "us-east-1").create_distribution(
        DistributionConfig={
            "CallerReference": "lumiere-promo-cdn",
            "Comment": "Every other host of the shop",
            "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": [wildcard]},
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "alb",
                        "DomainName": "lumiere-shop-alb.eu-west-3.elb.amazonaws.com",
                        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "alb",
                "ViewerProtocolPolicy": "redirect-to-https",
                "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "all"}},
                "MinTTL": 0,
            },
            "ViewerCertificate": {
                "ACMCertificateArn": certificate["CertificateArn"],
                "SSLSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021",
            },
        }
    )
    promo = context_for(fresh_stack, landing_urls=["https://promo.maison-lumiere.example/capital"])

    finding = run_check("aws.cloudfront_serves_landing", promo)

    assert finding.outcome == Outcome.PASS, finding.message
    assert finding.evidence["aliases"] == [wildcard]
    # One label only, as the wildcard certificate covers: a deeper host is not served.
    deeper = CheckContext(event=promo.event)
    deeper.event.landing_urls = ["https://a.promo.maison-lumiere.example/"]
    assert run_check("aws.cloudfront_serves_landing", deeper).outcome == Outcome.FAIL
