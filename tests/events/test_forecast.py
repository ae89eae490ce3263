"""The traffic forecast: audience → visits/s, sessions, edge and origin requests/s, with a low/likely/high band."""

from __future__ import annotations

import ast
import itertools
import math
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from events import forecast as forecast_module
from events.forecast import (
    Airing,
    Forecast,
    ForecastError,
    ForecastInput,
    ForecastParameters,
    compute_forecast,
    parameters_with,
)

CAPITAL_AUDIENCE = 2_921_000  # M6's Capital, June 2016: the reference case


def _forecast(
    audience: int = CAPITAL_AUDIENCE,
    *,
    segment_minutes: float = 10.0,
    baseline_rps: float = 0.0,
    rebroadcasts: tuple[Airing, ...] = (),
    **overrides: float,
) -> Forecast:
    return compute_forecast(
        ForecastInput(
            audience=audience,
            segment_minutes=segment_minutes,
            baseline_rps=baseline_rps,
            rebroadcasts=rebroadcasts,
            parameters=parameters_with(overrides),
        )
    )


def _not_yet_arrived(elapsed: float, parameters: ForecastParameters) -> float:
    """Return the closed-form share of one airing's visits still to come ``elapsed`` minutes after its start."""
    if elapsed <= 0:
        return 1.0
    share = parameters.spike_share
    return share * math.exp(-elapsed / parameters.response_minutes) + (1 - share) * math.exp(
        -elapsed / parameters.tail_minutes
    )


def _local_maxima(values: list[float]) -> list[int]:
    return [k for k in range(1, len(values) - 1) if values[k] > values[k - 1] and values[k] >= values[k + 1]]


def _series(result: Forecast, name: str, band: str = "likely") -> list[float]:
    return [getattr(getattr(point, name), band) for point in result.points]


# --- linearity -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", [1_000, 250_000, CAPITAL_AUDIENCE, 40_000_000])
def test_doubling_the_audience_doubles_the_peak(audience):
    single = _forecast(audience, baseline_rps=120.0)
    double = _forecast(audience * 2, baseline_rps=120.0)

    for band in ("low", "likely", "high"):
        assert getattr(double.peak_visits_per_s.value, band) == pytest.approx(
            2 * getattr(single.peak_visits_per_s.value, band), rel=1e-12
        )
        assert getattr(double.peak_origin_rps.value, band) - 120.0 == pytest.approx(
            2 * (getattr(single.peak_origin_rps.value, band) - 120.0), rel=1e-12
        )
        assert getattr(double.peak_edge_rps.value, band) == pytest.approx(
            2 * getattr(single.peak_edge_rps.value, band), rel=1e-12
        )
    assert double.peak_visits_per_s.minute == single.peak_visits_per_s.minute


@pytest.mark.parametrize("visit_rate", [0.005, 0.02, 0.1, 0.4])
def test_doubling_the_visit_rate_doubles_the_peak(visit_rate):
    single = _forecast(baseline_rps=35.0, visit_rate=visit_rate)
    double = _forecast(baseline_rps=35.0, visit_rate=visit_rate * 2)

    assert double.peak_visits_per_s.value.likely == pytest.approx(2 * single.peak_visits_per_s.value.likely, rel=1e-12)
    assert double.peak_sessions.value.likely == pytest.approx(2 * single.peak_sessions.value.likely, rel=1e-12)
    assert double.peak_origin_rps.value.likely - 35.0 == pytest.approx(
        2 * (single.peak_origin_rps.value.likely - 35.0), rel=1e-12
    )
    assert double.total_visits.likely == pytest.approx(2 * single.total_visits.likely, rel=1e-12)


# --- CDN -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lower", "higher"), [(0.0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 1.0), (0.0, 1.0)])
def test_higher_cdn_hit_ratio_never_raises_origin_load(lower, higher):
    replay = (Airing(start_minute=75),)
    worse = _forecast(baseline_rps=80.0, rebroadcasts=replay, cdn_hit_ratio=lower)
    better = _forecast(baseline_rps=80.0, rebroadcasts=replay, cdn_hit_ratio=higher)

    for worse_point, better_point in zip(worse.points, better.points, strict=True):
        for band in ("low", "likely", "high"):
            assert getattr(better_point.origin_rps, band) <= getattr(worse_point.origin_rps, band)
        assert better_point.edge_rps == worse_point.edge_rps
    assert better.peak_origin_rps.value.likely < worse.peak_origin_rps.value.likely


