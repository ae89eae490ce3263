"""Compute a post-event report's figures from the observed minutes and the forecast; no Django, no database.

Definitions (every figure is None when it cannot be known, never 0):

- Minutes count from air start (minute 0 is the minute that starts at air start). The load balancers'
  RequestCount is what reached the origin, so observed origin req/s = requests of the minute / 60.
- Observed origin peak: the highest minute at or after air start among minutes with data; time to peak is
  that minute. The forecast's are its likely origin peak and the minute of it.
- Edge: the observations hold no CDN figures, so the observed edge peak is unknown.
- Total visits: load balancers count requests, not visits, so the observed total is unknown. The origin
  requests observed are compared with the forecast's over the same minutes (the ones with data).
- Ratios observed/forecast: peak origin req/s, time to peak, origin requests over the minutes with data.
- Availability over the air window (air start to air end): a minute is up when its 5xx are under
  ``ERROR_THRESHOLD`` of its requests (a minute without requests is up: nobody was refused), down otherwise;
  a minute CloudWatch did not answer, or without a row at all, is unknown, never up. Availability is up /
  (up + down), with the unknown minutes beside it; ``worst_case`` counts the unknown minutes as down.
- Error rate: 5xx / requests over the air window's minutes with data.
- Capacity reserved: Σ target units × requests/s one unit serves, over the plan's resources that serve origin
  requests side by side (Auto Scaling groups, ECS services); every resource with a known per-unit figure is
  also listed with its own use. Used = observed origin peak / reserved.
- Cost of the extra capacity: the applied plan's estimate for its scaled window (``totals.estimated_cost_eur``).
- Calibration: origin req/s = baseline + sessions × per-session requests, and sessions are proportional to the
  visit rate, so the visit rate observed = assumed × (observed peak − baseline) / (forecast peak − baseline).
  This charges every difference to the visit rate (pages per visit, CDN hit ratio… are taken as right).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from events.forecast import Forecast

ERROR_THRESHOLD = 0.05  # a minute with 5 % or more of its requests in 5xx is down
CALIBRATION_MIN_CHANGE = 0.10  # suggest a visit rate only when it differs from the assumed one by 10 % or more
SERVING_KINDS = ("autoscaling_group", "ecs_service")


@dataclass(frozen=True)
class Minute:
    """Hold one observed minute, ``offset`` in minutes from air start."""

    offset: int
    requests: int | None
    errors_5xx: int | None = None
    p95_ms: float | None = None
    missing: bool = False

    @property
    def has_data(self) -> bool:
        return not self.missing and self.requests is not None


@dataclass(frozen=True)
class Capacity:
    """Hold one planned resource: its units at target and what one unit serves (None when unknown)."""

    name: str
    kind: str
    units: int
    unit_rps: float | None


@dataclass(frozen=True)
class ReportInput:
    minutes: Sequence[Minute]
    forecast: Forecast
    segment_minutes: float
    visit_rate: float
    capacities: Sequence[Capacity] = ()
    plan: dict | None = None  # {"status", "estimated_cost_eur", "instances", "vcpus"} of the plan used
    incidents: Sequence[dict] = ()
    actions: Sequence[dict] = ()
    executions: Sequence[dict] | None = None  # None: runbook executions are not available
    notes: list[str] = field(default_factory=list)


def ratio(observed: float | None, forecast: float | None) -> float | None:
    """Return observed / forecast, or None when either is unknown or the forecast is 0."""
    if observed is None or forecast is None or forecast == 0:
        return None
    return observed / forecast


def observed_peak(minutes: Iterable[Minute]) -> tuple[float, int] | None:
    """Return (origin req/s, minute) of the busiest minute with data from air start on; the first of equals."""
    best: Minute | None = None
    for minute in sorted(minutes, key=lambda item: item.offset):
        if minute.offset >= 0 and minute.has_data and (best is None or minute.requests > best.requests):
            best = minute
    return None if best is None else (best.requests / 60, best.offset)


def window_minutes(segment_minutes: float) -> range:
    """Return the minutes of the air window: from air start to air end (a partial last minute counts)."""
    return range(0, max(1, math.ceil(segment_minutes - 1e-9)))


def availability(minutes: Iterable[Minute], *, segment_minutes: float, threshold: float = ERROR_THRESHOLD) -> dict:
    """Classify each air-window minute as up, down or unknown; see the module docstring."""
    by_offset = {minute.offset: minute for minute in minutes}
    window = window_minutes(segment_minutes)
    up = down = unknown = 0
    requests = errors = 0
    down_minutes: list[int] = []
    unknown_minutes: list[int] = []
    for offset in window:
        minute = by_offset.get(offset)
        if minute is None or not minute.has_data:
            unknown += 1
            unknown_minutes.append(offset)
            continue
        # CloudWatch sends no 5xx datapoint for a minute without errors: an answered minute without one had none.
        minute_errors = minute.errors_5xx or 0
        requests += minute.requests
        errors += minute_errors
        if minute.requests and minute_errors / minute.requests >= threshold:
            down += 1
            down_minutes.append(offset)
        else:
            up += 1
    known = up + down
    return {
        "window_minutes": len(window),
        "up": up,
        "down": down,
        "unknown": unknown,
        "down_minutes": down_minutes,
        "unknown_minutes": unknown_minutes,
        "availability": up / known if known else None,
        "worst_case": up / len(window) if window else None,
        "error_rate": errors / requests if requests else None,
        "requests": requests if known else None,
        "errors_5xx": errors if known else None,
        "threshold": threshold,
    }


def capacity_figures(peak_rps: float | None, capacities: Sequence[Capacity]) -> dict:
    """Return the capacity reserved (serving resources), what the peak used of it, and each resource's use."""
    resources = []
    reserved = 0.0
    serving_known = False
    for capacity in capacities:
        total = capacity.units * capacity.unit_rps if capacity.unit_rps else None
        if total is not None and capacity.kind in SERVING_KINDS:
            reserved += total
            serving_known = True
        resources.append(
            {
                "name": capacity.name,
                "kind": capacity.kind,
                "units": capacity.units,
                "unit_rps": capacity.unit_rps,
                "capacity_rps": total,
                "used": ratio(peak_rps, total),
            }
        )
    reserved_rps = reserved if serving_known else None
    return {
        "reserved_rps": reserved_rps,
        "peak_rps": peak_rps,
        "used": ratio(peak_rps, reserved_rps),
        "resources": resources,
    }


