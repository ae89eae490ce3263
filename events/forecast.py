"""Forecast the traffic a TV broadcast sends to a website, minute by minute.

The model (docs/forecast.md gives the evidence behind every default):

- The broadcast's audience A sends V = A × r extra visits, r being the visit rate.
- Visits arrive after the on-screen mention at t = 0 (air start, in minutes): a fast spike carrying a share φ
  of V that decays exponentially with time constant τ (``response_minutes``), plus the rest (1 − φ) decaying
  with a long time constant T (``tail_minutes``). The arrival density is
  V·[φ/τ·e^(−t/τ) + (1 − φ)/T·e^(−t/T)] for t ≥ 0 and zero before.
- The visits of minute m are the exact integral of that density from m to m + 1, so every sum over minutes is
  exact; visits/s is that number divided by 60.
- Concurrent sessions at minute m are the visits that started within the last S minutes (``session_minutes``),
  the exact integral over [m + 1 − S, m + 1] clipped at 0 (Little's law: sessions = arrival rate × duration).
- Each session spreads its p × q requests (pages per visit × requests per page) evenly over S minutes, so
  edge requests/s = sessions × p × q / (S × 60).
- The origin sees the stack's normal peak traffic plus, per page, the h requests never cached (dynamic HTML,
  API calls) and the CDN misses among the other q − h:
  origin requests/s = baseline + sessions × p × [h + (q − h) × (1 − cdn_hit_ratio)] / (S × 60).
- The band runs the same model at three visit rates: r × low_factor, r and r × high_factor.
- Each rebroadcast adds its own spike of the same shape from its start minute with its own audience; when that
  audience is unknown it is A × rebroadcast_factors[i] for the i-th rebroadcast in time order, the last factor
  halving again for every rebroadcast beyond the tuple. All airings are superposed.
- The series runs from 30 minutes before air to 3 hours after the segment ends, one point per whole minute.

Everything is linear in the visit rate, so the module computes the arrivals once per unit rate, with the
exponentials advanced by a constant factor per minute, and scales them for each band. It imports nothing from
Django: the events app stores the inputs and the results, this module only computes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from numbers import Real

MAX_AUDIENCE = 100_000_000
MAX_SEGMENT_MINUTES = 1440.0
# Replays of a magazine can come days later on a sister channel; a month bounds typos, not real schedules.
MAX_REBROADCAST_START_MINUTE = 30 * 1440.0


class ForecastError(ValueError):
    """Report invalid forecast input; ``errors`` maps each field name to a message a person can act on."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


def _number(value: object) -> float | None:
    """Return ``value`` as a finite float, or None when it is not a finite number (a bool is not a number)."""
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _within(value: object, low: float, high: float, *, low_inclusive: bool) -> bool:
    number = _number(value)
    if number is None or number > high:
        return False
    return number >= low if low_inclusive else number > low


# field, lower bound, lower bound included, upper bound (always included), message
_RANGES: tuple[tuple[str, float, bool, float, str], ...] = (
    ("visit_rate", 0.0, False, 1.0, "Enter a visit rate above 0 and at most 1 (0.02 means 2 % of viewers visit)."),
    ("low_factor", 0.0, False, 1.0, "Enter a low factor above 0 and at most 1."),
    ("high_factor", 1.0, True, 20.0, "Enter a high factor from 1 to 20."),
    ("spike_share", 0.0, True, 1.0, "Enter a spike share from 0 to 1 (0.6 means 60 % of visits in the spike)."),
    ("response_minutes", 0.0, False, 60.0, "Enter a response time above 0 and at most 60 minutes."),
    ("tail_minutes", 0.0, False, 1440.0, "Enter a tail time above 0 and at most 1440 minutes (24 hours)."),
    ("pages_per_visit", 0.0, False, 100.0, "Enter pages per visit above 0 and at most 100."),
    ("requests_per_page", 0.0, False, 1000.0, "Enter requests per page above 0 and at most 1000."),
    ("cdn_hit_ratio", 0.0, True, 1.0, "Enter a CDN hit ratio from 0 to 1 (0.9 means 90 % served by the CDN)."),
    ("session_minutes", 0.0, False, 240.0, "Enter a session length above 0 and at most 240 minutes."),
)


