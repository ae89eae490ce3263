"""Pre-scaling targets: pure arithmetic from the forecast, the caps and the quota (no database, no AWS)."""

from __future__ import annotations

import math

import pytest

from scaling import prices
from scaling.targets import (
    AUTOSCALING_GROUP,
    DYNAMODB_TABLE,
    ECS_SERVICE,
    ELASTICACHE,
    LOAD_BALANCER,
    RDS_CLUSTER,
    RDS_INSTANCE,
    Caps,
    PlanInput,
    ResourceCapacity,
    lcu_needed,
    plan_targets,
)


def asg(current=None, unit_rps=100.0, instance_type="m6i.large", vcpus=2, identifier="web-asg"):
    """Build an Auto Scaling group row."""
    return ResourceCapacity(
        kind=AUTOSCALING_GROUP,
        identifier=identifier,
        name=identifier,
        current=current or {"min": 2, "desired": 2, "max": 4},
        unit_rps=unit_rps,
        instance_type=instance_type,
        vcpus_per_unit=vcpus,
    )


def forecast(high=1000.0, likely=600.0, **kwargs):
    """Build a plan input aired from minute 0 to 10."""
    return PlanInput(likely_origin_rps=likely, high_origin_rps=high, air_end_minute=kwargs.pop("air_end", 10), **kwargs)


def one(resource, plan_input=None, caps=None):
    """Plan a single resource and return its target."""
    return plan_targets([resource], plan_input or forecast(), caps or Caps()).targets[0]


@pytest.mark.parametrize(
    ("high", "safety_factor", "expected"),
    [(1000, 1.5, 15), (1000, 1.0, 10), (2000, 1.5, 30), (1001, 1.5, 16), (10, 1.5, 2)],
)
def test_target_follows_forecast_and_safety_factor(high, safety_factor, expected):
    target = one(asg(), forecast(high=high, likely=high / 2, safety_factor=safety_factor))
    assert target.target["desired"] == max(2, expected)
    assert str(safety_factor) in target.reason or f"{safety_factor:g}" in target.reason


@pytest.mark.parametrize("high", [500, 1000, 4000])
def test_target_grows_with_forecast(high):
    smaller = one(asg(), forecast(high=high)).target["desired"]
    larger = one(asg(), forecast(high=high * 2)).target["desired"]
    assert larger > smaller


@pytest.mark.parametrize("kind", [AUTOSCALING_GROUP, ECS_SERVICE, DYNAMODB_TABLE, RDS_CLUSTER])
def test_min_raised_with_desired_and_max_above(kind):
    resource = ResourceCapacity(kind, "r", "r", {"min": 1, "desired": 2, "max": 3}, unit_rps=100.0)
    target = one(resource, forecast(high=800))  # 800 × 1.5 / 100 = 12
    assert target.target["min"] == target.target["desired"] == 12
    assert target.target["max"] >= 12 + max(1, math.ceil(12 * 0.1))
    assert target.target["min"] <= target.target["desired"] <= target.target["max"]
    assert target.scale_up_at_minute == -45


@pytest.mark.parametrize(
    "current",
    [
        {"min": 20, "desired": 25, "max": 40},
        {"min": 2, "desired": 30, "max": 30},
        {"min": 15, "desired": 15, "max": 17},
    ],
)
def test_never_below_current(current):
    target = one(asg(current=current), forecast(high=1000))  # needs 15
    for key, value in current.items():
        assert target.target[key] >= value
    assert target.target["min"] >= 15
    assert target.target["max"] >= target.target["desired"]


def test_no_change_schedules_nothing():
    target = one(asg(current={"min": 20, "desired": 20, "max": 40}), forecast(high=1000))
    assert target.target == target.now
    assert target.revert_steps == []
    assert "already covers" in target.reason


def test_revert_returns_to_now_exactly_after_air_end():
    now = {"min": 2, "desired": 3, "max": 4}
    target = one(asg(current=now), forecast(air_end=15, revert_after_minutes=60))
    assert target.revert_steps == [(75, now)]
    assert target.now == now


@pytest.mark.parametrize(("tail", "steps"), [(30, 2), (90, 2), (120, 3), (240, 3)])
def test_step_down_decreases_and_ends_at_now(tail, steps):
    now = {"min": 2, "desired": 2, "max": 4}
    target = one(asg(current=now), forecast(high=2000, step_down=True, tail_minutes=tail))  # 30 instances
    assert len(target.revert_steps) == steps
    minutes = [minute for minute, _ in target.revert_steps]
    desired = [capacity["desired"] for _, capacity in target.revert_steps]
    assert minutes == sorted(set(minutes))
    assert minutes[0] == 10 + 60
    assert minutes[-1] == 10 + 60 + tail
    assert [target.target["desired"], *desired] == sorted([target.target["desired"], *desired], reverse=True)
    assert len(set(desired)) == len(desired)
    assert target.revert_steps[-1][1] == now
    first_desired = target.revert_steps[0][1]["desired"]
    assert first_desired == (2 + math.ceil(28 / 2) if steps == 2 else 2 + math.ceil(28 * 2 / 3))


