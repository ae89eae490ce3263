"""Turn a report's stored figures into the translated rows the page and the PDF both show."""

from __future__ import annotations

from datetime import datetime

from django.utils.formats import date_format, number_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from reports.chart import forecast_observed_svg
from scaling.models import ScalingAction


def result_label(result: str) -> str:
    """Return how an audit row's result reads ("Found in place on AWS"), or the stored code when unknown."""
    return str(dict(ScalingAction.Result.choices).get(result, result))


def number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return _("unknown")
    return number_format(round(value, decimals), decimals, use_l10n=True, force_grouping=True)


def percent(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return _("unknown")
    return f"{number(value * 100, decimals)} %"


def minutes(value: int | None) -> str:
    if value is None:
        return _("unknown")
    return _("%(count)s min after air start") % {"count": value}


def clock(value: str | None) -> str:
    if not value:
        return "—"
    # The portal's date style ("26 Nov 2026, 18:51"), in the active (the organization's) time zone and language.
    return date_format(localtime(datetime.fromisoformat(value)), "j M Y, H:i")


def comparison_rows(figures: dict) -> list[dict]:
    """Return forecast against observed, one row per figure, with the observed/forecast ratio."""
    rows = []
    for key, label, formatter in (
        ("origin_peak", _("Peak requests/s at the origin"), number),
        ("edge_peak", _("Peak requests/s at the edge (CDN)"), number),
        ("time_to_peak", _("Time to peak"), minutes),
        ("visits", _("Total visits"), number),
        ("origin_requests", _("Origin requests, minutes with data"), number),
    ):
        figure = figures.get(key) or {}
        rows.append(
            {
                "label": label,
                "forecast": formatter(figure.get("forecast")),
                "observed": formatter(figure.get("observed")),
                "ratio": number(figure.get("ratio"), 2) if figure.get("ratio") is not None else "—",
            }
        )
    return rows


def availability_rows(figures: dict) -> list[dict]:
    availability = figures.get("availability") or {}
    return [
        {"label": _("Minutes in the air window"), "value": number(availability.get("window_minutes"))},
        {"label": _("Minutes up"), "value": number(availability.get("up"))},
        {"label": _("Minutes down (5xx over the threshold)"), "value": number(availability.get("down"))},
        {"label": _("Minutes without data (unknown)"), "value": number(availability.get("unknown"))},
        {"label": _("Availability, minutes with data"), "value": percent(availability.get("availability"), 2)},
        {"label": _("Availability, unknown counted as down"), "value": percent(availability.get("worst_case"), 2)},
        {"label": _("Error rate (5xx / requests)"), "value": percent(availability.get("error_rate"), 2)},
    ]


def capacity_rows(figures: dict) -> list[dict]:
    capacity = figures.get("capacity") or {}
    plan = figures.get("plan")
    return [
        {"label": _("Capacity reserved at the origin (req/s)"), "value": number(capacity.get("reserved_rps"))},
        {"label": _("Peak observed at the origin (req/s)"), "value": number(capacity.get("peak_rps"))},
        {"label": _("Share of the reserved capacity used"), "value": percent(capacity.get("used"))},
        {
            "label": _("Estimated cost of the extra capacity"),
            "value": f"{number(plan.get('estimated_cost_eur'), 2)} €"
            if plan and plan.get("estimated_cost_eur") is not None
            else _("no plan applied"),
        },
    ]


def chart_labels() -> dict[str, str]:
    return {
        "forecast": _("Forecast (likely, with band)"),
        "observed": _("Observed"),
        "unit": _("req/s"),
        "minutes": _("minutes from air start"),
        "empty": _("No data"),
    }


def calibration_text(parameter: str, observed: float, assumed: float) -> str:
    if parameter == "visit_rate":
        # Translators: e.g. "visit rate observed 1.4 % vs 2 % assumed".
        return _("visit rate observed %(observed)s %% vs %(assumed)s %% assumed") % {
            "observed": number(observed * 100, 2),
            "assumed": number(assumed * 100, 2),
        }
    return _("%(parameter)s observed %(observed)s vs %(assumed)s assumed") % {
        "parameter": parameter,
        "observed": number(observed, 3),
        "assumed": number(assumed, 3),
    }


def report_context(figures: dict) -> dict:
    """Return everything both outputs show, formatted for the active language and time zone."""
    return {
        "comparison": comparison_rows(figures),
        "availability_rows": availability_rows(figures),
        "capacity_rows": capacity_rows(figures),
        "resources": [
            {
                "name": resource["name"],
                "kind": resource["kind"],
                "units": number(resource["units"]),
                "capacity": number(resource["capacity_rps"]),
                "used": percent(resource["used"]),
            }
            for resource in (figures.get("capacity") or {}).get("resources", [])
        ],
        "incidents": [
            {**incident, "started": clock(incident["started_at"]), "resolved": clock(incident["resolved_at"])}
            for incident in figures.get("incidents", [])
        ],
        "actions": [
            {**action, "when": clock(action["at"]), "result": result_label(action["result"])}
            for action in figures.get("actions", [])
        ],
        "executions": figures.get("executions"),
        "chart_svg": forecast_observed_svg(figures.get("series") or [], labels=chart_labels()),
        "threshold": percent((figures.get("availability") or {}).get("threshold"), 0),
    }
