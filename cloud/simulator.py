"""The simulated AWS account of ``make run``: moto's server, plus the one quota the demo's readiness reads.

moto's Service Quotas knows only VPC quotas, so on the demo account the readiness check of the EC2
on-demand vCPU quota could never run ("AWS could not answer ... it will be retried"). This process
answers GetServiceQuota for that quota, with the value an account that already runs a few services
would have been granted, and is otherwise ``moto_server``:

    python -m cloud.simulator --host 127.0.0.1 --port 5055

The tests keep moto as it is: they exercise the check against answers given quota by quota.
"""

from __future__ import annotations

from typing import Any

from moto.server import main
from moto.servicequotas.models import ServiceQuotasBackend

from cloud.adapters.quotas import EC2_ON_DEMAND_STANDARD_VCPUS

ON_DEMAND_VCPUS = 256.0


def simulated_quota(region: str) -> dict[str, Any]:
    """Return the EC2 on-demand standard vCPU quota as Service Quotas would describe it in ``region``."""
    service_code, quota_code = EC2_ON_DEMAND_STANDARD_VCPUS
    return {
        "ServiceCode": service_code,
        "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
        "QuotaArn": f"arn:aws:servicequotas:{region}::{service_code}/{quota_code}",
        "QuotaCode": quota_code,
        "QuotaName": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
        "Value": ON_DEMAND_VCPUS,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


_moto_get_service_quota = ServiceQuotasBackend.get_service_quota


def _get_service_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict[str, Any]:
    if (service_code, quota_code) == EC2_ON_DEMAND_STANDARD_VCPUS:
        return simulated_quota(self.region_name)
    return _moto_get_service_quota(self, service_code, quota_code)


def install() -> None:
    """Teach this process's moto backends the quota (the server builds them lazily, on the first call)."""
    ServiceQuotasBackend.get_service_quota = _get_service_quota


if __name__ == "__main__":
    install()
    main()
