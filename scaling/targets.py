"""Compute pre-scaling targets from a traffic forecast: pure arithmetic, no Django, no AWS.

Every capacity in a plan is an ABSOLUTE value ({"min": 12, "desired": 12, "max": 14}), never a delta, so
applying a step twice changes nothing. Minutes are on the broadcast's timeline (``air_start_minute`` is
usually 0; negative minutes are before air).

The Django side builds ``ResourceCapacity`` rows from the stack inventory and a ``PlanInput`` from the
forecast and the organization's settings, calls ``plan_targets`` and stores / applies the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from cloud.instance_types import size_vcpus
from scaling.prices import hourly_price, scaled_window_cost, unpriced

AUTOSCALING_GROUP = "autoscaling_group"
ECS_SERVICE = "ecs_service"
DYNAMODB_TABLE = "dynamodb_table"
RDS_CLUSTER = "rds_cluster"
LOAD_BALANCER = "load_balancer"
ELASTICACHE = "elasticache_replication_group"
RDS_INSTANCE = "rds_instance"

KINDS = (AUTOSCALING_GROUP, ECS_SERVICE, DYNAMODB_TABLE, RDS_CLUSTER, LOAD_BALANCER, ELASTICACHE, RDS_INSTANCE)
# Scaled through Application Auto Scaling (MinCapacity / MaxCapacity); "desired" is what Min forces.
APPLICATION_AUTOSCALING_KINDS = (ECS_SERVICE, DYNAMODB_TABLE, RDS_CLUSTER)
MIN_MAX_KINDS = (AUTOSCALING_GROUP, *APPLICATION_AUTOSCALING_KINDS)
# Recommendations only: applied after a separate, explicit approval.
RECOMMENDATION_KINDS = (ELASTICACHE, RDS_INSTANCE)
# Kinds whose units are machines or tasks: counted against the instance and cost caps.
INSTANCE_KINDS = (AUTOSCALING_GROUP, ECS_SERVICE, RDS_CLUSTER, ELASTICACHE, RDS_INSTANCE)
# Kinds whose vCPUs count against the organization's vCPU cap; only EC2 counts against the EC2 vCPU quota.
VCPU_KINDS = (AUTOSCALING_GROUP, ECS_SERVICE)
EC2_QUOTA_KINDS = (AUTOSCALING_GROUP,)

UNITS_KEY = {
    AUTOSCALING_GROUP: "desired",
    ECS_SERVICE: "desired",
    DYNAMODB_TABLE: "desired",
    RDS_CLUSTER: "desired",
    LOAD_BALANCER: "reserved_lcu",
    ELASTICACHE: "replicas",
    RDS_INSTANCE: "read_replicas",
}

# Application Load Balancer LCU dimensions (per LCU).
ALB_NEW_CONNECTIONS_PER_S_PER_LCU = 25
ALB_ACTIVE_CONNECTIONS_PER_LCU = 3000  # active connections, sampled per minute
ALB_MBPS_PER_LCU = 8000 / 3600  # 1 GB per hour ≈ 2.22 Mbps

AURORA_MAX_REPLICAS = 15
ELASTICACHE_MAX_REPLICAS = 5  # per shard
RDS_MAX_READ_REPLICAS = 15
RECOMMENDATION_LEAD_MINUTES = 120  # replicas take tens of minutes to create and sync
EPSILON = 1e-9


@dataclass(frozen=True)
class ResourceCapacity:
    """Describe one resource of the stack as the inventory knows it.

    ``current`` holds {"min", "desired", "max"} for Auto Scaling groups, ECS services, DynamoDB capacity and
    Aurora replicas; {"reserved_lcu"} for load balancers; {"replicas"} for ElastiCache replication groups;
    {"read_replicas", "multi_az"} for RDS instances. ``unit_rps`` is the origin requests/s one unit serves
    (instance, task, replica, node, or per capacity unit for DynamoDB).
    """

    kind: str
    identifier: str
    name: str
    current: dict
    unit_rps: float | None = None
    instance_type: str | None = None
    vcpus_per_unit: int | None = None


@dataclass(frozen=True)
class Caps:
    """Hold the organization's ceilings for a plan: total instances, total vCPUs, added EUR per hour."""

    max_instances: int | None = None
    max_vcpus: int | None = None
    max_hourly_cost_eur: float | None = None


