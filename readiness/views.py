from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.views.mixins import OrganizationMixin
from events.models import MediaEvent
from portal.exceptions import Conflict
from readiness import selectors, services
from readiness.models import Outcome, ReadinessRun


class RunStartView(OrganizationMixin, View):
    def post(self, request, org, pk):
        event = get_object_or_404(MediaEvent.objects.in_organization(self.organization), pk=pk)
        try:
            run = services.run_start(event=event, by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("event-detail", org=org, pk=pk)
        except PermissionDenied:
            raise
        messages.success(request, _("Readiness run started: %(count)d checks.") % {"count": run.total_checks})
        return redirect("readiness-run", org=org, pk=pk, run=run.pk)


class RunDetailView(OrganizationMixin, TemplateView):
    template_name = "readiness/run_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(
            ReadinessRun.objects.in_organization(self.organization).select_related("event", "requested_by"),
            pk=self.kwargs["run"],
            event_id=self.kwargs["pk"],
        )
        results = list(run.results.all())
        order = {Outcome.FAIL: 0, Outcome.ERROR: 1, Outcome.WARN: 2, Outcome.PENDING: 3, Outcome.PASS: 4}
        results.sort(key=lambda result: (order[result.outcome], result.category, result.title, result.target))
        context.update(
            event=run.event,
            run=run,
            results=results,
            progress=selectors.run_progress(run),
            changes=selectors.run_changes(run) if not run.is_running() else [],
            counts={outcome: sum(result.outcome == outcome for result in results) for outcome in Outcome.values},
        )
        return context
