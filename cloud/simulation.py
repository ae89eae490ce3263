"""Seed the simulated AWS account (moto on loopback) with the demo client's shop stack.

The stack is what a small French e-commerce start-up runs before its TV
segment: an Auto Scaling group behind an ALB, PostgreSQL on RDS, Redis on
ElastiCache, CloudFront in front, a DynamoDB table for sessions, one alarm,
and the ``PrimetimeAccess`` role the portal assumes. A few things are left
short on purpose (RDS not Multi-AZ, a small provisioned DynamoDB table) so
the readiness run has something true to say.

Calls use the portal's own credentials: moto accepts any.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings

from cloud.client import provider_client, translate_errors
from cloud.exceptions import NotFound, PermanentCloudError
from cloud.policies import readiness_permissions_policy, scaling_permissions_policy, trust_policy
from cloud.resources import ResourceKind

DEMO_ALIAS = "www.maison-lumiere.example"
DEMO_EXTERNAL_ID = "primetime-demo-external-id"
DEMO_ROLE_NAME = "PrimetimeAccess"
CLOUDFRONT_REGION = "us-east-1"  # CloudFront and its certificates live there
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
FALLBACK_AMI = "ami-0d38994be4bb7d667"


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _ensure_network(region: str, prefix: str, tags: dict[str, str]) -> tuple[str, list[str], str]:
    ec2 = provider_client("ec2", region)
    with translate_errors("ec2"):
        named = [{"Name": "tag:Name", "Values": [f"{prefix}-vpc"]}]
        vpcs = ec2.describe_vpcs(Filters=named)["Vpcs"]
        if vpcs:
            vpc_id = vpcs[0]["VpcId"]
        else:
            spec = [{"ResourceType": "vpc", "Tags": _tag_list({**tags, "Name": f"{prefix}-vpc"})}]
            vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16", TagSpecifications=spec)["Vpc"]["VpcId"]

        zones = sorted(zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"])[:2]
        subnet_ids = []
        for index, zone in enumerate(zones, start=1):
            cidr = f"10.42.{index}.0/24"
            found = ec2.describe_subnets(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "cidr-block", "Values": [cidr]}]
            )["Subnets"]
            if found:
                subnet_ids.append(found[0]["SubnetId"])
                continue
            spec = [{"ResourceType": "subnet", "Tags": _tag_list({**tags, "Name": f"{prefix}-{zone}"})}]
            subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone, TagSpecifications=spec)
            subnet_ids.append(subnet["Subnet"]["SubnetId"])

        groups = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [f"{prefix}-web"]}]
        )["SecurityGroups"]
        if groups:
            group_id = groups[0]["GroupId"]
        else:
            group_id = ec2.create_security_group(
                GroupName=f"{prefix}-web",
                Description="Public HTTP(S) to the shop's load balancer",
                VpcId=vpc_id,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": _tag_list(tags)}],
            )["GroupId"]
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
                    for port in (80, 443)
                ],
            )
    return vpc_id, subnet_ids, group_id


def _latest_ami(region: str) -> str:
    try:
        with translate_errors("ssm"):
            return provider_client("ssm", region).get_parameter(Name=AMI_PARAMETER)["Parameter"]["Value"]
    except PermanentCloudError:
        return FALLBACK_AMI


def _ensure_launch_template(region: str, prefix: str, tags: dict[str, str]) -> str:
    ec2 = provider_client("ec2", region)
    name = f"{prefix}-web"
    try:
        with translate_errors("ec2"):
            return ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"][0]["LaunchTemplateId"]
    except NotFound:
        pass
    with translate_errors("ec2"):
        return ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={"ImageId": _latest_ami(region), "InstanceType": "t3.medium"},
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": _tag_list(tags)}],
        )["LaunchTemplate"]["LaunchTemplateId"]


def _ensure_load_balancer(
    region: str, prefix: str, tags: dict[str, str], vpc_id: str, subnet_ids: list[str], group_id: str
) -> tuple[str, str, str]:
    elb = provider_client("elbv2", region)
    try:
        with translate_errors("elbv2"):
            target_group_arn = elb.describe_target_groups(Names=[f"{prefix}-web"])["TargetGroups"][0]["TargetGroupArn"]
    except NotFound:
        with translate_errors("elbv2"):
            target_group_arn = elb.create_target_group(
                Name=f"{prefix}-web",
                Protocol="HTTP",
                Port=80,
                VpcId=vpc_id,
                TargetType="instance",
                HealthCheckPath="/healthz",
                Tags=_tag_list(tags),
            )["TargetGroups"][0]["TargetGroupArn"]
    try:
        with translate_errors("elbv2"):
            balancer = elb.describe_load_balancers(Names=[f"{prefix}-alb"])["LoadBalancers"][0]
    except NotFound:
        with translate_errors("elbv2"):
            balancer = elb.create_load_balancer(
                Name=f"{prefix}-alb",
                Subnets=subnet_ids,
                SecurityGroups=[group_id],
                Scheme="internet-facing",
                Type="application",
                Tags=_tag_list(tags),
            )["LoadBalancers"][0]
    with translate_errors("elbv2"):
        if not elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
            elb.create_listener(
                LoadBalancerArn=balancer["LoadBalancerArn"],
                Protocol="HTTP",
                Port=80,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group_arn}],
            )
    return balancer["LoadBalancerArn"], balancer["DNSName"], target_group_arn


def _ensure_autoscaling_group(
    region: str, prefix: str, tags: dict[str, str], template_id: str, subnet_ids: list[str], target_group_arn: str
) -> str:
    autoscaling = provider_client("autoscaling", region)
    name = f"{prefix}-web"
    with translate_errors("autoscaling"):
        found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
        if not found:
            autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchTemplate={"LaunchTemplateId": template_id, "Version": "$Latest"},
                MinSize=2,
                DesiredCapacity=2,
                MaxSize=6,
                VPCZoneIdentifier=",".join(subnet_ids),
                TargetGroupARNs=[target_group_arn],
                HealthCheckType="ELB",
                HealthCheckGracePeriod=300,
                Tags=[
                    {
                        "Key": key,
                        "Value": value,
                        "PropagateAtLaunch": True,
                        "ResourceId": name,
                        "ResourceType": "auto-scaling-group",
                    }
                    for key, value in tags.items()
                ],
            )
            found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return found[0]["AutoScalingGroupARN"]


def _ensure_database(region: str, prefix: str, tags: dict[str, str], subnet_ids: list[str]) -> str:
    rds = provider_client("rds", region)
    try:
        with translate_errors("rds"):
            rds.describe_db_subnet_groups(DBSubnetGroupName=f"{prefix}-db")
    except NotFound:
        with translate_errors("rds"):
            rds.create_db_subnet_group(
                DBSubnetGroupName=f"{prefix}-db",
                DBSubnetGroupDescription="The shop's database subnets",
                SubnetIds=subnet_ids,
                Tags=_tag_list(tags),
            )
    try:
        with translate_errors("rds"):
            return rds.describe_db_instances(DBInstanceIdentifier=f"{prefix}-db")["DBInstances"][0]["DBInstanceArn"]
    except NotFound:
        pass
    with translate_errors("rds"):
        return rds.create_db_instance(
            DBInstanceIdentifier=f"{prefix}-db",
            DBInstanceClass="db.t3.medium",
            Engine="postgres",
            AllocatedStorage=100,
            StorageType="gp3",
            # Single-AZ on purpose: the readiness run should flag it.
            MultiAZ=False,
            MasterUsername="lumiere",
            # Never used: the simulated database has no server behind it.
            MasterUserPassword=secrets.token_urlsafe(24),
            DBSubnetGroupName=f"{prefix}-db",
            BackupRetentionPeriod=7,
            PubliclyAccessible=False,
            Tags=_tag_list(tags),
        )["DBInstance"]["DBInstanceArn"]


def _ensure_cache(region: str, prefix: str, tags: dict[str, str], subnet_ids: list[str]) -> str:
    elasticache = provider_client("elasticache", region)
    with translate_errors("ec2"):
        subnets = provider_client("ec2", region).describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    zones = sorted(subnet["AvailabilityZone"] for subnet in subnets)
    try:
        with translate_errors("elasticache"):
            elasticache.describe_cache_subnet_groups(CacheSubnetGroupName=f"{prefix}-cache")
    except NotFound:
        with translate_errors("elasticache"):
            elasticache.create_cache_subnet_group(
                CacheSubnetGroupName=f"{prefix}-cache",
                CacheSubnetGroupDescription="The shop's cache subnets",
                SubnetIds=subnet_ids,
            )
    try:
        with translate_errors("elasticache"):
            groups = elasticache.describe_replication_groups(ReplicationGroupId=f"{prefix}-cache")
            return groups["ReplicationGroups"][0]["ARN"]
    except NotFound:
        pass
    with translate_errors("elasticache"):
        return elasticache.create_replication_group(
            ReplicationGroupId=f"{prefix}-cache",
            ReplicationGroupDescription="Sessions and page fragments",
            Engine="redis",
            CacheNodeType="cache.t3.medium",
            # One shard: a primary and one replica in the other zone. (ReplicasPerNodeGroup
            # rather than NumCacheClusters=2: moto only reads the former.)
            NumNodeGroups=1,
            ReplicasPerNodeGroup=1,
            PreferredCacheClusterAZs=zones,
            AutomaticFailoverEnabled=True,
            MultiAZEnabled=True,
            CacheSubnetGroupName=f"{prefix}-cache",
            Tags=_tag_list(tags),
        )["ReplicationGroup"]["ARN"]


def _ensure_distribution(prefix: str, tags: dict[str, str], origin_domain: str) -> str:
    acm = provider_client("acm", CLOUDFRONT_REGION)
    cloudfront = provider_client("cloudfront", CLOUDFRONT_REGION)
    with translate_errors("cloudfront"):
        for page in cloudfront.get_paginator("list_distributions").paginate():
            for item in page["DistributionList"].get("Items", []):
                if DEMO_ALIAS in item.get("Aliases", {}).get("Items", []):
                    return item["ARN"]
    with translate_errors("acm"):
        # An alias needs a certificate that covers it, as on real CloudFront.
        certificates = acm.list_certificates()["CertificateSummaryList"]
        certificate_arn = next(
            (item["CertificateArn"] for item in certificates if item["DomainName"] == DEMO_ALIAS), None
        )
        if certificate_arn is None:
            certificate_arn = acm.request_certificate(
                DomainName=DEMO_ALIAS, ValidationMethod="DNS", Tags=_tag_list(tags)
            )["CertificateArn"]
    config = {
        "CallerReference": f"{prefix}-cdn",
        "Comment": "Maison Lumière shop",
        "Enabled": True,
        "PriceClass": "PriceClass_100",
        "Aliases": {"Quantity": 1, "Items": [DEMO_ALIAS]},
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "alb",
                    "DomainName": origin_domain,
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "http-only",
                    },
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
            "ACMCertificateArn": certificate_arn,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        },
    }
    with translate_errors("cloudfront"):
        created = cloudfront.create_distribution_with_tags(
            DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": _tag_list(tags)}}
        )
    return created["Distribution"]["ARN"]


def _ensure_table(region: str, prefix: str, tags: dict[str, str]) -> str:
    dynamodb = provider_client("dynamodb", region)
    name = f"{prefix}-sessions"
    try:
        with translate_errors("dynamodb"):
            return dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    except NotFound:
        pass
    with translate_errors("dynamodb"):
        return dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
            # Small provisioned capacity on purpose: TV traffic needs more, or on-demand.
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
            Tags=_tag_list(tags),
        )["TableDescription"]["TableArn"]


def _ensure_alarm(region: str, prefix: str, tags: dict[str, str], load_balancer_arn: str) -> str:
    cloudwatch = provider_client("cloudwatch", region)
    name = f"{prefix}-alb-5xx"
    with translate_errors("cloudwatch"):
        # PutMetricAlarm overwrites an alarm of the same name: running it again changes nothing.
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription="The shop's load balancer answers 5xx errors",
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_ELB_5XX_Count",
            Dimensions=[{"Name": "LoadBalancer", "Value": load_balancer_arn.split(":loadbalancer/", 1)[1]}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=50,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
            Tags=_tag_list(tags),
        )
    return name


def _ensure_role(region: str, tags: dict[str, str], external_id: str) -> str:
    iam = provider_client("iam", region)
    trust = json.dumps(trust_policy(provider_account_id=settings.PROVIDER_AWS_ACCOUNT_ID, external_id=external_id))
    try:
        with translate_errors("iam"):
            role = iam.get_role(RoleName=DEMO_ROLE_NAME)["Role"]
        with translate_errors("iam"):
            # The role exists: make its trust policy match this external id (same id, same document).
            iam.update_assume_role_policy(RoleName=DEMO_ROLE_NAME, PolicyDocument=trust)
    except NotFound:
        with translate_errors("iam"):
            role = iam.create_role(
                RoleName=DEMO_ROLE_NAME,
                AssumeRolePolicyDocument=trust,
                Description="Lets Primetime read the shop's stack and pre-scale it for TV appearances",
                MaxSessionDuration=3600,
                Tags=_tag_list(tags),
            )["Role"]
    with translate_errors("iam"):
        iam.put_role_policy(
            RoleName=DEMO_ROLE_NAME,
            PolicyName="PrimetimeReadiness",
            PolicyDocument=json.dumps(readiness_permissions_policy()),
        )
        iam.put_role_policy(
            RoleName=DEMO_ROLE_NAME,
            PolicyName="PrimetimeScaling",
            PolicyDocument=json.dumps(scaling_permissions_policy()),
        )
    return role["Arn"]


def seed_demo_account(
    *,
    region: str = "eu-west-3",
    tag_key: str = "primetime:stack",
    tag_value: str = "shop",
    external_id: str = DEMO_EXTERNAL_ID,
) -> dict[str, Any]:
    """Create the demo client's stack in the simulated account, once; return the role ARN and the identifiers.

    Every step looks for what it would create first, so running it again
    creates nothing more. Refuse to run against real AWS.
    """
    if not settings.AWS_ENDPOINT_URL:
        raise PermanentCloudError("Set AWS_ENDPOINT_URL to the simulated account before seeding it; never real AWS.")
    prefix = f"lumiere-{tag_value}"
    tags = {tag_key: tag_value, "project": "maison-lumiere"}

    vpc_id, subnet_ids, group_id = _ensure_network(region, prefix, tags)
    template_id = _ensure_launch_template(region, prefix, tags)
    load_balancer_arn, dns_name, target_group_arn = _ensure_load_balancer(
        region, prefix, tags, vpc_id, subnet_ids, group_id
    )
    return {
        "region": region,
        "role_arn": _ensure_role(region, tags, external_id),
        "external_id": external_id,
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "security_group_id": group_id,
        "launch_template_id": template_id,
        ResourceKind.autoscaling_group.value: _ensure_autoscaling_group(
            region, prefix, tags, template_id, subnet_ids, target_group_arn
        ),
        ResourceKind.load_balancer.value: load_balancer_arn,
        ResourceKind.target_group.value: target_group_arn,
        ResourceKind.rds_instance.value: _ensure_database(region, prefix, tags, subnet_ids),
        ResourceKind.elasticache_replication_group.value: _ensure_cache(region, prefix, tags, subnet_ids),
        ResourceKind.cloudfront_distribution.value: _ensure_distribution(prefix, tags, dns_name),
        ResourceKind.dynamodb_table.value: _ensure_table(region, prefix, tags),
        "alarm": _ensure_alarm(region, prefix, tags, load_balancer_arn),
    }
