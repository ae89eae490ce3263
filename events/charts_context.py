"""Turn an event's forecast into the chart and the figures table of its page."""

from __future__ import annotations

from datetime import timedelta

from django.utils.formats import number_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from events.charts import ChartPoint, band_chart
from events.forecast import Forecast
from events.models import MediaEvent

TABLE_STEP_MINUTES = 5


def figure(value: float) -> str:
    return number_format(round(value), 0, use_l10n=True, force_grouping=True)


def forecast_chart_context(event: MediaEvent, forecast: Forecast) -> dict:
    """Return ``chart`` (origin requests/s: curve, band, peak, normal peak) and ``rows`` for the figures table."""

    def clock(minute: int) -> str:
        return localtime(event.air_start + timedelta(minutes=minute)).strftime("%H:%M")

    normal = float(event.stack.normal_peak_rps) or None
    peak = forecast.peak_origin_rps
    chart = band_chart(
        points=[
            ChartPoint(point.minute, point.origin_rps.low, point.origin_rps.likely, point.origin_rps.high)
            for point in forecast.points
        ],
        title=_("Forecast requests per second at the origin for “%(title)s”") % {"title": event.title},
        description=_(
            "Likely peak of %(peak)s requests per second at %(time)s, between %(low)s and %(high)s; "
            "normal peak %(normal)s."
        )
        % {
            "peak": figure(peak.value.likely),
            "time": clock(peak.minute),
            "low": figure(peak.value.low),
            "high": figure(peak.value.high),
            "normal": figure(normal or 0),
        },
        x_label=clock,
        y_unit=_("req/s"),
        reference=normal,
        reference_label=_("Normal peak %(value)s req/s") % {"value": figure(normal or 0)},
        marker_x=0,
        marker_label=_("Air"),
    )
    rows = [
        {
            "time": clock(point.minute),
            "visits": figure(point.visits_per_s.likely),
            "edge": figure(point.edge_rps.likely),
            "origin": figure(point.origin_rps.likely),
            "sessions": figure(point.sessions.likely),
        }
        for point in forecast.points
        if point.minute % TABLE_STEP_MINUTES == 0 or point.minute == peak.minute
    ]
    return {"chart": chart, "rows": rows}
