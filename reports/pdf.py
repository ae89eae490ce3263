"""Build the report's PDF with reportlab's platypus (text and tables) and reportlab.graphics (the chart)."""

from __future__ import annotations

import io
import re

from django.utils.html import escape
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.chart import forecast_observed_drawing
from reports.models import EventReport
from reports.presentation import chart_labels, report_context

TABLE_STYLE = TableStyle(
    [
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d5db")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f4f6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _table(rows: list[list[str]], widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def _summary_paragraphs(summary: str, style) -> list[Paragraph]:
    """Return the Markdown summary as plain escaped paragraphs (reportlab reads a small markup of its own)."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", summary or "") if block.strip()]
    return [Paragraph(escape(block).replace("\n", "<br/>"), style) for block in blocks]


def report_pdf(report: EventReport) -> bytes:
    """Return the report as PDF bytes: title, summary, the chart and every figure table."""
    event = report.event
    figures = report.figures or {}
    context = report_context(figures)
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("Event report: %(title)s") % {"title": event.title},
        author="Primetime",
    )
    story = [
        Paragraph(escape(_("Event report: %(title)s") % {"title": event.title}), styles["Title"]),
        Paragraph(
            escape(
                _("%(organization)s · air time %(start)s to %(end)s")
                % {
                    "organization": event.organization.name,
                    "start": localtime(event.air_start).strftime("%Y-%m-%d %H:%M"),
                    "end": localtime(event.air_end).strftime("%H:%M"),
                }
            ),
            styles["Normal"],
        ),
        Spacer(1, 4 * mm),
        Paragraph(escape(_("Summary")), styles["Heading2"]),
        *_summary_paragraphs(report.summary, styles["Normal"]),
        Paragraph(escape(_("Forecast against observed")), styles["Heading2"]),
        forecast_observed_drawing(figures.get("series") or [], labels=chart_labels()),
        Spacer(1, 3 * mm),
        _table(
            [[_("Figure"), _("Forecast"), _("Observed"), _("Observed / forecast")]]
            + [[row["label"], row["forecast"], row["observed"], row["ratio"]] for row in context["comparison"]]
        ),
        Paragraph(escape(_("Availability during the air window")), styles["Heading2"]),
        _table([[_("Figure"), _("Value")]] + [[row["label"], row["value"]] for row in context["availability_rows"]]),
        Paragraph(escape(_("Capacity and cost")), styles["Heading2"]),
        _table([[_("Figure"), _("Value")]] + [[row["label"], row["value"]] for row in context["capacity_rows"]]),
    ]
    if context["resources"]:
        story += [
            Spacer(1, 3 * mm),
            _table(
                [[_("Resource"), _("Units at target"), _("Capacity (req/s)"), _("Used at peak")]]
                + [[row["name"], row["units"], row["capacity"], row["used"]] for row in context["resources"]]
            ),
        ]
    story.append(Paragraph(escape(_("Incidents")), styles["Heading2"]))
    if context["incidents"]:
        story.append(
            _table(
                [[_("Incident"), _("Impact"), _("Started"), _("Resolved")]]
                + [[row["name"], row["impact"], row["started"], row["resolved"]] for row in context["incidents"]]
            )
        )
    else:
        story.append(Paragraph(escape(_("No incident during the event.")), styles["Normal"]))
    story.append(Paragraph(escape(_("Actions taken")), styles["Heading2"]))
    if context["actions"]:
        story.append(
            _table(
                [[_("When"), _("Action"), _("Resource"), _("Result")]]
                + [
                    [
                        row["when"],
                        row["operation"],
                        Paragraph(escape(row["resource"][-80:]), styles["Normal"]),
                        row["result"],
                    ]
                    for row in context["actions"]
                ],
                widths=[28 * mm, 40 * mm, 78 * mm, 20 * mm],
            )
        )
    else:
        story.append(Paragraph(escape(_("No scaling action was recorded.")), styles["Normal"]))
    if context["executions"]:
        story.append(
            _table([[_("Runbook"), _("Status")]] + [[row["title"], row["status"]] for row in context["executions"]])
        )
    document.build(story)
    return buffer.getvalue()