def test_full_cdn_hits_leave_only_uncached_requests_at_the_origin():
    result = _forecast(baseline_rps=10.0, cdn_hit_ratio=1.0, uncached_per_page=2.0, requests_per_page=70.0)

    for point in result.points:
        above_baseline = point.origin_rps.likely - 10.0
        assert above_baseline == pytest.approx(point.edge_rps.likely * 2.0 / 70.0, rel=1e-12, abs=1e-9)


# --- conservation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment_minutes", "rebroadcasts", "overrides", "minutes_before"),
    [
        (10.0, (), {}, 30),
        (45.0, (Airing(start_minute=90),), {}, 30),
        (12.5, (Airing(start_minute=60.5), Airing(start_minute=150, audience=900_000)), {}, 30),
        (10.0, (Airing(start_minute=600),), {}, 30),  # after the window: counted in the total only
        (10.0, (), {"spike_share": 0.0}, 0),
        (10.0, (), {"spike_share": 1.0, "session_minutes": 0.5}, 30),
        (0.5, (), {"tail_minutes": 1440.0}, 30),  # most of a day-long tail falls outside the window
    ],
)
def test_visits_add_up_to_audience_times_rate(segment_minutes, rebroadcasts, overrides, minutes_before):
    data = ForecastInput(
        audience=CAPITAL_AUDIENCE,
        segment_minutes=segment_minutes,
        rebroadcasts=rebroadcasts,
        parameters=parameters_with(overrides),
    )
    result = compute_forecast(data, minutes_before=minutes_before)
    rate = data.parameters.visit_rate
    audiences = [airing.audience for airing in result.airings]

    in_window = sum(point.visits_per_s.likely * 60 for point in result.points)
    outside = result.total_visits.likely - result.visits_in_window.likely
    assert in_window == pytest.approx(result.visits_in_window.likely, rel=1e-9)
    assert in_window + outside == pytest.approx(result.total_visits.likely, rel=1e-9)
    assert result.total_visits.likely == pytest.approx(sum(audiences) * rate, rel=1e-12)
    assert outside >= -1e-6

    # What falls inside the window also matches the closed form at the window's end.
    end = result.points[-1].minute + 1
    expected = sum(
        audience * rate * (1 - _not_yet_arrived(end - airing.start_minute, data.parameters))
        for airing, audience in zip(result.airings, audiences, strict=True)
    )
    assert result.visits_in_window.likely == pytest.approx(expected, rel=1e-9)


def test_total_visits_of_a_single_airing_is_audience_times_rate():
    result = _forecast(1_000_000, visit_rate=0.03, low_factor=0.4, high_factor=3.0)

    assert result.total_visits.likely == pytest.approx(1_000_000 * 0.03, rel=1e-12)
    assert result.total_visits.low == pytest.approx(1_000_000 * 0.03 * 0.4, rel=1e-12)
    assert result.total_visits.high == pytest.approx(1_000_000 * 0.03 * 3.0, rel=1e-12)


# --- rebroadcasts ----------------------------------------------------------------------------------------------


def test_rebroadcast_spikes_are_smaller_with_the_default_factors():
    replays = tuple(Airing(start_minute=start) for start in (60, 120, 180, 240))
    result = _forecast(rebroadcasts=replays)

    assert [airing.audience for airing in result.airings] == [
        CAPITAL_AUDIENCE,
        round(CAPITAL_AUDIENCE * 0.5),
        round(CAPITAL_AUDIENCE * 0.25),
        round(CAPITAL_AUDIENCE * 0.125),  # beyond the factors: the last one halves again
        round(CAPITAL_AUDIENCE * 0.0625),
    ]
    peaks = [airing.visits_per_s.likely for airing in result.airings]
    assert all(later < earlier for earlier, later in itertools.pairwise(peaks))
    origin_peaks = [airing.origin_rps.likely for airing in result.airings]
    assert all(later < earlier for earlier, later in itertools.pairwise(origin_peaks))


def test_rebroadcast_inside_the_window_adds_a_second_local_maximum():
    alone = _forecast()
    with_replay = _forecast(rebroadcasts=(Airing(start_minute=90),))

    assert [alone.points[k].minute for k in _local_maxima(_series(alone, "visits_per_s"))] == [0]
    assert [with_replay.points[k].minute for k in _local_maxima(_series(with_replay, "visits_per_s"))] == [0, 90]
    assert len(_local_maxima(_series(with_replay, "sessions"))) == 2
    assert with_replay.peak_visits_per_s.minute == 0