def calibrated_visit_rate(
    *, assumed: float, forecast_peak: float, observed_peak: float | None, baseline: float
) -> float | None:
    """Return the visit rate the observed origin peak implies, clipped to (0, 1]; None when it cannot tell."""
    if observed_peak is None or forecast_peak - baseline <= 0:
        return None
    rate = assumed * (observed_peak - baseline) / (forecast_peak - baseline)
    if rate <= 0:
        return None  # the peak never rose above the normal traffic: nothing to learn about the visit rate
    return min(rate, 1.0)


def compute(data: ReportInput) -> dict:
    """Return every figure of the report as JSON-ready values; see the module docstring for the definitions."""
    forecast = data.forecast
    peak = observed_peak(data.minutes)
    peak_rps, peak_minute = peak if peak else (None, None)
    forecast_peak = forecast.peak_origin_rps.value.likely
    forecast_peak_minute = forecast.peak_origin_rps.minute

    by_minute = {point.minute: point for point in forecast.points}
    with_data = [minute for minute in data.minutes if minute.has_data and minute.offset in by_minute]
    observed_requests = sum(minute.requests for minute in with_data) if with_data else None
    forecast_requests = (
        sum(by_minute[minute.offset].origin_rps.likely * 60 for minute in with_data) if with_data else None
    )

    visit_rate = calibrated_visit_rate(
        assumed=data.visit_rate, forecast_peak=forecast_peak, observed_peak=peak_rps, baseline=forecast.baseline_rps
    )
    calibration = []
    if visit_rate is not None and abs(visit_rate / data.visit_rate - 1) >= CALIBRATION_MIN_CHANGE:
        calibration.append({"parameter": "visit_rate", "observed": visit_rate, "assumed": data.visit_rate})

    observed_at = {minute.offset: minute for minute in data.minutes}
    series = []
    for point in forecast.points:
        minute = observed_at.get(point.minute)
        observed = minute.requests / 60 if minute is not None and minute.has_data else None
        series.append([point.minute, point.origin_rps.low, point.origin_rps.likely, point.origin_rps.high, observed])

    return {
        "origin_peak": {
            "observed": peak_rps,
            "forecast": forecast_peak,
            "forecast_high": forecast.peak_origin_rps.value.high,
            "ratio": ratio(peak_rps, forecast_peak),
        },
        "edge_peak": {"observed": None, "forecast": forecast.peak_edge_rps.value.likely, "ratio": None},
        "time_to_peak": {
            "observed": peak_minute,
            "forecast": forecast_peak_minute,
            "ratio": ratio(peak_minute, forecast_peak_minute),
        },
        "visits": {"observed": None, "forecast": forecast.total_visits.likely, "ratio": None},
        "origin_requests": {
            "observed": observed_requests,
            "forecast": forecast_requests,
            "ratio": ratio(observed_requests, forecast_requests),
        },
        "baseline_rps": forecast.baseline_rps,
        "minutes_observed": len([minute for minute in data.minutes if minute.has_data]),
        "minutes_missing": len([minute for minute in data.minutes if not minute.has_data]),
        "availability": availability(data.minutes, segment_minutes=data.segment_minutes),
        "capacity": capacity_figures(peak_rps, data.capacities),
        "plan": data.plan,
        "incidents": list(data.incidents),
        "actions": list(data.actions),
        "executions": None if data.executions is None else list(data.executions),
        "calibration": calibration,
        "visit_rate_assumed": data.visit_rate,
        "visit_rate_observed": visit_rate,
        "series": series,
    }
