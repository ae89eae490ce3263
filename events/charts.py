"""Server-rendered SVG charts: readable without JavaScript, no chart library.

``band_chart`` draws a forecast as its likely curve inside the low–high band, with the peak annotated, an optional
dashed reference line (the stack's normal peak) and a vertical marker (air start). The markup is styled by the
``/* Forecast chart */`` rules of ``static/css/primetime.css``; every piece of text in it is escaped, and the same
input (in the same active language) always gives the same output.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

NICE_MANTISSAS = (1.0, 2.0, 2.5, 5.0)
MIN_Y_MAX = 1.0  # the y axis of an all-zero chart still goes from 0 to 1
HEADROOM = 1.05  # the top of the y axis stays a little above the highest value
MIN_INTERVALS, MAX_INTERVALS = 3, 5  # 4 to 6 y ticks, counting 0
X_TICK_EVERY = 30  # minutes
SINGLE_POINT_SPAN = 30  # minutes shown either side of a lone point

FONT_SIZE = 12
CHAR_WIDTH = 7.0  # a generous average advance of a 12px sans-serif glyph: label boxes err wide, not narrow
ASCENT, DESCENT = 10.0, 3.0
EDGE = 2.0  # labels keep this far from the edges of the viewBox
PEAK_RADIUS = 4


@dataclass(frozen=True)
class ChartPoint:
    x: int  # minute offset from air start (e.g. -30 .. 240)
    low: float
    likely: float
    high: float


@dataclass(frozen=True)
class BandChart:
    svg: SafeString  # the <svg> markup, safe to put in a template
    y_max: float  # top of the y axis (a "nice" number)
    peak_x: int
    peak_value: float


def nice_scale(max_value: float) -> tuple[float, float]:
    """Return ``(y_max, step)`` for a y axis from 0 that shows ``max_value`` with a little headroom.

    ``step`` is 1, 2, 2.5 or 5 × 10ⁿ, the axis has 3 to 5 steps (4 to 6 ticks with 0) and every tick needs at
    most one decimal; among the candidates the tightest axis wins, then the one with fewer ticks.
    """
    target = max(max_value * HEADROOM, MIN_Y_MAX)
    exponent = math.floor(math.log10(target))
    best: tuple[float, float] | None = None
    for power in range(exponent - 2, exponent + 2):
        for mantissa in NICE_MANTISSAS:
            step = _clean(mantissa * 10.0**power)
            if step < 0.1 or not math.isclose(step * 10, round(step * 10)):
                continue  # ticks such as 0.25 or 0.05 would need two decimals
            intervals = math.ceil(target / step - 1e-9)
            if MIN_INTERVALS <= intervals <= MAX_INTERVALS:
                candidate = (_clean(intervals * step), step)
                if best is None or (candidate[0], -candidate[1]) < (best[0], -best[1]):
                    best = candidate
    if best is None:  # unreachable for finite input: the nice steps are never more than 2× apart
        raise ValueError(f"no nice scale for {max_value!r}")
    return best


def nice_ticks(y_max: float, step: float) -> list[float]:
    return [_clean(index * step) for index in range(round(y_max / step) + 1)]


def format_number(value: float, decimals: int | None = None) -> str:
    """Format for the active language, grouping thousands, with at most one decimal.

    Without ``decimals``, values from 100 up are whole numbers and smaller ones keep a decimal only if it is not 0.
    """
    if decimals is None:
        decimals = 0 if abs(value) >= 100 or round(value, 1) == round(value) else 1
    value = round(value, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return number_format(value, decimals, use_l10n=True, force_grouping=True)


def band_chart(
    *,
    points: Sequence[ChartPoint],
    title: str,
    description: str,
    x_label: Callable[[int], str],
    y_unit: str,
    reference: float | None = None,
    reference_label: str = "",
    marker_x: int | None = 0,
    marker_label: str = "",
    width: int = 760,
    height: int = 300,
) -> BandChart:
    """Draw ``points`` as a likely curve inside its low–high band; see the module docstring.

    ``title`` becomes the SVG's <title> and ``description`` its <desc> (the sentence screen readers announce);
    ``x_label`` turns an x value (minutes from air start) into a tick label such as "21:10". The x axis spans the
    points (a lone point gets 30 minutes either side), the y axis starts at 0 and reaches above the highest value
    and the reference. The marker is drawn only if it falls within the x axis. Raises ValueError without points,
    with a value that is not finite, or for a viewBox smaller than 200 × 120.
    """
    if not points:
        raise ValueError("band_chart needs at least one point")
    if width < 200 or height < 120:
        raise ValueError("band_chart needs a viewBox of at least 200 × 120")
    values = [value for point in points for value in (point.low, point.likely, point.high)]
    if reference is not None:
        values.append(reference)
    if not all(math.isfinite(value) for value in values):
        raise ValueError("band_chart needs finite values")

    points = sorted(points, key=lambda point: point.x)
    y_max, y_step = nice_scale(max(values))
    y_ticks = nice_ticks(y_max, y_step)
    y_tick_labels = [format_number(tick, 0 if tick == round(tick) else 1) for tick in y_ticks]

    x_min, x_max = points[0].x, points[-1].x
    if x_min == x_max:
        x_min, x_max = x_min - SINGLE_POINT_SPAN, x_max + SINGLE_POINT_SPAN
    first_tick = -(-x_min // X_TICK_EVERY) * X_TICK_EVERY
    x_ticks = list(range(first_tick, x_max + 1, X_TICK_EVERY))
    x_tick_labels = {tick: str(x_label(tick)) for tick in x_ticks}

    # The plot area leaves room for the y tick labels on the left, the x tick labels below, the marker label above
    # and half of the last x tick label on the right.
    left = max(40.0, _text_width(max([*y_tick_labels, y_unit], key=len)) + 14)
    right = max(16.0, _text_width(x_tick_labels[x_ticks[-1]]) / 2 + 6 if x_ticks else 16.0)
    top, bottom = 30.0, 36.0
    plot = _Box(left, top, width - right, height - bottom)

    def sx(x: float) -> float:
        return plot.x0 + (x - x_min) / (x_max - x_min) * (plot.x1 - plot.x0)

    def sy(value: float) -> float:
        return plot.y1 - min(max(value, 0.0), y_max) / y_max * (plot.y1 - plot.y0)

    # Keep the x tick labels apart: every 30 minutes if they fit, else every 60, 90, ...
    if x_ticks:
        widest = max(_text_width(label) for label in x_tick_labels.values())
        per_tick = X_TICK_EVERY / (x_max - x_min) * (plot.x1 - plot.x0)
        every = math.ceil((widest + 10) / per_tick) * X_TICK_EVERY
        x_ticks = [tick for tick in x_ticks if tick % every == 0]

    likely = [(sx(point.x), sy(point.likely)) for point in points]
    band = [(sx(point.x), sy(point.high)) for point in points] + [
        (sx(point.x), sy(point.low)) for point in reversed(points)
    ]
    if len(points) == 1:  # a lone point's band is a narrow bar rather than an invisible vertical line
        (x, high_y), (_, low_y) = band
        band = [
            (x - PEAK_RADIUS, high_y),
            (x + PEAK_RADIUS, high_y),
            (x + PEAK_RADIUS, low_y),
            (x - PEAK_RADIUS, low_y),
        ]
    peak = max(points, key=lambda point: point.likely)  # max() keeps the first of equal peaks
    peak_xy = (sx(peak.x), sy(peak.likely))
    reference_y = sy(reference) if reference is not None else None
    marker_sx = sx(marker_x) if marker_x is not None and x_min <= marker_x <= x_max else None

    # Lines the labels should not cross.
    segments = list(itertools.pairwise(likely))
    if reference_y is not None:
        segments.append(((plot.x0, reference_y), (plot.x1, reference_y)))
    if marker_sx is not None:
        segments.append(((marker_sx, plot.y0), (marker_sx, plot.y1)))

    # Tick labels first: they are fixed, and the annotations avoid them.
    y_labels = [
        _Label(plot.x0 - 8, sy(tick) + 4, "end", text, "chart-label chart-tick-y")
        for tick, text in zip(y_ticks, y_tick_labels, strict=True)
    ]
    x_labels = [
        _Label(sx(tick), plot.y1 + 18, "middle", x_tick_labels[tick], "chart-label chart-tick-x") for tick in x_ticks
    ]
    placed = [label.box() for label in (*y_labels, *x_labels)]
    labels: list[_Label] = [*y_labels, *x_labels]
    if y_unit:
        unit = _Label(plot.x0 - 8, plot.y0 - 14, "end", y_unit, "chart-label chart-unit")
        labels.append(unit)
        placed.append(unit.box())

    def place(candidates: list[_Label]) -> None:
        label = _best_label(candidates, placed, segments, width, height)
        labels.append(label)
        placed.append(label.box())

    # Translators: the annotation of a chart's highest point, e.g. "Peak 3,412 req/s at 21:12".
    peak_text = gettext("Peak %(value)s %(unit)s at %(time)s") % {
        "value": format_number(peak.likely),
        "unit": y_unit,
        "time": x_label(peak.x),
    }
    peak_text = re.sub(r"[ \t\n]+", " ", peak_text).strip()  # no double space without a unit; keep NBSPs
    px, py = peak_xy
    beside_marker = (marker_sx if marker_sx is not None and marker_sx >= px else px) + 6
    peak_class = "chart-label chart-peak-label"
    place(
        [
            _Label(px + PEAK_RADIUS + 5, py + 4, "start", peak_text, peak_class),
            _Label(px - PEAK_RADIUS - 5, py + 4, "end", peak_text, peak_class),
            _Label.centered(px, py - PEAK_RADIUS - 6, peak_text, peak_class, plot.x0, width),
            _Label.centered(px, py + PEAK_RADIUS + 16, peak_text, peak_class, plot.x0, width),
            # Past the marker line, when it runs next to the peak.
            _Label(beside_marker, py - PEAK_RADIUS - 6, "start", peak_text, peak_class),
            _Label(beside_marker, py + PEAK_RADIUS + 16, "start", peak_text, peak_class),
        ]
    )
    if marker_sx is not None and marker_label:
        marker_class = "chart-label chart-marker-label"
        place(
            [
                _Label(marker_sx + 5, plot.y0 - 8, "start", marker_label, marker_class),
                _Label(marker_sx - 5, plot.y0 - 8, "end", marker_label, marker_class),
                _Label(marker_sx + 5, plot.y0 + 14, "start", marker_label, marker_class),
                _Label(marker_sx - 5, plot.y0 + 14, "end", marker_label, marker_class),
                _Label(marker_sx + 5, plot.y1 - 6, "start", marker_label, marker_class),
                _Label(marker_sx - 5, plot.y1 - 6, "end", marker_label, marker_class),
            ]
        )
    if reference_y is not None and reference_label:
        reference_class = "chart-label chart-reference-label"
        place(
            [
                _Label(plot.x1 - 4, reference_y - 6, "end", reference_label, reference_class),
                _Label(plot.x0 + 6, reference_y - 6, "start", reference_label, reference_class),
                _Label(plot.x1 - 4, reference_y + 16, "end", reference_label, reference_class),
                _Label(plot.x0 + 6, reference_y + 16, "start", reference_label, reference_class),
                _Label.centered((plot.x0 + plot.x1) / 2, reference_y - 6, reference_label, reference_class, 0, width),
                _Label.centered((plot.x0 + plot.x1) / 2, reference_y + 16, reference_label, reference_class, 0, width),
            ]
        )

    parts: list[SafeString] = []
    parts.append(
        format_html(
            '<g class="chart-grid">{}</g>',
            format_html_join("", "{}", ((_line(plot.x0, sy(tick), plot.x1, sy(tick)),) for tick in y_ticks[1:])),
        )
    )
    parts.append(format_html('<polygon class="chart-band" points="{}"/>', _points(band)))
    if reference_y is not None:
        parts.append(_line(plot.x0, reference_y, plot.x1, reference_y, "chart-reference"))
    if marker_sx is not None:
        parts.append(_line(marker_sx, plot.y0, marker_sx, plot.y1, "chart-marker"))
    parts.append(format_html('<polyline class="chart-likely" fill="none" points="{}"/>', _points(likely)))
    axis = [_line(plot.x0, plot.y0, plot.x0, plot.y1), _line(plot.x0, plot.y1, plot.x1, plot.y1)]
    axis += [_line(sx(tick), plot.y1, sx(tick), plot.y1 + 4) for tick in x_ticks]
    parts.append(format_html('<g class="chart-axis">{}</g>', format_html_join("", "{}", ((line,) for line in axis))))
    parts.append(
        format_html('<circle class="chart-peak" cx="{}" cy="{}" r="{}"/>', _n(px), _n(py), PEAK_RADIUS),
    )
    parts.extend(label.markup() for label in labels)
    body = format_html_join("", "{}", ((part,) for part in parts))

    digest = hashlib.sha256("\x00".join([title, description, str(body)]).encode()).hexdigest()[:12]
    chart_id = f"chart-{digest}"
    svg = format_html(
        '<svg xmlns="{}" class="chart" viewBox="0 0 {} {}" width="{}" height="{}" preserveAspectRatio="xMidYMid meet"'
        ' role="img" aria-labelledby="{}-title {}-desc"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        "{}</svg>",
        SVG_NAMESPACE,
        width,
        height,
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        body,
    )
    return BandChart(svg=svg, y_max=y_max, peak_x=peak.x, peak_value=peak.likely)


# Geometry and markup helpers.


@dataclass(frozen=True)
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: _Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def within(self, width: float, height: float) -> bool:
        return self.x0 >= EDGE and self.y0 >= EDGE and self.x1 <= width - EDGE and self.y1 <= height - EDGE

    def crossed_by(self, start: tuple[float, float], end: tuple[float, float]) -> bool:
        """Tell whether the segment from ``start`` to ``end`` passes through the box (Liang–Barsky clipping)."""
        (x, y), (x_end, y_end) = start, end
        dx, dy = x_end - x, y_end - y
        t0, t1 = 0.0, 1.0
        for p, q in ((-dx, x - self.x0), (dx, self.x1 - x), (-dy, y - self.y0), (dy, self.y1 - y)):
            if p == 0:
                if q < 0:
                    return False
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
        return True


@dataclass(frozen=True)
class _Label:
    x: float
    y: float  # baseline
    anchor: str  # "start", "middle" or "end"
    text: str
    css_class: str

    @classmethod
    def centered(cls, x: float, y: float, text: str, css_class: str, low: float, high: float) -> _Label:
        """Centre the label on ``x``, moved sideways as needed to stay between ``low`` and ``high``."""
        half = _text_width(text) / 2
        x = min(max(x, low + EDGE + half), high - EDGE - half)
        return cls(x, y, "middle", text, css_class)

    def box(self) -> _Box:
        width = _text_width(self.text)
        x0 = {"start": self.x, "middle": self.x - width / 2, "end": self.x - width}[self.anchor]
        return _Box(x0, self.y - ASCENT, x0 + width, self.y + DESCENT)

    def markup(self) -> SafeString:
        anchor = format_html(' text-anchor="{}"', self.anchor) if self.anchor != "start" else ""
        return format_html(
            '<text class="{}" x="{}" y="{}"{}>{}</text>', self.css_class, _n(self.x), _n(self.y), anchor, self.text
        )


def _best_label(
    candidates: list[_Label],
    placed: list[_Box],
    segments: list[tuple[tuple[float, float], tuple[float, float]]],
    width: float,
    height: float,
) -> _Label:
    """Pick the first candidate inside the viewBox with the fewest overlapping labels, then crossed lines."""
    best: tuple[tuple[int, int], _Label] | None = None
    for label in candidates:
        box = label.box()
        if not box.within(width, height):
            continue
        score = (
            sum(box.overlaps(other) for other in placed),
            sum(box.crossed_by(start, end) for start, end in segments),
        )
        if best is None or score < best[0]:
            best = (score, label)
    if best is not None:
        return best[1]
    # Nothing fits (a very long label): keep its start inside the viewBox.
    first = candidates[0]
    return _Label(max(first.box().x0, EDGE), first.y, "start", first.text, first.css_class)


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _clean(value: float) -> float:
    """Drop floating-point noise such as 0.30000000000000004."""
    return round(value, 9)


def _n(value: float) -> str:
    """A coordinate rounded to one decimal, without a trailing .0 or a negative zero."""
    text = f"{round(value, 1) + 0.0:.1f}"
    return text.removesuffix(".0")


def _points(coordinates: list[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in coordinates)


def _line(x1: float, y1: float, x2: float, y2: float, css_class: str = "") -> SafeString:
    class_attr = format_html(' class="{}"', css_class) if css_class else ""
    return format_html('<line{} x1="{}" y1="{}" x2="{}" y2="{}"/>', class_attr, _n(x1), _n(y1), _n(x2), _n(y2))


@dataclass(frozen=True)
class ObservedPoint:
    x: int  # minute offset from air start
    value: float | None  # None: the minute is known to be missing (CloudWatch did not answer)


def observed_chart(
    *,
    points: Sequence[ChartPoint],
    observed: Sequence[ObservedPoint],
    title: str,
    description: str,
    x_label: Callable[[int], str],
    y_unit: str,
    marker_x: int | None = 0,
    marker_label: str = "",
    now_x: int | None = None,
    width: int = 760,
    height: int = 300,
) -> SafeString:
    """Draw the forecast band and likely curve with the observed values over them, minute by minute.

    Observed minutes are joined into a line, broken where a minute is missing or absent; missing minutes are
    marked along the x axis (``chart-missing``) so "no data" never reads as zero. The x axis spans the forecast and
    the observed minutes; the y axis fits both. The style is ``band_chart``'s; raises ValueError without points.
    """
    if not points:
        raise ValueError("observed_chart needs at least one forecast point")
    points = sorted(points, key=lambda point: point.x)
    observed = sorted(observed, key=lambda point: point.x)
    values = [point.high for point in points] + [point.value for point in observed if point.value is not None]
    if not all(math.isfinite(value) for value in values):
        raise ValueError("observed_chart needs finite values")
    y_max, y_step = nice_scale(max(values))
    y_ticks = nice_ticks(y_max, y_step)
    y_tick_labels = [format_number(tick, 0 if tick == round(tick) else 1) for tick in y_ticks]
    xs = [point.x for point in points] + [point.x for point in observed]
    x_min, x_max = min(xs), max(xs)
    if x_min == x_max:
        x_min, x_max = x_min - SINGLE_POINT_SPAN, x_max + SINGLE_POINT_SPAN
    left = max(40.0, _text_width(max([*y_tick_labels, y_unit], key=len)) + 14)
    plot = _Box(left, 30.0, width - 24.0, height - 36.0)

    def sx(x: float) -> float:
        return plot.x0 + (x - x_min) / (x_max - x_min) * (plot.x1 - plot.x0)

    def sy(value: float) -> float:
        return plot.y1 - min(max(value, 0.0), y_max) / y_max * (plot.y1 - plot.y0)

    first_tick = -(-x_min // X_TICK_EVERY) * X_TICK_EVERY
    x_ticks = list(range(first_tick, x_max + 1, X_TICK_EVERY))
    if x_ticks:
        widest = max(_text_width(str(x_label(tick))) for tick in x_ticks)
        per_tick = X_TICK_EVERY / (x_max - x_min) * (plot.x1 - plot.x0)
        every = math.ceil((widest + 10) / per_tick) * X_TICK_EVERY
        x_ticks = [tick for tick in x_ticks if tick % every == 0]

    band = [(sx(point.x), sy(point.high)) for point in points] + [
        (sx(point.x), sy(point.low)) for point in reversed(points)
    ]
    likely = [(sx(point.x), sy(point.likely)) for point in points]
    runs: list[list[tuple[float, float]]] = []
    previous_x: int | None = None
    for point in observed:
        if point.value is None:
            previous_x = None
            continue
        if previous_x is None or point.x != previous_x + 1:
            runs.append([])
        runs[-1].append((sx(point.x), sy(point.value)))
        previous_x = point.x

    parts: list[SafeString] = [
        format_html(
            '<g class="chart-grid">{}</g>',
            format_html_join("", "{}", ((_line(plot.x0, sy(tick), plot.x1, sy(tick)),) for tick in y_ticks[1:])),
        ),
        format_html('<polygon class="chart-band" points="{}"/>', _points(band)),
        format_html('<polyline class="chart-likely" fill="none" points="{}"/>', _points(likely)),
    ]
    if marker_x is not None and x_min <= marker_x <= x_max:
        parts.append(_line(sx(marker_x), plot.y0, sx(marker_x), plot.y1, "chart-marker"))
        if marker_label:
            parts.append(_Label(sx(marker_x) + 5, plot.y0 - 8, "start", marker_label, "chart-label").markup())
    if now_x is not None and x_min <= now_x <= x_max:
        parts.append(_line(sx(now_x), plot.y0, sx(now_x), plot.y1, "chart-now"))
    for run in runs:
        if len(run) == 1:
            parts.append(format_html('<circle class="chart-observed-dot" cx="{}" cy="{}" r="2.5"/>', *map(_n, run[0])))
        else:
            parts.append(format_html('<polyline class="chart-observed" fill="none" points="{}"/>', _points(run)))
    missing = [point.x for point in observed if point.value is None]
    if missing:
        step = max((plot.x1 - plot.x0) / (x_max - x_min), 2.0)
        parts.append(
            format_html(
                '<g class="chart-missing">{}</g>',
                format_html_join(
                    "",
                    '<rect x="{}" y="{}" width="{}" height="{}"/>',
                    ((_n(sx(x) - step / 2), _n(plot.y1 - 6), _n(step), 6) for x in missing),
                ),
            )
        )
    axis = [_line(plot.x0, plot.y0, plot.x0, plot.y1), _line(plot.x0, plot.y1, plot.x1, plot.y1)]
    axis += [_line(sx(tick), plot.y1, sx(tick), plot.y1 + 4) for tick in x_ticks]
    parts.append(format_html('<g class="chart-axis">{}</g>', format_html_join("", "{}", ((line,) for line in axis))))
    labels = [
        _Label(plot.x0 - 8, sy(tick) + 4, "end", text, "chart-label chart-tick-y")
        for tick, text in zip(y_ticks, y_tick_labels, strict=True)
    ]
    labels += [_Label(sx(tick), plot.y1 + 18, "middle", str(x_label(tick)), "chart-label") for tick in x_ticks]
    if y_unit:
        labels.append(_Label(plot.x0 - 8, plot.y0 - 14, "end", y_unit, "chart-label chart-unit"))
    parts.extend(label.markup() for label in labels)
    body = format_html_join("", "{}", ((part,) for part in parts))
    chart_id = "observed-" + hashlib.sha256("\x00".join([title, description, str(body)]).encode()).hexdigest()[:12]
    return format_html(
        '<svg xmlns="{}" class="chart chart-live" viewBox="0 0 {} {}" preserveAspectRatio="xMidYMid meet" role="img"'
        ' aria-labelledby="{}-title {}-desc"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        SVG_NAMESPACE, width, height, chart_id, chart_id, chart_id, title, chart_id, description, body,
    )  # fmt: skip
