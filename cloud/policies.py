"""The IAM documents a client puts in its account so the portal can read its stack, and scale it if allowed.

The client creates the role from ``cloudformation_template``: a trust policy
that names the provider's account *and* requires the external id the portal
generated, a read-only policy for readiness checks, and, only when the client
says so, a second policy that lets the portal apply approved scaling plans.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

POLICY_VERSION = "2012-10-17"
ACCOUNT_ID = re.compile(r"^\d{12}$")
# STS's own rule for ExternalId: 2 to 1224 characters from this set.
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")

READINESS_ACTIONS = [
    "autoscaling:Describe*",
    "application-autoscaling:DescribeScalableTargets",
    "ecs:Describe*",
    "ecs:List*",
    "elasticloadbalancing:Describe*",
    "rds:Describe*",
    "elasticache:Describe*",
    "elasticache:ListTagsForResource",
    "cloudfront:Get*",
    "cloudfront:List*",
    "dynamodb:DescribeTable",
    "dynamodb:ListTables",
    "dynamodb:ListTagsOfResource",
    "tag:GetResources",
    "servicequotas:GetServiceQuota",
    "servicequotas:GetAWSDefaultServiceQuota",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeAvailabilityZones",
    # An Auto Scaling group names a launch template; its version says the instance type.
    "ec2:DescribeLaunchTemplateVersions",
    "sts:GetCallerIdentity",
]

SCALING_ACTIONS = [
    "autoscaling:UpdateAutoScalingGroup",
    "autoscaling:PutScheduledUpdateGroupAction",
    "autoscaling:BatchPutScheduledUpdateGroupAction",
    "autoscaling:DeleteScheduledAction",
    "autoscaling:BatchDeleteScheduledAction",
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:PutScheduledAction",
    "application-autoscaling:DeleteScheduledAction",
    "application-autoscaling:Describe*",
    "elasticloadbalancing:ModifyCapacityReservation",
    "ecs:UpdateService",
]


def trust_policy(*, provider_account_id: str, external_id: str) -> dict[str, Any]:
    """Return the role's trust policy: the provider's account may assume it, with this external id only."""
    if not ACCOUNT_ID.match(provider_account_id):
        raise ValueError(f"{provider_account_id!r} is not an AWS account id (12 digits).")
    if not EXTERNAL_ID.match(external_id):
        raise ValueError("The external id must be 2 to 1224 letters, digits or +=,.@:/-_ characters.")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "PrimetimeAssumesWithExternalId",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{provider_account_id}:root"},
                "Action": "sts:AssumeRole",
                # Without this condition any AWS customer of the provider could
                # have the portal act on this account (the confused deputy).
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def readiness_permissions_policy() -> dict[str, Any]:
    """Return the read-only policy the readiness checks and the inventory need."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "PrimetimeReadsTheStack", "Effect": "Allow", "Action": list(READINESS_ACTIONS), "Resource": "*"}
        ],
    }


def scaling_permissions_policy() -> dict[str, Any]:
    """Return the policy that lets the portal apply approved scaling plans (and undo them)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "PrimetimeScalesTheStack", "Effect": "Allow", "Action": list(SCALING_ACTIONS), "Resource": "*"},
            {
                # Registering the first ECS scalable target creates Application
                # Auto Scaling's service-linked role; nothing else may be created.
                "Sid": "PrimetimeCreatesTheScalingServiceRole",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": "ecs.application-autoscaling.amazonaws.com"}},
            },
        ],
    }


# --- CloudFormation ---------------------------------------------------------


class _Intrinsic:
    """Write a CloudFormation short-form function (``!Ref X``) the way people write templates by hand."""

    tag: ClassVar[str]

    def __init__(self, value: str | list[Any]) -> None:
        self.value = value


class Ref(_Intrinsic):
    tag = "!Ref"


class GetAtt(_Intrinsic):
    tag = "!GetAtt"


class If(_Intrinsic):
    tag = "!If"


class Equals(_Intrinsic):
    tag = "!Equals"


class _TemplateDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # CloudFormation reads anchors, but people editing the template should not have to.
        return True


def _represent_intrinsic(dumper: yaml.SafeDumper, data: _Intrinsic) -> yaml.Node:
    if isinstance(data.value, list):
        # [A, B] on one line when short; a nested policy document stays in block style.
        inline = not any(isinstance(item, dict | list) for item in data.value)
        return dumper.represent_sequence(data.tag, data.value, flow_style=inline)
    return dumper.represent_scalar(data.tag, data.value)


for _cls in (Ref, GetAtt, If, Equals):
    _TemplateDumper.add_representer(_cls, _represent_intrinsic)


def cloudformation_template(*, provider_account_id: str, external_id: str, role_name: str = "PrimetimeAccess") -> str:
    """Return the CloudFormation template (YAML) that creates the client's Primetime role."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Lets Primetime read this account's stack, and pre-scale it before TV appearances if allowed.",
        "Parameters": {
            "AllowScaling": {
                "Type": "String",
                "AllowedValues": ["true", "false"],
                "Default": "false",
                "Description": "true lets Primetime apply the scaling plans you approve; false keeps it read-only.",
            }
        },
        "Conditions": {"ScalingAllowed": Equals([Ref("AllowScaling"), "true"])},
        "Resources": {
            "PrimetimeAccessRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "Description": "Assumed by Primetime with the external id shown in the portal.",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": trust_policy(
                        provider_account_id=provider_account_id, external_id=external_id
                    ),
                    "Policies": [
                        {"PolicyName": "PrimetimeReadiness", "PolicyDocument": readiness_permissions_policy()},
                        If(
                            [
                                "ScalingAllowed",
                                {"PolicyName": "PrimetimeScaling", "PolicyDocument": scaling_permissions_policy()},
                                Ref("AWS::NoValue"),
                            ]
                        ),
                    ],
                    "Tags": [{"Key": "managed-by", "Value": "primetime"}],
                },
            }
        },
        "Outputs": {
            "RoleArn": {
                "Description": "Paste this into the portal to link the account.",
                "Value": GetAtt("PrimetimeAccessRole.Arn"),
            }
        },
    }
    return yaml.dump(template, Dumper=_TemplateDumper, sort_keys=False, allow_unicode=True, width=120)