@dataclass(frozen=True)
class ForecastParameters:
    """Hold the model's tunable constants; organizations override them and post-event reports calibrate them."""

    visit_rate: float = 0.02
    low_factor: float = 0.5
    high_factor: float = 2.5
    spike_share: float = 0.6
    response_minutes: float = 1.45
    tail_minutes: float = 40.0
    pages_per_visit: float = 3.0
    requests_per_page: float = 70.0
    uncached_per_page: float = 2.0
    cdn_hit_ratio: float = 0.9
    session_minutes: float = 4.0
    rebroadcast_factors: tuple[float, ...] = (0.5, 0.25)

    def errors(self) -> dict[str, str]:
        """Return a plain-English message for every out-of-range field, keyed by field name; empty when valid."""
        errors: dict[str, str] = {}
        for name, low, low_inclusive, high, message in _RANGES:
            if not _within(getattr(self, name), low, high, low_inclusive=low_inclusive):
                errors[name] = message
        uncached = _number(self.uncached_per_page)
        requests = _number(self.requests_per_page)
        if uncached is None or uncached < 0 or ("requests_per_page" not in errors and uncached > requests):
            errors["uncached_per_page"] = (
                "Enter uncached requests per page from 0 up to the requests per page "
                "(dynamic HTML and API calls are part of the page's requests)."
            )
        factors = self.rebroadcast_factors
        if not isinstance(factors, tuple) or not all(
            _within(factor, 0.0, 1.0, low_inclusive=False) for factor in factors
        ):
            errors["rebroadcast_factors"] = (
                "Enter each rebroadcast factor above 0 and at most 1 (0.5 means half the first audience)."
            )
        return errors


_PARAMETER_NAMES = frozenset(field.name for field in fields(ForecastParameters))
_SCALAR_PARAMETER_NAMES = tuple(sorted(_PARAMETER_NAMES - {"rebroadcast_factors"}))


def _as_floats(parameters: ForecastParameters) -> ForecastParameters:
    """Return valid parameters with every value a float, so Decimals from the database mix with float arithmetic."""
    return replace(
        parameters,
        rebroadcast_factors=tuple(float(factor) for factor in parameters.rebroadcast_factors),
        **{name: float(getattr(parameters, name)) for name in _SCALAR_PARAMETER_NAMES},
    )


def parameters_with(overrides: Mapping[str, float | Sequence[float] | None]) -> ForecastParameters:
    """Return the default parameters with the given fields replaced, skipping None values.

    Raise ForecastError for an unknown name or a value that is not a number; ranges are checked by
    ``ForecastParameters.errors()`` and ``compute_forecast``.
    """
    errors: dict[str, str] = {}
    changes: dict[str, float | tuple[float, ...]] = {}
    for name, value in overrides.items():
        if name not in _PARAMETER_NAMES:
            errors[name] = "This is not a forecast parameter."
        elif value is None:
            continue
        elif name == "rebroadcast_factors":
            factors = [_number(factor) for factor in value] if isinstance(value, Iterable) else [None]
            if any(factor is None for factor in factors):
                errors[name] = "Enter the rebroadcast factors as numbers."
            else:
                changes[name] = tuple(factor for factor in factors if factor is not None)
        else:
            number = _number(value)
            if number is None:
                errors[name] = "Enter a number."
            else:
                changes[name] = number
    if errors:
        raise ForecastError(errors)
    return replace(ForecastParameters(), **changes)


@dataclass(frozen=True)
class Airing:
    """Describe one broadcast of the segment; ``start_minute`` counts from the first air start."""

    start_minute: float
    audience: int | None = None  # None: derived from the parameters' rebroadcast_factors


@dataclass(frozen=True)
class ForecastInput:
    """Collect what the forecast needs: the first airing's audience and length, the origin's baseline, replays."""

    audience: int
    segment_minutes: float
    baseline_rps: float = 0.0
    rebroadcasts: tuple[Airing, ...] = ()
    parameters: ForecastParameters = ForecastParameters()


@dataclass(frozen=True)
class Band:
    """Hold one figure at the low, likely and high visit rates."""

    low: float
    likely: float
    high: float


@dataclass(frozen=True)
class ForecastPoint:
    """Give the traffic of one whole minute, ``minute`` counting from air start."""

    minute: int
    visits_per_s: Band
    edge_rps: Band
    origin_rps: Band
    sessions: Band


@dataclass(frozen=True)
class Peak:
    """Give a series' highest values and the minute of the likely one."""

    value: Band
    minute: int


@dataclass(frozen=True)
class AiringPeak:
    """Give one airing's own peaks, computed as if it were alone; origin load excludes the baseline."""

    start_minute: float
    audience: int
    visits_per_s: Band
    origin_rps: Band


@dataclass(frozen=True)
class Forecast:
    """Hold the per-minute series, its peaks, the visit totals and each airing's own peaks."""

    points: tuple[ForecastPoint, ...]
    peak_visits_per_s: Peak
    peak_edge_rps: Peak
    peak_origin_rps: Peak
    peak_sessions: Peak
    total_visits: Band
    visits_in_window: Band
    airings: tuple[AiringPeak, ...]
    baseline_rps: float


