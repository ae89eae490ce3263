"""Price the capacity a pre-scaling plan adds: a small, dated on-demand price table.

Indicative on-demand Linux prices, region eu-west-3 (Paris), in EUR per hour, as of 2026-11
(USD list prices converted at about 0.92). They are good enough to compare plans and to check an
organization's hourly cost cap; they are not a bill. Refresh the table and ``PRICES_AS_OF`` together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

PRICES_AS_OF = "2026-11"
REGION = "eu-west-3"
CURRENCY = "EUR"

# Instance type -> EUR per hour (on-demand, Linux, eu-west-3, indicative, 2026-11).
EC2_HOURLY_EUR: dict[str, float] = {
    "t3.micro": 0.0109,
    "t3.small": 0.0217,
    "t3.medium": 0.0434,
    "t3.large": 0.0868,
    "t3.xlarge": 0.1737,
    "t3.2xlarge": 0.3474,
    "t4g.large": 0.0692,
    "t4g.xlarge": 0.1384,
    "t4g.2xlarge": 0.2767,
    "m6i.large": 0.1030,
    "m6i.xlarge": 0.2061,
    "m6i.2xlarge": 0.4122,
    "m6i.4xlarge": 0.8243,
    "m7g.large": 0.0876,
    "m7g.xlarge": 0.1752,
    "m7g.2xlarge": 0.3503,
    "m7g.4xlarge": 0.7007,
    "c6i.large": 0.0929,
    "c6i.xlarge": 0.1858,
    "c6i.2xlarge": 0.3717,
    "c6i.4xlarge": 0.7434,
    "c7g.large": 0.0789,
    "c7g.xlarge": 0.1579,
    "c7g.2xlarge": 0.3157,
    "c7g.4xlarge": 0.6315,
    "r6i.large": 0.1362,
    "r6i.xlarge": 0.2723,
    "r6i.2xlarge": 0.5446,
    "r6i.4xlarge": 0.8893,
}

# Fargate (Linux/x86) in eu-west-3, EUR, indicative, 2026-11.
FARGATE_VCPU_HOUR_EUR = 0.0428
FARGATE_GB_HOUR_EUR = 0.0047


class PricedTarget(Protocol):
    """Describe what ``scaled_window_cost`` reads from a planned target (see scaling.targets.ResourceTarget)."""

    instance_type: str | None
    refused: str | None

    @property
    def added_units(self) -> int: ...

    @property
    def added_unit_hours(self) -> float: ...


def fargate_hourly_price(vcpus: float, memory_gb: float) -> float:
    """Return the EUR per hour of one Fargate task with this many vCPUs and GB of memory."""
    return vcpus * FARGATE_VCPU_HOUR_EUR + memory_gb * FARGATE_GB_HOUR_EUR


def hourly_price(instance_type: str | None) -> float | None:
    """Return the EUR per hour of one unit, or None when the table does not know it.

    ``instance_type`` is an EC2 type ("m6i.large") or a Fargate task written "fargate:<vCPU>:<GB>"
    (for example "fargate:0.5:1").
    """
    if not instance_type:
        return None
    name = instance_type.strip().lower()
    if name.startswith("fargate:"):
        parts = name.split(":")
        if len(parts) != 3:
            return None
        try:
            vcpus, memory_gb = float(parts[1]), float(parts[2])
        except ValueError:
            return None
        if vcpus <= 0 or memory_gb <= 0:
            return None
        return fargate_hourly_price(vcpus, memory_gb)
    return EC2_HOURLY_EUR.get(name)


def scaled_window_cost(targets: Iterable[PricedTarget], hours: float | None = None) -> float:
    """Estimate the EUR the scaled window costs: instance-hours above baseline × on-demand price.

    With ``hours`` given, every target's added units are counted for that many hours; without it, each
    target's own timeline is used (scale-up to the last revert step, including step-downs). Refused
    targets and units without a known price count for nothing (see ``unpriced``).
    """
    total = 0.0
    for target in targets:
        if target.refused:
            continue
        price = hourly_price(target.instance_type)
        if price is None:
            continue
        unit_hours = target.added_units * hours if hours is not None else target.added_unit_hours
        total += unit_hours * price
    return round(total, 2)


def unpriced(targets: Iterable[PricedTarget]) -> list[str]:
    """List the instance types that add units but have no price in the table, so a person can add them."""
    missing = {
        target.instance_type or "(unknown type)"
        for target in targets
        if not target.refused and target.added_units > 0 and hourly_price(target.instance_type) is None
    }
    return sorted(missing)
