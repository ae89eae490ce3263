"""The post-event report's pages: read (members once published), edit, regenerate, publish, PDF, calibration."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.views.mixins import OrganizationMixin
from events.models import MediaEvent
from portal.exceptions import Conflict
from reports import services
from reports.models import CalibrationSuggestion, EventReport
from reports.pdf import report_pdf
from reports.presentation import calibration_text, report_context


class ReportMixin(OrganizationMixin):
    """Find the event in the URL's organization, then its report as this user may see it.

    A foreign event is a 404 before anything else; clients see a report only once it is published.
    """

    def get_event(self) -> MediaEvent:
        return get_object_or_404(
            MediaEvent.objects.in_organization(self.organization).select_related("organization", "stack"),
            pk=self.kwargs["pk"],
        )

    def get_report(self, event: MediaEvent) -> EventReport | None:
        report = EventReport.objects.filter(event=event).first()
        if report is not None and (report.is_published() or self.request.user.is_engineer):
            return report
        return None

    def require_engineer(self) -> None:
        if not self.request.user.is_engineer:
            raise PermissionDenied


class ReportView(ReportMixin, TemplateView):
    template_name = "reports/report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = self.get_event()
        report = self.get_report(event)
        if report is None and not self.request.user.is_engineer:
            raise Http404
        suggestions = [
            {
                "suggestion": suggestion,
                "text": calibration_text(suggestion.parameter, suggestion.observed, suggestion.assumed),
            }
            for suggestion in CalibrationSuggestion.objects.filter(event=event).select_related("decided_by")
        ]
        context.update(
            event=event,
            report=report,
            can_edit=self.request.user.is_engineer,
            can_generate=services.report_due(event),
            suggestions=suggestions if self.request.user.is_engineer else [],
            **(report_context(report.figures) if report and report.figures else {}),
        )
        return context


class ReportPdfView(ReportMixin, View):
    def get(self, request, org, pk):
        event = self.get_event()
        report = self.get_report(event)
        if report is None:
            raise Http404
        response = HttpResponse(report_pdf(report), content_type="application/pdf")
        filename = f"report-{slugify(event.title) or event.pk}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ReportGenerateView(ReportMixin, View):
    def post(self, request, org, pk):
        event = self.get_event()
        self.require_engineer()
        if not services.report_due(event):
            messages.error(request, _("The report can be generated once the event has aired."))
        else:
            services.report_generate(event, by=request.user, reset_summary=request.POST.get("reset_summary") == "yes")
            messages.success(request, _("Report figures computed again from the observations."))
        return redirect("event-report", org=org, pk=pk)


class ReportSummaryView(ReportMixin, View):
    def post(self, request, org, pk):
        event = self.get_event()
        self.require_engineer()
        report = self.get_report(event)
        if report is None:
            raise Http404
        summary = request.POST.get("summary", "")
        if len(summary) > EventReport._meta.get_field("summary").max_length:
            messages.error(request, _("Summary: keep it under 20,000 characters."))
        else:
            services.report_summary_update(report=report, by=request.user, summary=summary)
            messages.success(request, _("Summary saved."))
        return redirect("event-report", org=org, pk=pk)


class ReportPublishView(ReportMixin, View):
    def post(self, request, org, pk):
        event = self.get_event()
        self.require_engineer()
        report = self.get_report(event)
        if report is None:
            raise Http404
        try:
            services.report_publish(report=report, by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Report published: the organization's members can read and download it."))
        return redirect("event-report", org=org, pk=pk)


class CalibrationDecideView(ReportMixin, View):
    def post(self, request, org, pk, suggestion, decision):
        event = self.get_event()
        calibration = get_object_or_404(
            CalibrationSuggestion.objects.in_organization(self.organization), pk=suggestion, event=event
        )
        self.require_engineer()
        if decision not in {"accept", "dismiss"}:
            raise Http404
        try:
            services.calibration_decide(suggestion=calibration, by=request.user, accept=decision == "accept")
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Calibration accepted: the next forecasts of this organization start from it.")
                if decision == "accept"
                else _("Calibration dismissed."),
            )
        return redirect("event-report", org=org, pk=pk)