@dataclass(frozen=True, kw_only=True)
class PlanInput:
    """Carry the forecast figures and the timing a plan is computed from.

    ``vcpu_quota`` is the EC2 vCPU quota left for this stack's Auto Scaling groups (quota minus what other
    workloads use). ``tail_minutes`` is how long after air end the forecast stays high; with ``step_down``
    the revert then happens in steps rather than at once.
    """

    likely_origin_rps: float
    high_origin_rps: float
    new_connections_per_s: float = 0.0
    active_connections: float = 0.0
    bandwidth_mbps: float = 0.0
    safety_factor: float = 1.5
    vcpu_quota: float | None = None
    air_start_minute: int = 0
    air_end_minute: int
    tail_minutes: int = 0
    scale_up_lead_minutes: int = 45
    lcu_lead_minutes: int = 24 * 60
    revert_after_minutes: int = 60
    step_down: bool = False


@dataclass
class ResourceTarget:
    """Hold one resource's plan: now → target at ``scale_up_at_minute`` → the revert steps, ending at now."""

    identifier: str
    kind: str
    now: dict
    target: dict
    scale_up_at_minute: int
    revert_steps: list[tuple[int, dict]]
    reason: str
    refused: str | None = None
    needs_separate_approval: bool = False
    outage_note: str | None = None
    name: str = ""
    instance_type: str | None = None
    vcpus_per_unit: int | None = None

    @property
    def changes(self) -> bool:
        """Tell whether applying this target changes anything."""
        return self.refused is None and self.target != self.now

    @property
    def added_units(self) -> int:
        """Return the units (instances, tasks, replicas, LCU…) the target adds above now; 0 when refused."""
        if self.refused:
            return 0
        return max(0, _units(self.kind, self.target) - _units(self.kind, self.now))

    @property
    def added_unit_hours(self) -> float:
        """Return the unit-hours above now from scale-up through each revert step."""
        if not self.changes:
            return 0.0
        baseline = _units(self.kind, self.now)
        total_minutes = 0.0
        level, since = _units(self.kind, self.target) - baseline, self.scale_up_at_minute
        for minute, capacity in self.revert_steps:
            total_minutes += max(0, level) * (minute - since)
            level, since = _units(self.kind, capacity) - baseline, minute
        return total_minutes / 60


@dataclass(frozen=True)
class Refusal:
    """Say which resource's target was refused and why, in words a person can act on."""

    identifier: str
    name: str
    kind: str
    reason: str


@dataclass(frozen=True)
class PlanTotals:
    """Sum a plan: instances and vCPUs at target (refused ones at now), and what the scaled window adds."""

    instances: int
    vcpus: int
    added_instance_hours: float
    baseline_instances: int
    baseline_vcpus: int
    added_hourly_cost_eur: float
    estimated_cost_eur: float
    unpriced_instance_types: list[str]


@dataclass
class PlannedScaling:
    """Hold a whole plan: one target per resource, the totals and the refusals."""

    targets: list[ResourceTarget]
    totals: PlanTotals
    refusals: list[Refusal] = field(default_factory=list)

    def target_for(self, identifier: str) -> ResourceTarget:
        """Return the target of the resource with this identifier (KeyError when absent)."""
        for target in self.targets:
            if target.identifier == identifier:
                return target
        raise KeyError(identifier)


def units_needed(rps: float, safety_factor: float, unit_rps: float) -> int:
    """Return how many units serve ``rps`` × ``safety_factor`` when one serves ``unit_rps`` (at least 1)."""
    return max(1, math.ceil(rps * safety_factor / unit_rps - EPSILON))


