"""Service Quotas: how many vCPUs of on-demand instances the account may run, which caps any scale-up."""

from __future__ import annotations

from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import NotFound
from cloud.instance_types import counts_against_standard_quota, size_vcpus

# "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", in vCPUs.
EC2_ON_DEMAND_STANDARD_VCPUS = ("ec2", "L-1216C47A")


def ec2_on_demand_vcpu_quota(link: RoleLink, region: str) -> float:
    """Return the account's on-demand standard-instance vCPU quota in the region (the default if none is applied)."""
    service_code, quota_code = EC2_ON_DEMAND_STANDARD_VCPUS
    client = aws_client(link, "service-quotas", region)
    try:
        with translate_errors("service-quotas"):
            return float(client.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"]["Value"])
    except NotFound:
        # No applied value recorded for this account yet: AWS's default applies.
        pass
    with translate_errors("service-quotas"):
        answer = client.get_aws_default_service_quota(ServiceCode=service_code, QuotaCode=quota_code)
    return float(answer["Quota"]["Value"])


GROUP_TAG = "aws:autoscaling:groupName"


@translate_errors("ec2")
def ec2_running_standard_vcpus(link: RoleLink, region: str) -> dict[str, int]:
    """Return the on-demand standard vCPUs running in the region, per Auto Scaling group ("" for the rest).

    A plan subtracts what runs outside its stack's groups from the quota: those vCPUs stay in use during
    the spike. Spot instances and non-standard families count against other quotas.
    """
    paginator = aws_client(link, "ec2", region).get_paginator("describe_instances")
    pages = paginator.paginate(Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}])
    by_group: dict[str, int] = {}
    for page in pages:
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                instance_type = instance.get("InstanceType")
                if instance.get("InstanceLifecycle") == "spot" or not counts_against_standard_quota(instance_type):
                    continue
                cpu = instance.get("CpuOptions") or {}
                vcpus = cpu.get("CoreCount", 0) * cpu.get("ThreadsPerCore", 0) or size_vcpus(instance_type) or 2
                group = next((tag["Value"] for tag in instance.get("Tags", []) if tag["Key"] == GROUP_TAG), "")
                by_group[group] = by_group.get(group, 0) + vcpus
    return by_group
