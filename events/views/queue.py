from __future__ import annotations

from django.utils import timezone
from django.views.generic import ListView

from accounts.views.mixins import EngineerRequiredMixin
from events import selectors
from events.calendar import calendar_url
from events.risk import event_risk

FILTERS = ("mine", "unassigned", "week")


class QueueView(EngineerRequiredMixin, ListView):
    """Every organization's events ahead, by air time, with time left, status, engineer and risk."""

    template_name = "events/queue.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        self.now = timezone.now()
        self.active = {name for name in FILTERS if self.request.GET.get(name)}
        return selectors.event_queue(
            user=self.request.user,
            now=self.now,
            mine="mine" in self.active,
            unassigned="unassigned" in self.active,
            this_week="week" in self.active,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            now=self.now,
            active_filters=self.active,
            rows=[(event, event_risk(event, now=self.now)) for event in context["events"]],
            calendar_url=self.request.build_absolute_uri(calendar_url(self.request.user)),
            engineers=list(selectors.engineers()),
        )
        return context