def test_rebroadcasts_are_numbered_in_time_order_and_a_given_audience_wins():
    result = _forecast(
        rebroadcasts=(Airing(start_minute=200), Airing(start_minute=100, audience=123_456), Airing(start_minute=50)),
        rebroadcast_factors=(0.4, 0.3),
    )

    assert [(airing.start_minute, airing.audience) for airing in result.airings] == [
        (0.0, CAPITAL_AUDIENCE),
        (50.0, round(CAPITAL_AUDIENCE * 0.4)),
        (100.0, 123_456),
        (200.0, round(CAPITAL_AUDIENCE * 0.15)),
    ]


def test_an_airing_alone_has_the_same_shape_whenever_it_airs():
    late = _forecast(baseline_rps=500.0, rebroadcasts=(Airing(start_minute=600, audience=CAPITAL_AUDIENCE),))
    first, replay = late.airings

    # Computed alone, even after the window ends; origin load above the baseline, which the series adds back.
    assert replay.visits_per_s.likely == pytest.approx(first.visits_per_s.likely, rel=1e-9)
    assert replay.origin_rps.likely == pytest.approx(first.origin_rps.likely, rel=1e-9)
    assert late.peak_origin_rps.value.likely == pytest.approx(500.0 + first.origin_rps.likely, rel=1e-9)

    # Inside the window the replay rides on the first airing's tail, so the series' peak exceeds its own.
    early = _forecast(baseline_rps=500.0, rebroadcasts=(Airing(start_minute=90, audience=CAPITAL_AUDIENCE),))
    assert early.airings == (first, replace(replay, start_minute=90.0))
    assert early.peak_origin_rps.value.likely > 500.0 + replay.origin_rps.likely
    assert early.peak_origin_rps.minute == 93


# --- the reference case ----------------------------------------------------------------------------------------


def test_capital_audience_gives_hundreds_of_visits_and_tens_of_thousands_of_requests_per_second():
    parameters = ForecastParameters()
    result = _forecast(CAPITAL_AUDIENCE, visit_rate=0.02)
    visits = CAPITAL_AUDIENCE * 0.02

    # The first minute holds the most visits: V·(G(0) − G(1)) from the closed form.
    first_minute_visits = visits * (1 - _not_yet_arrived(1.0, parameters))
    assert result.peak_visits_per_s.minute == 0
    assert result.peak_visits_per_s.value.likely == pytest.approx(first_minute_visits / 60, rel=1e-12)
    assert 100 <= result.peak_visits_per_s.value.likely < 1000

    # Sessions: the visits of the last S minutes, V·(G(m + 1 − S) − G(m + 1)), at their highest.
    window = parameters.session_minutes
    sessions = max(
        visits * (_not_yet_arrived(m + 1 - window, parameters) - _not_yet_arrived(m + 1, parameters))
        for m in range(0, 30)
    )
    assert result.peak_sessions.value.likely == pytest.approx(sessions, rel=1e-9)

    seconds = window * 60
    edge = sessions * parameters.pages_per_visit * parameters.requests_per_page / seconds
    assert result.peak_edge_rps.value.likely == pytest.approx(edge, rel=1e-9)
    assert 10_000 <= result.peak_edge_rps.value.likely < 100_000

    per_page_at_origin = parameters.uncached_per_page + (
        parameters.requests_per_page - parameters.uncached_per_page
    ) * (1 - parameters.cdn_hit_ratio)
    origin = sessions * parameters.pages_per_visit * per_page_at_origin / seconds
    assert result.peak_origin_rps.value.likely == pytest.approx(origin, rel=1e-9)


def test_default_response_time_puts_three_quarters_of_the_spike_in_two_minutes():
    parameters = ForecastParameters()

    assert 1 - math.exp(-2 / parameters.response_minutes) == pytest.approx(0.75, abs=0.005)


# --- invariants ------------------------------------------------------------------------------------------------

