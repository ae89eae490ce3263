"""The server-rendered forecast chart: valid, accessible, escaped, deterministic SVG with nice axes."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from events.charts import BandChart, ChartPoint, band_chart, format_number, nice_scale, nice_ticks

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def clock(minute: int) -> str:
    total = 21 * 60 + 10 + minute
    return f"{total // 60 % 24:02d}:{total % 60:02d}"


def tv_spot(scale: float = 1.0) -> list[ChartPoint]:
    """A baseline, a sharp rise at air start and a decay: the usual shape of a forecast."""
    points = []
    for minute in range(-30, 241):
        likely = 20 + (3412 * (minute / 2) * math.exp(1 - minute / 2) if minute >= 0 else 0)
        points.append(ChartPoint(minute, likely * 0.6 * scale, likely * scale, likely * 1.5 * scale))
    return points


def chart_for(points: list[ChartPoint], **overrides) -> BandChart:
    arguments = {
        "points": points,
        "title": "Forecast origin requests per second",
        "description": "Likely peak of 3,432 requests per second at 21:12.",
        "x_label": clock,
        "y_unit": "req/s",
        "reference": 40.0,
        "reference_label": "Normal peak 40 req/s",
        "marker_label": "Air",
    }
    return band_chart(**(arguments | overrides))


def parse(chart: BandChart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 -- our own output, no DTD, no entities


def texts(root: ET.Element, css_class: str) -> list[str]:
    return [
        "".join(element.itertext())
        for element in root.iter(f"{SVG}text")
        if css_class in element.get("class", "").split()
    ]


def by_class(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [element for element in root.iter() if css_class in element.get("class", "").split()]


def in_viewbox(root: ET.Element, x: float, y: float) -> bool:
    _, _, width, height = (float(value) for value in root.get("viewBox").split())
    return 0 <= x <= width and 0 <= y <= height


def test_svg_parses_with_the_svg_namespace_and_is_an_accessible_image():
    chart = chart_for(tv_spot())
    root = parse(chart)

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert root.get("viewBox") == "0 0 760 300"
    assert "chart" in root.get("class").split()
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title.text == "Forecast origin requests per second"
    assert desc.text == "Likely peak of 3,432 requests per second at 21:12."
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.get("id") != desc.get("id")


def test_every_part_is_drawn_with_its_class():
    root = parse(chart_for(tv_spot()))

    for css_class in ("chart-band", "chart-likely", "chart-peak", "chart-reference", "chart-marker"):
        assert by_class(root, css_class), css_class
    assert by_class(root, "chart-grid")[0].findall("svg:line", NS)
    assert len(by_class(root, "chart-axis")[0].findall("svg:line", NS)) >= 2
    assert texts(root, "chart-reference-label") == ["Normal peak 40 req/s"]
    assert texts(root, "chart-marker-label") == ["Air"]
    assert all("chart-label" in text.get("class").split() for text in root.iter(f"{SVG}text"))


def test_the_likely_polyline_has_one_vertex_per_point_and_the_band_two():
    points = tv_spot()
    root = parse(chart_for(points))

    (polyline,) = root.findall("svg:polyline", NS)
    assert polyline.get("class") == "chart-likely"
    assert len(polyline.get("points").split()) == len(points)
    (polygon,) = root.findall("svg:polygon", NS)
    assert len(polygon.get("points").split()) == 2 * len(points)


def test_coordinates_are_rounded_to_one_decimal():
    root = parse(chart_for(tv_spot()))

    (polyline,) = root.findall("svg:polyline", NS)
    for vertex in polyline.get("points").split():
        for coordinate in vertex.split(","):
            assert len(coordinate.partition(".")[2]) <= 1, coordinate


def test_the_peak_is_annotated_with_its_formatted_value_unit_and_time():
    points = tv_spot()
    chart = chart_for(points)
    root = parse(chart)

    peak = max(points, key=lambda point: point.likely)
    assert (chart.peak_x, chart.peak_value) == (peak.x, peak.likely)
    (label,) = texts(root, "chart-peak-label")
    assert label == f"Peak {format_number(peak.likely)} req/s at {clock(peak.x)}"
    assert label == "Peak 3,432 req/s at 21:12"
    (circle,) = root.findall("svg:circle", NS)
    assert circle.get("class") == "chart-peak"


def test_numbers_have_at_most_one_decimal_and_group_thousands():
    assert format_number(3412.4) == "3,412"
    assert format_number(34.32) == "34.3"
    assert format_number(12.0) == "12"
    assert format_number(0.04) == "0"
    assert format_number(-0.04) == "0"
    assert format_number(1_029_600) == "1,029,600"
    assert format_number(2.5, 1) == "2.5"


@pytest.mark.parametrize(
    "points",
    [
        pytest.param(tv_spot(), id="tv-spot"),
        pytest.param([ChartPoint(minute, 0, 0, 0) for minute in range(-30, 241)], id="all-zero"),
        pytest.param([ChartPoint(5, 10, 12, 15)], id="single-point"),
        pytest.param(tv_spot(scale=300), id="a-million"),
        pytest.param([ChartPoint(minute, 30, 35, 50) for minute in range(-30, 241)], id="flat"),
    ],
)
def test_every_label_and_the_peak_stay_inside_the_viewbox(points):
    root = parse(chart_for(points))

    for text in root.iter(f"{SVG}text"):
        assert in_viewbox(root, float(text.get("x")), float(text.get("y"))), "".join(text.itertext())
    (circle,) = root.findall("svg:circle", NS)
    assert in_viewbox(root, float(circle.get("cx")), float(circle.get("cy")))
    (peak_label,) = by_class(root, "chart-peak-label")
    length = len("".join(peak_label.itertext())) * 7
    x, anchor = float(peak_label.get("x")), peak_label.get("text-anchor", "start")
    left = {"start": x, "middle": x - length / 2, "end": x - length}[anchor]
    assert left >= 0
    assert left + length <= 760


def test_user_text_is_escaped_everywhere():
    chart = chart_for(
        tv_spot(),
        title=f"Forecast for {XSS}",
        description=f"Peak {XSS} & more",
        x_label=lambda minute: XSS,
        y_unit=XSS,
        reference_label=XSS,
        marker_label=XSS,
    )

    assert "<script" not in str(chart.svg)
    root = parse(chart)
    assert not list(root.iter("script"))
    assert not list(root.iter(f"{SVG}script"))
    assert root.find("svg:title", NS).text == f"Forecast for {XSS}"
    assert root.find("svg:desc", NS).text == f"Peak {XSS} & more"
    assert texts(root, "chart-reference-label") == [XSS]
    assert XSS in texts(root, "chart-tick-x")


def test_a_reference_above_the_data_raises_the_axis_above_it():
    points = [ChartPoint(point.x, point.low / 100, point.likely / 100, point.high / 100) for point in tv_spot()]
    chart = chart_for(points, reference=80.0, reference_label="Normal peak 80 req/s")

    assert max(point.high for point in points) < 80
    assert chart.y_max > 80
    root = parse(chart)
    (line,) = by_class(root, "chart-reference")
    assert float(line.get("y1")) > 30  # below the top of the plot area


def test_all_zero_data_gets_a_minimal_axis():
    chart = chart_for([ChartPoint(minute, 0, 0, 0) for minute in range(-30, 241)], reference=None)

    assert chart.y_max == 1
    assert chart.peak_value == 0
    assert chart.peak_x == -30
    root = parse(chart)
    assert texts(root, "chart-tick-y") == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    assert not by_class(root, "chart-reference")


def test_a_single_point_and_negative_minutes():
    chart = chart_for([ChartPoint(-20, 10, 12, 15)], reference=None)
    root = parse(chart)

    (polyline,) = root.findall("svg:polyline", NS)
    assert len(polyline.get("points").split()) == 1
    assert chart.peak_x == -20
    assert texts(root, "chart-tick-x") == [clock(-30), clock(0)]


def test_x_ticks_fall_on_multiples_of_30_minutes():
    seen: list[int] = []

    def label(minute: int) -> str:
        seen.append(minute)
        return clock(minute)

    root = parse(chart_for(tv_spot(), x_label=label))

    assert texts(root, "chart-tick-x") == [clock(minute) for minute in range(-30, 241, 30)]
    assert all(minute % 30 == 0 for minute in seen[:-1])  # the last call labels the peak


def test_very_large_values():
    chart = chart_for(tv_spot(scale=300))
    root = parse(chart)

    assert chart.y_max == 2_000_000
    assert texts(root, "chart-tick-y")[-1] == "2,000,000"
    assert texts(root, "chart-peak-label") == ["Peak 1,029,600 req/s at 21:12"]


def test_the_marker_is_left_out_when_outside_the_x_axis():
    root = parse(chart_for([ChartPoint(minute, 1, 2, 3) for minute in range(10, 60)], marker_x=0))

    assert not by_class(root, "chart-marker")
    assert not texts(root, "chart-marker-label")


def test_output_is_deterministic_and_ids_differ_between_charts():
    first, again = chart_for(tv_spot()), chart_for(tv_spot())
    other = chart_for(tv_spot(), title="Forecast visits per second")

    assert first == again
    assert str(first.svg) == str(again.svg)
    first_id = parse(first).find("svg:title", NS).get("id")
    other_id = parse(other).find("svg:title", NS).get("id")
    assert first_id != other_id


@pytest.mark.parametrize(
    "value", [0, 0.3, 0.96, 1, 2.4, 7, 40, 99, 100, 105, 3412, 5148, 12_345, 999_999, 1e6, 1.55e6, 3e9]
)
def test_y_ticks_are_nice_numbers(value):
    y_max, step = nice_scale(value)
    ticks = nice_ticks(y_max, step)

    assert y_max > value
    assert 4 <= len(ticks) <= 6
    assert ticks[0] == 0
    assert ticks[-1] == y_max
    exponent = math.floor(math.log10(step))
    assert round(step / 10**exponent, 6) in {1, 2, 2.5, 5}
    for tick in ticks:
        assert math.isclose(tick / step, round(tick / step))
        assert math.isclose(tick * 10, round(tick * 10))  # at most one decimal


def test_the_y_tick_labels_in_the_svg_are_the_nice_ticks():
    chart = chart_for(tv_spot())
    root = parse(chart)

    assert chart.y_max == 6000
    assert texts(root, "chart-tick-y") == ["0", "2,000", "4,000", "6,000"]


@pytest.mark.parametrize(
    ("points", "reference"),
    [
        pytest.param([], 40.0, id="no-points"),
        pytest.param([ChartPoint(0, 1, math.nan, 3)], 40.0, id="nan"),
        pytest.param(tv_spot(), math.inf, id="infinite-reference"),
    ],
)
def test_invalid_input_is_refused(points, reference):
    with pytest.raises(ValueError, match="band_chart needs"):
        chart_for(points, reference=reference)


def test_the_include_renders_the_figure_caption_and_escaped_figures_table():
    chart = chart_for(tv_spot(), title=f"Forecast for {XSS}")
    rows = [
        {"time": "21:10", "visits": "1,200", "edge": "3,400", "origin": "3,412", "sessions": "1,500"},
        {"time": XSS, "visits": "1", "edge": "2", "origin": "3", "sessions": "4"},
    ]

    html = render_to_string("events/_forecast_chart.html", {"chart": chart, "rows": rows})

    assert '<figure class="chart-figure">' in html
    assert str(chart.svg) in html
    assert "<figcaption>Likely curve with the low–high band; dashed: the stack" in html
    assert "<summary>Show the figures</summary>" in html
    for header in ("Time", "Visits/s", "Edge req/s", "Origin req/s", "Sessions"):
        assert f'<th scope="col">{header}</th>' in html
    assert "<td>3,412</td>" in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
