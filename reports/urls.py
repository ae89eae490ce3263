"""The post-event report's pages, under /o/<org>/events/<pk>/report/."""

from __future__ import annotations

from django.urls import path

from reports import views

urlpatterns = [
    # Not "": portal/urls.py's events/<pk>/<slug:name>/ transition catch-all comes first and would take it.
    path("", views.ReportView.as_view(), name="event-report"),
    path("report.pdf", views.ReportPdfView.as_view(), name="event-report-pdf"),
    path("generate/", views.ReportGenerateView.as_view(), name="event-report-generate"),
    path("summary/", views.ReportSummaryView.as_view(), name="event-report-summary"),
    path("publish/", views.ReportPublishView.as_view(), name="event-report-publish"),
    path(
        "calibration/<int:suggestion>/<slug:decision>/",
        views.CalibrationDecideView.as_view(),
        name="event-report-calibration",
    ),
]