def test_step_down_without_tail_drops_at_once():
    target = one(asg(), forecast(step_down=True, tail_minutes=0))
    assert len(target.revert_steps) == 1


@pytest.mark.parametrize(
    ("new", "active", "mbps", "expected_lcu", "dominant"),
    [
        (1000, 30000, 10, 60, "new connections/s"),  # 40 / 10 / 4.5 → 40 × 1.5
        (100, 300000, 10, 150, "active connections"),  # 4 / 100 / 4.5
        (100, 3000, 444.4444, 300, "bandwidth"),  # 4 / 1 / 200
    ],
)
def test_lcu_takes_max_of_three_dimensions(new, active, mbps, expected_lcu, dominant):
    lcu, found, _ = lcu_needed(new, active, mbps, 1.5)
    assert (lcu, found) == (expected_lcu, dominant)
    lb = ResourceCapacity(LOAD_BALANCER, "alb", "alb", {"reserved_lcu": 0})
    target = one(lb, forecast(new_connections_per_s=new, active_connections=active, bandwidth_mbps=mbps))
    assert target.target == {"reserved_lcu": expected_lcu}
    assert target.scale_up_at_minute == -24 * 60
    assert target.revert_steps == [(70, {"reserved_lcu": 0})]
    assert dominant in target.reason


def test_lcu_reservation_never_below_current_and_single_revert_step():
    lb = ResourceCapacity(LOAD_BALANCER, "alb", "alb", {"reserved_lcu": 10})
    target = one(lb, forecast(new_connections_per_s=250, step_down=True, tail_minutes=120))
    assert target.target == {"reserved_lcu": 15}
    assert target.revert_steps == [(70, {"reserved_lcu": 10})]


@pytest.mark.parametrize("unit_rps", [None, 0.0])
def test_unknown_unit_rps_refused_with_actionable_reason(unit_rps):
    plan = plan_targets([asg(unit_rps=unit_rps)], forecast(), Caps())
    target = plan.targets[0]
    assert target.refused
    assert "requests/s" in target.refused
    assert "re-plan" in target.refused
    assert target.target == target.now
    assert target.revert_steps == []
    assert [refusal.identifier for refusal in plan.refusals] == ["web-asg"]


@pytest.mark.parametrize(
    ("caps", "vcpu_quota", "words"),
    [
        (Caps(max_instances=10), None, "cap of 10"),
        (Caps(max_vcpus=20), None, "cap of 20"),
        (Caps(max_hourly_cost_eur=1.0), None, "EUR/hour"),
        (Caps(), 16, "vCPU quota"),
    ],
)
def test_caps_and_quota_refuse_with_reason(caps, vcpu_quota, words):
    plan = plan_targets([asg()], forecast(vcpu_quota=vcpu_quota), caps)  # 15 × m6i.large = 30 vCPUs, 1.34 EUR/h added
    target = plan.targets[0]
    assert target.refused
    assert words in target.refused
    assert target.target == target.now
    assert plan.totals.instances == 2
    assert len(plan.refusals) == 1


@pytest.mark.parametrize(
    "caps",
    [Caps(max_instances=15), Caps(max_vcpus=30), Caps(max_hourly_cost_eur=1.4), Caps()],
)
def test_caps_at_the_limit_accept(caps):
    plan = plan_targets([asg()], forecast(vcpu_quota=30), caps)
    assert plan.refusals == []
    assert plan.totals.instances == 15
    assert plan.totals.vcpus == 30


def test_caps_are_plan_wide_in_order():
    resources = [asg(identifier="a"), asg(identifier="b")]
    plan = plan_targets(resources, forecast(), Caps(max_instances=20))
    assert plan.target_for("a").refused is None
    assert "cap of 20" in plan.target_for("b").refused
    assert plan.totals.instances == 17


def test_unknown_vcpus_refused_when_quota_checked():
    plan = plan_targets([asg(instance_type="x1.weird", vcpus=None)], forecast(vcpu_quota=1000), Caps())
    assert "vCPUs per unit" in plan.targets[0].refused