def lcu_needed(
    new_connections_per_s: float, active_connections: float, bandwidth_mbps: float, safety_factor: float
) -> tuple[int, str, dict[str, float]]:
    """Return (LCU, dominant dimension, per-dimension LCU) for an Application Load Balancer reservation."""
    dimensions = {
        "new connections/s": new_connections_per_s / ALB_NEW_CONNECTIONS_PER_S_PER_LCU,
        "active connections": active_connections / ALB_ACTIVE_CONNECTIONS_PER_LCU,
        "bandwidth": bandwidth_mbps / ALB_MBPS_PER_LCU,
    }
    dominant = max(dimensions, key=dimensions.__getitem__)
    peak = dimensions[dominant]
    lcu = math.ceil(peak * safety_factor - EPSILON) if peak > 0 else 0
    return lcu, dominant, dimensions


def instance_vcpus(resource: ResourceCapacity) -> int | None:
    """Return the vCPUs of one unit: stated, or read from a Fargate "fargate:<vCPU>:<GB>" or EC2 size name."""
    if resource.vcpus_per_unit:
        return resource.vcpus_per_unit
    name = (resource.instance_type or "").lower()
    if name.startswith("fargate:"):
        try:
            return math.ceil(float(name.split(":")[1]))
        except (IndexError, ValueError):
            return None
    return size_vcpus(name)


def plan_targets(resources: list[ResourceCapacity], plan_input: PlanInput, caps: Caps) -> PlannedScaling:
    """Compute every resource's target, refuse what breaks a cap or the vCPU quota, and sum the plan.

    Caps are checked in the order of ``resources``: a target that would bring the plan above a cap is
    refused (it stays at now) and the next resources are checked against what was accepted.
    """
    drafts = [(resource, _draft(resource, plan_input)) for resource in resources]
    instances = sum(_instances(r.kind, r.current) for r in resources)
    vcpus = sum(_instances(r.kind, r.current) * (instance_vcpus(r) or 0) for r in resources if r.kind in VCPU_KINDS)
    quota_vcpus = sum(
        _instances(r.kind, r.current) * (instance_vcpus(r) or 0) for r in resources if r.kind in EC2_QUOTA_KINDS
    )
    baseline_instances, baseline_vcpus = instances, vcpus
    added_hourly = 0.0
    for resource, target in drafts:
        if target.refused or not target.changes or resource.kind not in INSTANCE_KINDS:
            continue
        more = _instances(resource.kind, target.target) - _instances(resource.kind, resource.current)
        if more <= 0:
            continue
        per_unit_vcpus = instance_vcpus(resource)
        more_vcpus = more * (per_unit_vcpus or 0)
        price = hourly_price(resource.instance_type)
        refusal = _cap_refusal(
            resource,
            plan_input,
            caps,
            more=more,
            instances=instances,
            vcpus=vcpus,
            quota_vcpus=quota_vcpus,
            per_unit_vcpus=per_unit_vcpus,
            price=price,
            added_hourly=added_hourly,
        )
        if refusal:
            _refuse(target, refusal)
            continue
        instances += more
        if resource.kind in VCPU_KINDS:
            vcpus += more_vcpus
        if resource.kind in EC2_QUOTA_KINDS:
            quota_vcpus += more_vcpus
        added_hourly += more * (price or 0.0)
    targets = [target for _, target in drafts]
    totals = PlanTotals(
        instances=instances,
        vcpus=vcpus,
        added_instance_hours=round(sum(t.added_unit_hours for t in targets if t.kind in INSTANCE_KINDS), 2),
        baseline_instances=baseline_instances,
        baseline_vcpus=baseline_vcpus,
        added_hourly_cost_eur=round(added_hourly, 4),
        estimated_cost_eur=scaled_window_cost(t for t in targets if t.kind in INSTANCE_KINDS),
        unpriced_instance_types=unpriced(t for t in targets if t.kind in INSTANCE_KINDS),
    )
    refusals = [Refusal(t.identifier, t.name, t.kind, t.refused) for t in targets if t.refused]
    return PlannedScaling(targets=targets, totals=totals, refusals=refusals)