INVARIANT_CASES = [
    {},
    {"baseline_rps": 250.0, "rebroadcasts": (Airing(start_minute=45), Airing(start_minute=130))},
    {"audience": 1, "segment_minutes": 0.25},
    {"audience": 100_000_000, "segment_minutes": 1440.0, "visit_rate": 1.0, "high_factor": 20.0},
    {"spike_share": 1.0, "response_minutes": 60.0, "session_minutes": 240.0},
    {"spike_share": 0.0, "tail_minutes": 0.1, "session_minutes": 0.1, "low_factor": 1.0, "high_factor": 1.0},
]


@pytest.mark.parametrize("case", INVARIANT_CASES)
def test_bands_are_ordered_and_sessions_never_negative(case):
    result = _forecast(**case)

    for point in result.points:
        for band in (point.visits_per_s, point.edge_rps, point.origin_rps, point.sessions):
            assert band.low <= band.likely <= band.high
        assert point.sessions.low >= 0
        assert point.visits_per_s.low >= 0
    for peak in (result.peak_visits_per_s, result.peak_edge_rps, result.peak_origin_rps, result.peak_sessions):
        assert peak.value.low <= peak.value.likely <= peak.value.high


@pytest.mark.parametrize("case", INVARIANT_CASES)
def test_nothing_but_the_baseline_before_air(case):
    result = _forecast(**case)
    baseline = case.get("baseline_rps", 0.0)

    before = [point for point in result.points if point.minute < 0]
    assert len(before) == 30
    for point in before:
        for band in ("low", "likely", "high"):
            assert getattr(point.visits_per_s, band) == 0
            assert getattr(point.sessions, band) == 0
            assert getattr(point.edge_rps, band) == 0
            assert getattr(point.origin_rps, band) == baseline
    assert result.baseline_rps == baseline
    assert next(point for point in result.points if point.minute == 0).visits_per_s.likely > 0


@pytest.mark.parametrize(
    ("segment_minutes", "minutes_before", "minutes_after", "first", "last"),
    [(10.0, 30, 180, -30, 190), (45.0, 30, 180, -30, 225), (12.5, 30, 180, -30, 193), (5.0, 0, 0, 0, 5)],
)
def test_window_runs_from_before_air_to_after_the_segment(segment_minutes, minutes_before, minutes_after, first, last):
    result = compute_forecast(
        ForecastInput(audience=CAPITAL_AUDIENCE, segment_minutes=segment_minutes),
        minutes_before=minutes_before,
        minutes_after=minutes_after,
    )

    assert [point.minute for point in result.points] == list(range(first, last + 1))


# --- validation ------------------------------------------------------------------------------------------------


def test_default_parameters_are_valid():
    assert ForecastParameters().errors() == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("visit_rate", 0.0),
        ("visit_rate", 1.5),
        ("visit_rate", math.nan),
        ("low_factor", 0.0),
        ("low_factor", 1.2),
        ("high_factor", 0.9),
        ("high_factor", 21.0),
        ("spike_share", -0.1),
        ("spike_share", 1.1),
        ("response_minutes", 0.0),
        ("response_minutes", 61.0),
        ("tail_minutes", 0.0),
        ("tail_minutes", 1441.0),
        ("pages_per_visit", 0.0),
        ("pages_per_visit", 101.0),
        ("requests_per_page", 0.0),
        ("requests_per_page", 1001.0),
        ("uncached_per_page", -1.0),
        ("uncached_per_page", 71.0),
        ("cdn_hit_ratio", -0.01),
        ("cdn_hit_ratio", 1.01),
        ("cdn_hit_ratio", math.inf),
        ("session_minutes", 0.0),
        ("session_minutes", 241.0),
        ("rebroadcast_factors", (0.5, 0.0)),
        ("rebroadcast_factors", (1.5,)),
    ],
)
def test_out_of_range_parameter_is_named(field, value):
    parameters = replace(ForecastParameters(), **{field: value})

    assert set(parameters.errors()) == {field}
    with pytest.raises(ForecastError) as raised:
        compute_forecast(ForecastInput(audience=CAPITAL_AUDIENCE, segment_minutes=10, parameters=parameters))
    assert set(raised.value.errors) == {field}
    assert raised.value.errors[field].startswith("Enter")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"audience": 0}, {"audience"}),
        ({"audience": 100_000_001}, {"audience"}),
        ({"audience": 2.5}, {"audience"}),
        ({"audience": True}, {"audience"}),
        ({"segment_minutes": 0}, {"segment_minutes"}),
        ({"segment_minutes": 1441}, {"segment_minutes"}),
        ({"segment_minutes": "ten"}, {"segment_minutes"}),
        ({"baseline_rps": -1.0}, {"baseline_rps"}),
        ({"baseline_rps": math.inf}, {"baseline_rps"}),
        ({"rebroadcasts": (Airing(start_minute=0),)}, {"rebroadcasts[0].start_minute"}),
        ({"rebroadcasts": (Airing(60), Airing(90, audience=0))}, {"rebroadcasts[1].audience"}),
        (
            {"audience": -5, "segment_minutes": -1, "parameters": ForecastParameters(visit_rate=2.0, cdn_hit_ratio=3)},
            {"audience", "segment_minutes", "visit_rate", "cdn_hit_ratio"},
        ),
        (
            {"rebroadcasts": (Airing(60),), "parameters": ForecastParameters(rebroadcast_factors=())},
            {"rebroadcasts[0].audience"},
        ),
    ],
)
def test_bad_input_raises_forecast_error_naming_the_fields(changes, fields):
    data = replace(ForecastInput(audience=CAPITAL_AUDIENCE, segment_minutes=10.0), **changes)

    with pytest.raises(ForecastError) as raised:
        compute_forecast(data)
    assert set(raised.value.errors) == fields
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(("minutes_before", "minutes_after"), [(-1, 180), (30, -5), (30, 2000), (1.5, 180)])
def test_bad_window_raises_forecast_error(minutes_before, minutes_after):
    with pytest.raises(ForecastError) as raised:
        compute_forecast(
            ForecastInput(audience=CAPITAL_AUDIENCE, segment_minutes=10.0),
            minutes_before=minutes_before,
            minutes_after=minutes_after,
        )
    assert set(raised.value.errors) <= {"minutes_before", "minutes_after"}
    assert raised.value.errors