@pytest.mark.parametrize(("multi_az", "expected"), [(True, "60-120 s"), (False, "5-15 minutes")])
def test_rds_recommendation_needs_separate_approval(multi_az, expected):
    rds = ResourceCapacity(
        RDS_INSTANCE, "db", "db", {"read_replicas": 0, "multi_az": multi_az}, 400.0, "db.r6g.large", 2
    )
    target = one(rds, forecast(high=1000))  # 1500 / 400 → 4 instances → 3 replicas
    assert target.target == {"read_replicas": 3, "multi_az": multi_az}
    assert target.needs_separate_approval
    assert expected in target.outage_note
    assert "read replica: no outage" in target.outage_note
    assert target.revert_steps[-1][1] == target.now


def test_elasticache_recommendation_and_limit():
    cache = ResourceCapacity(ELASTICACHE, "cache", "cache", {"replicas": 1}, unit_rps=1000.0)
    target = one(cache, forecast(high=1000))
    assert target.target == {"replicas": 1}
    assert not target.needs_separate_approval
    target = one(cache, forecast(high=2000))  # 3 nodes → 2 replicas
    assert target.target == {"replicas": 2}
    assert target.needs_separate_approval
    assert "no outage" in target.outage_note
    assert "at most 5" in one(cache, forecast(high=10000)).refused


def test_aurora_replica_limit_refused():
    aurora = ResourceCapacity(RDS_CLUSTER, "aurora", "aurora", {"min": 1, "desired": 1, "max": 2}, unit_rps=100.0)
    assert one(aurora, forecast(high=1000)).target["max"] == 15
    assert "at most 15" in one(aurora, forecast(high=2000)).refused


@pytest.mark.parametrize(
    ("instance_type", "price"),
    [("m6i.large", prices.EC2_HOURLY_EUR["m6i.large"]), ("c7g.4xlarge", prices.EC2_HOURLY_EUR["c7g.4xlarge"])],
)
def test_cost_estimate_is_added_instance_hours_times_price(instance_type, price):
    plan = plan_targets([asg(instance_type=instance_type)], forecast(air_end=15), Caps())
    target = plan.targets[0]
    hours = (15 + 60 - (-45)) / 60  # scale-up at -45, revert at +75
    assert target.added_unit_hours == pytest.approx(13 * hours)
    assert plan.totals.added_instance_hours == pytest.approx(13 * hours)
    assert plan.totals.estimated_cost_eur == pytest.approx(round(13 * hours * price, 2))
    assert prices.scaled_window_cost([target], hours=1) == pytest.approx(round(13 * price, 2))


def test_cost_estimate_follows_step_down():
    target = one(asg(current={"min": 2, "desired": 2, "max": 4}), forecast(step_down=True, tail_minutes=30))
    (m1, c1), (m2, _) = target.revert_steps
    expected = (13 * (m1 + 45) + (c1["desired"] - 2) * (m2 - m1)) / 60
    assert target.added_unit_hours == pytest.approx(expected)


def test_prices_table_is_dated_and_reads_fargate():
    assert prices.PRICES_AS_OF == "2026-11"
    assert prices.REGION == "eu-west-3"
    assert prices.hourly_price("fargate:1:2") == pytest.approx(
        prices.FARGATE_VCPU_HOUR_EUR + 2 * prices.FARGATE_GB_HOUR_EUR
    )
    assert prices.hourly_price("nope.large") is None
    assert prices.hourly_price(None) is None
    assert prices.unpriced([one(asg(instance_type="nope.large"))]) == ["nope.large"]


@pytest.mark.parametrize("step_down", [False, True])
def test_every_target_is_absolute(step_down):
    resources = [
        asg(current={"min": 3, "desired": 5, "max": 6}),
        ResourceCapacity(ECS_SERVICE, "svc", "svc", {"min": 2, "desired": 2, "max": 4}, 50.0, "fargate:1:2"),
        ResourceCapacity(LOAD_BALANCER, "alb", "alb", {"reserved_lcu": 0}),
    ]
    plan = plan_targets(resources, forecast(step_down=step_down, tail_minutes=120, new_connections_per_s=500), Caps())
    for target in plan.targets:
        assert set(target.target) == set(target.now)
        for _, capacity in target.revert_steps:
            assert set(capacity) == set(target.now)
        # Absolute: the value to set, never the increment; equal to now plus nothing is the revert.
        assert all(target.target[key] >= target.now[key] for key in target.now)
        assert target.revert_steps[-1][1] == target.now
    assert plan.target_for("web-asg").target["desired"] == 15
    assert plan.target_for("svc").target["desired"] == 30