def _cap_refusal(
    resource: ResourceCapacity,
    plan_input: PlanInput,
    caps: Caps,
    *,
    more: int,
    instances: int,
    vcpus: int,
    quota_vcpus: int,
    per_unit_vcpus: int | None,
    price: float | None,
    added_hourly: float,
) -> str | None:
    """Return why adding ``more`` units of this resource breaks a cap or the quota, or None when it fits."""
    label = f"{resource.name or resource.identifier}"
    advice = (
        "Lower the safety factor, raise the cap in the organization's settings, or re-plan with a smaller forecast."
    )
    if caps.max_instances is not None and instances + more > caps.max_instances:
        return (
            f"{label}: adding {more} instance(s) would bring the plan to {instances + more} instances, "
            f"above the organization's cap of {caps.max_instances}. {advice}"
        )
    checks_vcpus = (caps.max_vcpus is not None and resource.kind in VCPU_KINDS) or (
        plan_input.vcpu_quota is not None and resource.kind in EC2_QUOTA_KINDS
    )
    if checks_vcpus and per_unit_vcpus is None:
        return (
            f"{label}: the vCPUs of one unit are unknown (instance type {resource.instance_type or 'not stated'}), "
            "so the vCPU cap and quota cannot be checked. State the vCPUs per unit on the resource and re-plan."
        )
    more_vcpus = more * (per_unit_vcpus or 0)
    if caps.max_vcpus is not None and resource.kind in VCPU_KINDS and vcpus + more_vcpus > caps.max_vcpus:
        return (
            f"{label}: adding {more_vcpus} vCPUs would bring the plan to {vcpus + more_vcpus} vCPUs, "
            f"above the organization's cap of {caps.max_vcpus}. {advice}"
        )
    if (
        plan_input.vcpu_quota is not None
        and resource.kind in EC2_QUOTA_KINDS
        and quota_vcpus + more_vcpus > plan_input.vcpu_quota
    ):
        return (
            f"{label}: the Auto Scaling groups would need {quota_vcpus + more_vcpus} vCPUs, above the EC2 "
            f"vCPU quota of {plan_input.vcpu_quota:g} available. Request a quota increase (Service Quotas, "
            "'Running On-Demand Standard instances') days before air, then re-plan."
        )
    if caps.max_hourly_cost_eur is not None:
        if price is None:
            return (
                f"{label}: no price is known for {resource.instance_type or 'an unstated instance type'}, so the "
                "hourly cost cap cannot be checked. Add it to scaling/prices.py or state the instance type."
            )
        if added_hourly + more * price > caps.max_hourly_cost_eur + EPSILON:
            return (
                f"{label}: the plan would add {added_hourly + more * price:.2f} EUR/hour at on-demand prices, "
                f"above the organization's cap of {caps.max_hourly_cost_eur:.2f} EUR/hour. {advice}"
            )
    return None


def _refuse(target: ResourceTarget, reason: str) -> None:
    """Turn a draft into a refusal: it stays at now and schedules nothing."""
    target.refused = reason
    target.target = dict(target.now)
    target.revert_steps = []


def _units(kind: str, capacity: dict) -> int:
    """Return the unit count of a capacity dict for its kind (desired, replicas, LCU…)."""
    return int(capacity.get(UNITS_KEY.get(kind, "desired")) or 0)


def _instances(kind: str, capacity: dict) -> int:
    """Return the machines or tasks a capacity dict runs (a replica set counts its primary)."""
    if kind not in INSTANCE_KINDS:
        return 0
    if kind in RECOMMENDATION_KINDS:
        return _units(kind, capacity) + 1
    return _units(kind, capacity)


