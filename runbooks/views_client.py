"""What a client reads: the runbook executions that concern its own organization, read-only."""

from __future__ import annotations

from django.views.generic import DetailView, ListView

from accounts.views.mixins import OrganizationMixin
from runbooks import selectors


class ClientExecutionListView(OrganizationMixin, ListView):
    template_name = "runbooks/client_execution_list.html"
    context_object_name = "executions"
    paginate_by = 50

    def get_queryset(self):
        return selectors.executions_for(user=self.request.user, organization=self.organization)


class ClientExecutionDetailView(OrganizationMixin, DetailView):
    template_name = "runbooks/client_execution_detail.html"
    context_object_name = "execution"

    def get_queryset(self):
        return selectors.executions_for(user=self.request.user, organization=self.organization)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            rows=selectors.execution_steps(execution=self.object),
            log=self.object.entries.select_related("actor", "step"),
            **kwargs,
        )
