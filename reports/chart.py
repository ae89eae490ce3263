"""Draw the report's forecast-against-observed chart once, with reportlab.graphics, for the PDF and the page (SVG).

events/charts.py draws one band and cannot lay a second series over it; this chart shows the forecast's
likely origin req/s with its low–high band, and the observed origin req/s, from the report's stored series.
Missing minutes break the observed line rather than dropping it to zero.
"""

from __future__ import annotations

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Line, Polygon, PolyLine, String
from reportlab.lib import colors

from events.charts import nice_scale, nice_ticks

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 28
FORECAST = colors.HexColor("#2563eb")
BAND = colors.HexColor("#dbeafe")
OBSERVED = colors.HexColor("#dc2626")
GRID = colors.HexColor("#e5e7eb")
INK = colors.HexColor("#374151")


def forecast_observed_drawing(series: list[list], *, labels: dict[str, str]) -> Drawing:
    """Return a Drawing of ``series`` rows [minute, low, likely, high, observed or None].

    ``labels`` gives the translated legend texts "forecast", "observed" and "unit", and "minutes" for the x axis.
    """
    drawing = Drawing(WIDTH, HEIGHT)
    if not series:
        drawing.add(String(WIDTH / 2, HEIGHT / 2, labels.get("empty", ""), textAnchor="middle", fillColor=INK))
        return drawing
    values = [value for row in series for value in (row[3], row[4]) if value is not None]
    y_max, step = nice_scale(max(values) if values else 1.0)
    x_min, x_max = series[0][0], series[-1][0]
    if x_min == x_max:
        x_max = x_min + 1
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, BOTTOM, HEIGHT - TOP

    def sx(minute: float) -> float:
        return x0 + (minute - x_min) / (x_max - x_min) * (x1 - x0)

    def sy(value: float) -> float:
        return y0 + min(max(value, 0.0), y_max) / y_max * (y1 - y0)

    for tick in nice_ticks(y_max, step):
        drawing.add(Line(x0, sy(tick), x1, sy(tick), strokeColor=GRID, strokeWidth=0.5))
        drawing.add(String(x0 - 4, sy(tick) - 3, f"{tick:g}", fontSize=7, textAnchor="end", fillColor=INK))
    for minute in range(x_min - x_min % 30 + (30 if x_min % 30 else 0), x_max + 1, 30):
        drawing.add(Line(sx(minute), y0, sx(minute), y0 - 3, strokeColor=INK, strokeWidth=0.5))
        drawing.add(String(sx(minute), y0 - 12, f"{minute:+d}", fontSize=7, textAnchor="middle", fillColor=INK))
    drawing.add(String(x1, 4, labels.get("minutes", ""), fontSize=7, textAnchor="end", fillColor=INK))
    drawing.add(String(x0, HEIGHT - 10, labels.get("unit", ""), fontSize=7, textAnchor="end", fillColor=INK))

    band = [coordinate for row in series for coordinate in (sx(row[0]), sy(row[3]))]
    band += [coordinate for row in reversed(series) for coordinate in (sx(row[0]), sy(row[1]))]
    drawing.add(Polygon(band, fillColor=BAND, strokeColor=None))
    if x_min <= 0 <= x_max:
        drawing.add(Line(sx(0), y0, sx(0), y1, strokeColor=INK, strokeWidth=0.5, strokeDashArray=[2, 2]))
    likely = [coordinate for row in series for coordinate in (sx(row[0]), sy(row[2]))]
    drawing.add(PolyLine(likely, strokeColor=FORECAST, strokeWidth=1.2))
    run: list[float] = []
    for row in [*series, [None, None, None, None, None]]:
        if row[4] is None:
            _add_run(drawing, run)
            run = []
        else:
            run += [sx(row[0]), sy(row[4])]

    # Legend.
    drawing.add(Line(x0 + 8, y1 + 6, x0 + 22, y1 + 6, strokeColor=FORECAST, strokeWidth=1.2))
    drawing.add(String(x0 + 26, y1 + 3, labels.get("forecast", ""), fontSize=7, fillColor=INK))
    drawing.add(Line(x0 + 130, y1 + 6, x0 + 144, y1 + 6, strokeColor=OBSERVED, strokeWidth=1.6))
    drawing.add(String(x0 + 148, y1 + 3, labels.get("observed", ""), fontSize=7, fillColor=INK))
    return drawing


def _add_run(drawing: Drawing, run: list[float]) -> None:
    if len(run) >= 4:
        drawing.add(PolyLine(run, strokeColor=OBSERVED, strokeWidth=1.6))
    elif len(run) == 2:  # a lone minute between gaps: a short tick, so it stays visible
        drawing.add(Line(run[0] - 1, run[1], run[0] + 1, run[1], strokeColor=OBSERVED, strokeWidth=1.6))


def forecast_observed_svg(series: list[list], *, labels: dict[str, str]) -> str:
    """Return the chart as SVG markup (numbers and the given labels only; reportlab escapes text)."""
    svg = renderSVG.drawToString(forecast_observed_drawing(series, labels=labels))
    # Drop the XML prologue and doctype so the markup can sit inside HTML.
    return svg[svg.index("<svg") :]
