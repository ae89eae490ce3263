"""Service Quotas: how many vCPUs of on-demand instances the account may run, which caps any scale-up."""

from __future__ import annotations

from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import NotFound

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
