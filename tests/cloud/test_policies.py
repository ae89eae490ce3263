"""The IAM documents and the CloudFormation template a client deploys to link its account."""

from __future__ import annotations

import pytest
import yaml

from cloud.policies import (
    cloudformation_template,
    readiness_permissions_policy,
    scaling_permissions_policy,
    trust_policy,
)

PROVIDER = "123456789012"
EXTERNAL_ID = "primetime-5d41402abc4b2a76b9719d911017c592"


class CloudFormationLoader(yaml.SafeLoader):
    """Read CloudFormation's short-form functions (!Ref, !Sub, ...) as {"Fn": value} instead of failing."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def _template(**kwargs) -> dict:
    text = cloudformation_template(provider_account_id=PROVIDER, external_id=EXTERNAL_ID, **kwargs)
    return yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass: safe_load plus the tags


def test_template_parses_and_its_role_requires_the_external_id():
    template = _template()

    role = template["Resources"]["PrimetimeAccessRole"]
    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["RoleName"] == "PrimetimeAccess"
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{PROVIDER}:root"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    assert template["Outputs"]["RoleArn"]["Value"] == {"GetAtt": "PrimetimeAccessRole.Arn"}


def test_template_scaling_policy_sits_behind_the_allow_scaling_parameter():
    template = _template(role_name="LumiereOps")

    assert template["Parameters"]["AllowScaling"]["AllowedValues"] == ["true", "false"]
    assert template["Parameters"]["AllowScaling"]["Default"] == "false"
    assert template["Conditions"]["ScalingAllowed"] == {"Equals": [{"Ref": "AllowScaling"}, "true"]}
    readiness, scaling = template["Resources"]["PrimetimeAccessRole"]["Properties"]["Policies"]
    assert readiness == {"PolicyName": "PrimetimeReadiness", "PolicyDocument": readiness_permissions_policy()}
    condition, policy, otherwise = scaling["If"]
    assert condition == "ScalingAllowed"
    assert policy == {"PolicyName": "PrimetimeScaling", "PolicyDocument": scaling_permissions_policy()}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert template["Resources"]["PrimetimeAccessRole"]["Properties"]["RoleName"] == "LumiereOps"


def test_readiness_policy_only_reads():
    [statement] = readiness_permissions_policy()["Statement"]

    for action in statement["Action"]:
        verb = action.split(":", 1)[1]
        assert verb.startswith(("Describe", "List", "Get")), action
    assert "servicequotas:GetAWSDefaultServiceQuota" in statement["Action"]
    assert "tag:GetResources" in statement["Action"]


def test_scaling_policy_lists_the_changes_the_portal_may_make():
    actions = scaling_permissions_policy()["Statement"][0]["Action"]

    assert "autoscaling:PutScheduledUpdateGroupAction" in actions
    assert "autoscaling:DeleteScheduledAction" in actions  # every scale-up is undone on the AWS side
    assert "elasticloadbalancing:ModifyCapacityReservation" in actions
    assert "ecs:UpdateService" in actions


@pytest.mark.parametrize(
    ("provider", "external_id"),
    [("12345", EXTERNAL_ID), (PROVIDER, ""), (PROVIDER, "x"), (PROVIDER, "has spaces in it")],
)
def test_trust_policy_refuses_a_bad_account_or_external_id(provider, external_id):
    with pytest.raises(ValueError, match=r"account id|external id"):
        trust_policy(provider_account_id=provider, external_id=external_id)