def _is_audience(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_AUDIENCE


def _input_errors(data: ForecastInput, minutes_before: object, minutes_after: object) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not _is_audience(data.audience):
        errors["audience"] = f"Enter an audience from 1 to {MAX_AUDIENCE:,} viewers."
    if not _within(data.segment_minutes, 0.0, MAX_SEGMENT_MINUTES, low_inclusive=False):
        errors["segment_minutes"] = "Enter a segment length above 0 and at most 1440 minutes (24 hours)."
    if not _within(data.baseline_rps, 0.0, math.inf, low_inclusive=True):
        errors["baseline_rps"] = "Enter a baseline of 0 or more requests per second."
    parameters = data.parameters
    if not isinstance(parameters, ForecastParameters):
        errors["parameters"] = "Give the forecast parameters."
    else:
        errors.update(parameters.errors())
    if not isinstance(data.rebroadcasts, tuple):
        errors["rebroadcasts"] = "Give the rebroadcasts as a list of airings."
    else:
        for index, airing in enumerate(data.rebroadcasts):
            prefix = f"rebroadcasts[{index}]"
            if not isinstance(airing, Airing):
                errors[prefix] = "Give each rebroadcast as an airing."
                continue
            if not _within(airing.start_minute, 0.0, MAX_REBROADCAST_START_MINUTE, low_inclusive=False):
                errors[f"{prefix}.start_minute"] = (
                    "Enter a rebroadcast start after the first air start and within 30 days of it, in minutes."
                )
            rebroadcast_audience = airing.audience
            if rebroadcast_audience is None:
                if isinstance(parameters, ForecastParameters) and parameters.rebroadcast_factors == ():
                    errors[f"{prefix}.audience"] = (
                        "Enter this rebroadcast's audience: no rebroadcast factor is set to derive it."
                    )
            elif not _is_audience(rebroadcast_audience):
                errors[f"{prefix}.audience"] = (
                    f"Enter an audience from 1 to {MAX_AUDIENCE:,} viewers, or leave it blank."
                )
    for name, value in (("minutes_before", minutes_before), ("minutes_after", minutes_after)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1440:
            errors[name] = "Enter a whole number of minutes from 0 to 1440."
    return errors


def _airings(data: ForecastInput, factors: tuple[float, ...]) -> list[tuple[float, int]]:
    """Return (start minute, audience) for the first airing then each rebroadcast in time order."""
    airings = [(0.0, data.audience)]
    for index, airing in enumerate(sorted(data.rebroadcasts, key=lambda airing: float(airing.start_minute))):
        audience = airing.audience
        if audience is None:
            factor = factors[index] if index < len(factors) else factors[-1] * 0.5 ** (index - len(factors) + 1)
            audience = round(data.audience * factor)
        airings.append((float(airing.start_minute), audience))
    return airings


def _add_not_yet_arrived(
    out: list[float], first_x: float, start: float, audience: float, shape: tuple[float, float, float]
) -> None:
    """Add to ``out[j]`` the part of one airing's visits that has not arrived by time ``first_x + j``.

    The survival of the arrival density is G(t) = φ·e^(−t/τ) + (1 − φ)·e^(−t/T) for t > 0 and 1 before, so
    the visits in [a, b] are audience·(G(a) − G(b)). On a one-minute grid each exponential only needs one
    multiplication per step.
    """
    spike_share, response, tail = shape
    count = len(out)
    first_after_start = min(count, max(0, math.floor(start - first_x) + 1))
    for index in range(first_after_start):
        out[index] += audience
    if first_after_start == count:
        return
    elapsed = first_x + first_after_start - start
    spike = audience * spike_share * math.exp(-elapsed / response)
    slow = audience * (1.0 - spike_share) * math.exp(-elapsed / tail)
    spike_step = math.exp(-1.0 / response)
    slow_step = math.exp(-1.0 / tail)
    for index in range(first_after_start, count):
        out[index] += spike + slow
        spike *= spike_step
        slow *= slow_step


def _unit_series(
    airings: Sequence[tuple[float, int]], first_minute: int, count: int, parameters: ForecastParameters
) -> tuple[list[float], list[float]]:
    """Return visits per minute and concurrent sessions for ``count`` minutes, at a visit rate of 1."""
    shape = (parameters.spike_share, parameters.response_minutes, parameters.tail_minutes)
    # Boundary j is the time first_minute + j; minute k runs from boundary k to boundary k + 1.
    waiting = [0.0] * (count + 1)
    waiting_session_start = [0.0] * (count + 1)
    for start, audience in airings:
        _add_not_yet_arrived(waiting, first_minute, start, audience, shape)
        _add_not_yet_arrived(waiting_session_start, first_minute - parameters.session_minutes, start, audience, shape)
    visits = [waiting[k] - waiting[k + 1] for k in range(count)]
    sessions = [max(0.0, waiting_session_start[k + 1] - waiting[k + 1]) for k in range(count)]
    return visits, sessions


def _per_session_rates(parameters: ForecastParameters) -> tuple[float, float]:
    """Return the edge and origin requests/s that one concurrent session generates."""
    seconds = parameters.session_minutes * 60.0
    pages = parameters.pages_per_visit
    requests = parameters.requests_per_page
    uncached = parameters.uncached_per_page
    edge = pages * requests / seconds
    origin = pages * (uncached + (requests - uncached) * (1.0 - parameters.cdn_hit_ratio)) / seconds
    return edge, origin


def _peak(
    values: Sequence[float], rates: tuple[float, float, float], scale: float, offset: float, first_minute: int
) -> Peak:
    """Return the peak of ``offset + value × scale × rate`` per band; the bands share one shape, so one argmax."""
    best = max(range(len(values)), key=values.__getitem__)
    top = values[best] * scale
    low, likely, high = rates
    return Peak(Band(offset + top * low, offset + top * likely, offset + top * high), first_minute + best)


def _airing_peak(
    start: float, audience: int, parameters: ForecastParameters, rates: tuple[float, float, float]
) -> AiringPeak:
    """Return one airing's own peaks.

    The arrival density only decreases after the start, so a fixed-length window holds the most visits when it
    has just filled: the one-minute bins peak within two minutes of the start and the session window within a
    minute of start + S. The grid below covers both.
    """
    first_minute = math.floor(start) - 1
    count = math.ceil(parameters.session_minutes) + 4
    visits, sessions = _unit_series([(start, audience)], first_minute, count, parameters)
    _, origin_per_session = _per_session_rates(parameters)
    low, likely, high = rates
    top_visits = max(visits) / 60.0
    top_origin = max(sessions) * origin_per_session
    return AiringPeak(
        start_minute=start,
        audience=audience,
        visits_per_s=Band(top_visits * low, top_visits * likely, top_visits * high),
        origin_rps=Band(top_origin * low, top_origin * likely, top_origin * high),
    )


def compute_forecast(data: ForecastInput, *, minutes_before: int = 30, minutes_after: int = 180) -> Forecast:
    """Compute the forecast, one point per minute from ``minutes_before`` before air to ``minutes_after`` after it ends.

    Raise ForecastError (with field-named messages) on bad input: audience 1..100,000,000, segment_minutes
    (0, 1440], baseline_rps >= 0, rebroadcasts after air start, and every ``parameters.errors()``.
    """
    errors = _input_errors(data, minutes_before, minutes_after)
    if errors:
        raise ForecastError(errors)
    parameters = _as_floats(data.parameters)
    baseline = float(data.baseline_rps)
    rate = parameters.visit_rate
    rates = (rate * parameters.low_factor, rate, rate * parameters.high_factor)
    low, likely, high = rates

    first_minute = -minutes_before
    last_minute = math.ceil(float(data.segment_minutes) + minutes_after)
    count = last_minute - first_minute + 1
    airings = _airings(data, parameters.rebroadcast_factors)
    visits, sessions = _unit_series(airings, first_minute, count, parameters)
    edge_per_session, origin_per_session = _per_session_rates(parameters)

    points = []
    for index in range(count):
        per_second = visits[index] / 60.0
        concurrent = sessions[index]
        edge = concurrent * edge_per_session
        origin = concurrent * origin_per_session
        points.append(
            ForecastPoint(
                first_minute + index,
                Band(per_second * low, per_second * likely, per_second * high),
                Band(edge * low, edge * likely, edge * high),
                Band(baseline + origin * low, baseline + origin * likely, baseline + origin * high),
                Band(concurrent * low, concurrent * likely, concurrent * high),
            )
        )

    total = float(sum(audience for _, audience in airings))
    in_window = math.fsum(visits)
    return Forecast(
        points=tuple(points),
        peak_visits_per_s=_peak(visits, rates, 1 / 60.0, 0.0, first_minute),
        peak_edge_rps=_peak(sessions, rates, edge_per_session, 0.0, first_minute),
        peak_origin_rps=_peak(sessions, rates, origin_per_session, baseline, first_minute),
        peak_sessions=_peak(sessions, rates, 1.0, 0.0, first_minute),
        total_visits=Band(total * low, total * likely, total * high),
        visits_in_window=Band(in_window * low, in_window * likely, in_window * high),
        airings=tuple(_airing_peak(start, audience, parameters, rates) for start, audience in airings),
        baseline_rps=baseline,
    )
