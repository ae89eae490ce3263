"""EC2 instance types by name alone: vCPUs per size and the families the on-demand standard quota counts.

Pure and offline, so plans and readiness checks can use it without an AWS call; DescribeInstanceTypes is
the authority when an account is at hand.
"""

from __future__ import annotations

# vCPUs per instance size, the same in every current family (AWS's naming).
VCPUS_BY_SIZE = {
    "nano": 2, "micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8, "3xlarge": 12,
    "4xlarge": 16, "6xlarge": 24, "8xlarge": 32, "9xlarge": 36, "12xlarge": 48, "16xlarge": 64,
    "18xlarge": 72, "24xlarge": 96, "32xlarge": 128, "48xlarge": 192,
}  # fmt: skip
# "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" (quota L-1216C47A) counts these families.
STANDARD_FAMILY_LETTERS = frozenset("acdhimrtz")


def size_vcpus(instance_type: str | None) -> int | None:
    """Return the vCPUs of an EC2 type from its size ("m7g.2xlarge" → 8), or None for an unknown size."""
    name = (instance_type or "").lower()
    if "." not in name:
        return None
    return VCPUS_BY_SIZE.get(name.rpartition(".")[2])


def counts_against_standard_quota(instance_type: str | None) -> bool:
    """Tell whether an on-demand instance of this type counts against the standard-instance vCPU quota."""
    name = (instance_type or "").lower()
    return bool(name) and name[0] in STANDARD_FAMILY_LETTERS
