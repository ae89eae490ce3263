"""Report figures from seeded minutes, checked against sums done by hand."""

from __future__ import annotations

import pytest

from events.forecast import Band, Forecast, ForecastPoint, Peak
from reports.figures import Capacity, Minute, ReportInput, compute

# Forecast likely origin req/s per minute from air start; the band is ±50 %. Baseline 40 req/s.
FORECAST_ORIGIN = {-1: 40.0, 0: 200.0, 1: 700.0, 2: 940.0, 3: 600.0, 4: 400.0}


def _band(value: float) -> Band:
    return Band(value * 0.5, value, value * 1.5)


def _forecast() -> Forecast:
    points = tuple(
        ForecastPoint(minute, _band(value / 10), _band(value * 20), _band(value), _band(value))
        for minute, value in FORECAST_ORIGIN.items()
    )
    return Forecast(
        points=points,
        peak_visits_per_s=Peak(_band(94.0), 2),
        peak_edge_rps=Peak(_band(18_800.0), 2),
        peak_origin_rps=Peak(_band(940.0), 2),
        peak_sessions=Peak(_band(940.0), 2),
        total_visits=_band(40_000.0),
        visits_in_window=_band(30_000.0),
        airings=(),
        baseline_rps=40.0,
    )


MINUTES = [
    Minute(-1, 2_400, 0),  # before air: normal traffic, not a candidate for the peak
    Minute(0, 6_000, 30),  # 0.5 % 5xx: up
    Minute(1, 30_000, 3_000),  # 10 % 5xx: down; the peak, 30,000 / 60 = 500 req/s
    Minute(2, None, None, missing=True),  # CloudWatch did not answer: unknown
    Minute(3, 18_000, None),  # answered, no 5xx datapoint: no errors, up
    # minute 4 has no row at all: unknown
]


def _figures(**overrides) -> dict:
    values = {
        "minutes": MINUTES,
        "forecast": _forecast(),
        "segment_minutes": 5,
        "visit_rate": 0.02,
        "capacities": [
            Capacity("web", "autoscaling_group", 10, 100.0),
            Capacity("api", "ecs_service", 4, 50.0),
            Capacity("db", "rds_instance", 2, 500.0),  # another tier: listed, not added to the origin's capacity
            Capacity("cache", "elasticache_replication_group", 1, None),
        ],
        "plan": {"estimated_cost_eur": 12.5},
        **overrides,
    }
    return compute(ReportInput(**values))


def test_peak_and_time_to_peak_come_from_the_busiest_minute_after_air_start():
    figures = _figures()
    assert figures["origin_peak"]["observed"] == pytest.approx(30_000 / 60)  # 500 req/s
    assert figures["origin_peak"]["forecast"] == 940.0
    assert figures["origin_peak"]["ratio"] == pytest.approx(500 / 940)
    assert figures["time_to_peak"] == {"observed": 1, "forecast": 2, "ratio": pytest.approx(0.5)}


def test_edge_and_visits_are_unknown_not_zero():
    figures = _figures()
    assert figures["edge_peak"]["observed"] is None
    assert figures["edge_peak"]["ratio"] is None
    assert figures["visits"]["observed"] is None


def test_origin_requests_are_compared_over_the_minutes_with_data():
    figures = _figures()
    # Minutes with data: -1, 0, 1, 3.
    assert figures["origin_requests"]["observed"] == 2_400 + 6_000 + 30_000 + 18_000  # 56,400
    assert figures["origin_requests"]["forecast"] == pytest.approx((40 + 200 + 700 + 600) * 60)  # 92,400
    assert figures["origin_requests"]["ratio"] == pytest.approx(56_400 / 92_400)


def test_missing_minutes_are_unknown_never_up():
    availability = _figures()["availability"]
    # Air window: minutes 0..4. Up: 0 and 3; down: 1; unknown: 2 (missing) and 4 (no row).
    assert availability["window_minutes"] == 5
    assert (availability["up"], availability["down"], availability["unknown"]) == (2, 1, 2)
    assert availability["unknown_minutes"] == [2, 4]
    assert availability["down_minutes"] == [1]
    assert availability["availability"] == pytest.approx(2 / 3)
    assert availability["worst_case"] == pytest.approx(2 / 5)
    # 5xx over requests in the window's minutes with data (minute -1 is before air).
    assert availability["error_rate"] == pytest.approx((30 + 3_000 + 0) / (6_000 + 30_000 + 18_000))


def test_a_window_without_any_data_has_unknown_availability():
    availability = _figures(minutes=[Minute(0, None, None, missing=True)])["availability"]
    assert availability["availability"] is None
    assert availability["error_rate"] is None
    assert availability["up"] == 0
    assert availability["unknown"] == 5


def test_capacity_used_against_reserved():
    capacity = _figures()["capacity"]
    # Serving tier: 10 instances × 100 req/s + 4 tasks × 50 req/s = 1,200 req/s.
    assert capacity["reserved_rps"] == 1_200
    assert capacity["used"] == pytest.approx(500 / 1_200)
    by_name = {row["name"]: row for row in capacity["resources"]}
    assert by_name["db"]["capacity_rps"] == 1_000
    assert by_name["db"]["used"] == pytest.approx(0.5)
    assert by_name["cache"]["capacity_rps"] is None


def test_without_a_plan_capacity_is_unknown():
    capacity = _figures(capacities=[])["capacity"]
    assert capacity["reserved_rps"] is None
    assert capacity["used"] is None


def test_visit_rate_is_calibrated_from_the_peaks_above_the_baseline():
    figures = _figures()
    # 0.02 × (500 − 40) / (940 − 40) = 0.02 × 460 / 900 = 0.010222…
    assert figures["visit_rate_observed"] == pytest.approx(0.02 * 460 / 900)
    assert figures["calibration"] == [
        {"parameter": "visit_rate", "observed": pytest.approx(0.02 * 460 / 900), "assumed": 0.02}
    ]


def test_a_close_enough_forecast_suggests_no_calibration():
    # 30,000 requests → 500 req/s; make the peak minute 55,200 → 920 req/s: 0.02 × 880 / 900 ≈ 0.01956 (−2 %).
    minutes = [*MINUTES[:2], Minute(1, 55_200, 0), *MINUTES[3:]]
    assert _figures(minutes=minutes)["calibration"] == []


def test_no_traffic_above_the_baseline_suggests_nothing():
    figures = _figures(minutes=[Minute(0, 1_200, 0)])  # 20 req/s, under the 40 req/s baseline
    assert figures["visit_rate_observed"] is None
    assert figures["calibration"] == []


def test_the_series_breaks_on_missing_minutes():
    series = {row[0]: row for row in _figures()["series"]}
    assert series[1][4] == pytest.approx(500)
    assert series[2][4] is None
    assert series[4][4] is None
    assert series[2][2] == 940.0