def _draft(resource: ResourceCapacity, plan_input: PlanInput) -> ResourceTarget:
    """Compute one resource's target before the caps are applied."""
    now = dict(resource.current)
    draft = ResourceTarget(
        identifier=resource.identifier,
        kind=resource.kind,
        now=now,
        target=dict(now),
        scale_up_at_minute=plan_input.air_start_minute - plan_input.scale_up_lead_minutes,
        revert_steps=[],
        reason="",
        name=resource.name,
        instance_type=resource.instance_type,
        vcpus_per_unit=resource.vcpus_per_unit,
    )
    if resource.kind not in KINDS:
        _refuse(draft, f"{resource.name}: Primetime does not scale resources of kind '{resource.kind}'.")
        return draft
    if resource.kind == LOAD_BALANCER:
        return _load_balancer(draft, plan_input)
    if not resource.unit_rps or resource.unit_rps <= 0:
        _refuse(
            draft,
            f"{resource.name}: what one unit serves is unknown, so no target can be computed. State the "
            "requests/s one instance, task or replica sustains (from a load test or a rehearsal) on the "
            "stack's resources page, then re-plan.",
        )
        return draft
    units = units_needed(plan_input.high_origin_rps, plan_input.safety_factor, resource.unit_rps)
    likely = units_needed(plan_input.likely_origin_rps, plan_input.safety_factor, resource.unit_rps)
    draft.reason = (
        f"High origin peak {plan_input.high_origin_rps:g} req/s × safety factor {plan_input.safety_factor:g} "
        f"÷ {resource.unit_rps:g} req/s per unit = {units} units (the likely peak needs {likely})."
    )
    if resource.kind in RECOMMENDATION_KINDS:
        return _recommendation(draft, units, plan_input)
    return _min_max(draft, units, plan_input)


def _min_max(draft: ResourceTarget, units: int, plan_input: PlanInput) -> ResourceTarget:
    """Raise Min and Desired to ``units`` and Max above it, never below now (ASG and Application Auto Scaling)."""
    now = draft.now
    if draft.kind == RDS_CLUSTER and units > AURORA_MAX_REPLICAS:
        _refuse(
            draft,
            f"{draft.name}: {units} Aurora replicas are needed but a cluster has at most {AURORA_MAX_REPLICAS}. "
            "Move to a larger instance class (separate approval) or measure a higher per-replica throughput.",
        )
        return draft
    current_min = int(now.get("min") or 0)
    current_desired = int(now.get("desired") or current_min)
    current_max = int(now.get("max") or current_desired)
    headroom = max(1, math.ceil(units * 0.10))
    target_max = max(current_max, units + headroom)
    if draft.kind == RDS_CLUSTER:
        target_max = max(min(target_max, AURORA_MAX_REPLICAS), units, current_max)
    draft.target = {
        **now,
        "min": max(current_min, units),
        "desired": max(current_desired, units),
        "max": target_max,
    }
    if draft.kind in APPLICATION_AUTOSCALING_KINDS:
        draft.reason += " MinCapacity forces the desired count; MaxCapacity leaves headroom."
    else:
        draft.reason += " MinSize is raised with DesiredCapacity so the group does not scale in during the spike."
    draft.revert_steps = _revert_steps(draft.now, draft.target, plan_input, stepwise=True)
    if not draft.changes:
        draft.reason += " Current capacity already covers it."
    return draft


def _load_balancer(draft: ResourceTarget, plan_input: PlanInput) -> ResourceTarget:
    """Size an ALB LCU reservation from the largest of its three dimensions, scheduled well before air."""
    lcu, dominant, dimensions = lcu_needed(
        plan_input.new_connections_per_s,
        plan_input.active_connections,
        plan_input.bandwidth_mbps,
        plan_input.safety_factor,
    )
    current = int(draft.now.get("reserved_lcu") or 0)
    draft.scale_up_at_minute = plan_input.air_start_minute - plan_input.lcu_lead_minutes
    draft.target = {**draft.now, "reserved_lcu": max(current, lcu)}
    detail = ", ".join(f"{name} {value:.1f}" for name, value in dimensions.items())
    draft.reason = (
        f"LCU by dimension: {detail}; the largest ({dominant}) × safety factor {plan_input.safety_factor:g} "
        f"= {lcu} LCU. Reserved {plan_input.lcu_lead_minutes} minutes early because provisioning can take hours; "
        "reverted in one step because a reservation can be decreased only a few times a day."
    )
    draft.revert_steps = _revert_steps(draft.now, draft.target, plan_input, stepwise=False)
    return draft