def test_rebroadcast_without_audience_is_fine_when_factors_are_empty_but_audience_given():
    result = _forecast(rebroadcasts=(Airing(60, audience=10_000),), rebroadcast_factors=())

    assert result.airings[1].audience == 10_000


# --- parameters_with -------------------------------------------------------------------------------------------


def test_parameters_with_replaces_given_fields_and_ignores_none():
    parameters = parameters_with({"visit_rate": 0.035, "cdn_hit_ratio": None, "rebroadcast_factors": [0.6]})

    assert parameters == replace(ForecastParameters(), visit_rate=0.035, rebroadcast_factors=(0.6,))
    assert parameters_with({}) == ForecastParameters()


def test_parameters_with_accepts_decimals_from_the_database():
    parameters = parameters_with({"visit_rate": Decimal("0.03"), "session_minutes": 5})

    assert parameters.visit_rate == 0.03
    assert isinstance(parameters.visit_rate, float)
    assert parameters.session_minutes == 5.0


def test_decimal_parameters_give_the_same_forecast_as_floats():
    decimals = ForecastParameters(
        visit_rate=Decimal("0.02"), cdn_hit_ratio=Decimal("0.9"), rebroadcast_factors=(Decimal("0.5"),)
    )
    data = ForecastInput(audience=CAPITAL_AUDIENCE, segment_minutes=Decimal("10"), baseline_rps=Decimal("12.5"))

    result = compute_forecast(replace(data, parameters=decimals, rebroadcasts=(Airing(Decimal("60")),)))
    expected = compute_forecast(
        replace(data, rebroadcasts=(Airing(60),), parameters=ForecastParameters(rebroadcast_factors=(0.5,)))
    )
    assert result.peak_origin_rps == expected.peak_origin_rps
    assert result.airings == expected.airings


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"visitors": 0.02}, {"visitors"}),
        ({"visit_rate": "lots", "colour": 1.0}, {"visit_rate", "colour"}),
        ({"rebroadcast_factors": 0.5}, {"rebroadcast_factors"}),
    ],
)
def test_parameters_with_rejects_unknown_names_and_non_numbers(overrides, fields):
    with pytest.raises(ForecastError) as raised:
        parameters_with(overrides)
    assert set(raised.value.errors) == fields


# --- purity ----------------------------------------------------------------------------------------------------


def test_forecast_module_imports_nothing_from_django():
    tree = ast.parse(Path(forecast_module.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]

    assert imported
    assert not [name for name in imported if name.split(".")[0] in {"django", "rest_framework", "celery"}]