def _recommendation(draft: ResourceTarget, units: int, plan_input: PlanInput) -> ResourceTarget:
    """Recommend ElastiCache or RDS read replicas, with the outage each change causes, for separate approval."""
    key = UNITS_KEY[draft.kind]
    current = int(draft.now.get(key) or 0)
    wanted = max(current, units - 1)  # the primary serves too
    limit = ELASTICACHE_MAX_REPLICAS if draft.kind == ELASTICACHE else RDS_MAX_READ_REPLICAS
    if wanted > limit:
        _refuse(
            draft,
            f"{draft.name}: {wanted} replicas are needed but at most {limit} are allowed. "
            + (
                "Add shards (cluster mode) or a larger node type."
                if draft.kind == ELASTICACHE
                else "Move to a larger instance class or add a cache in front of the database."
            ),
        )
        return draft
    draft.target = {**draft.now, key: wanted}
    draft.scale_up_at_minute = plan_input.air_start_minute - max(
        plan_input.scale_up_lead_minutes, RECOMMENDATION_LEAD_MINUTES
    )
    draft.revert_steps = _revert_steps(draft.now, draft.target, plan_input, stepwise=False)
    if not draft.changes:
        draft.reason += " Current replicas already cover it."
        return draft
    draft.needs_separate_approval = True
    if draft.kind == ELASTICACHE:
        draft.outage_note = (
            "Adding replicas: no outage (each takes about 10-20 minutes to create and sync, hence the early "
            "start); removing them after air: no outage. Changing the node type instead: online, with a few "
            "seconds of failed writes at the switch-over."
        )
    else:
        multi_az = bool(draft.now.get("multi_az"))
        draft.outage_note = (
            "Adding a read replica: no outage"
            + ("" if multi_az else " (on a Single-AZ source, a brief I/O pause of about a minute during the snapshot)")
            + "; the application must send reads to it. Changing the instance class instead: "
            + (
                "a Multi-AZ failover of about 60-120 s."
                if multi_az
                else "the Single-AZ instance is unavailable during the change, often 5-15 minutes."
            )
            + " Removing the replica after air: no outage."
        )
    return draft


def _revert_steps(now: dict, target: dict, plan_input: PlanInput, *, stepwise: bool) -> list[tuple[int, dict]]:
    """Return the (minute, absolute capacity) steps back to ``now``: one step, or two or three when stepping down."""
    if target == now:
        return []
    first = plan_input.air_end_minute + plan_input.revert_after_minutes
    tail = plan_input.tail_minutes
    if not (stepwise and plan_input.step_down and tail > 0):
        return [(first, dict(now))]
    if tail >= 3 and tail >= 2 * plan_input.revert_after_minutes:
        fractions = (Fraction(2, 3), Fraction(1, 3))
    else:
        fractions = (Fraction(1, 2),)
    count = len(fractions) + 1
    minutes = [first + tail * i // (count - 1) for i in range(count)]
    steps: list[tuple[int, dict]] = []
    previous = target
    for minute, fraction in zip(minutes, fractions, strict=False):
        capacity = _between(now, target, fraction)
        if capacity not in (previous, now):
            steps.append((minute, capacity))
            previous = capacity
    steps.append((minutes[-1], dict(now)))
    return steps


def _between(now: dict, target: dict, fraction: Fraction) -> dict:
    """Return the capacity ``fraction`` of the way from now to target, rounded up, as absolute values."""
    result = dict(target)
    for key, high in target.items():
        low = now.get(key)
        if isinstance(high, int) and not isinstance(high, bool) and isinstance(low, int):
            result[key] = low + math.ceil((high - low) * fraction)
    return result
