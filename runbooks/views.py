"""Engineer pages: the runbook library, its versions and diffs, and the executions engineers follow."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from accounts.views.mixins import EngineerRequiredMixin
from portal.exceptions import Conflict
from portal.forms import add_service_errors
from runbooks import selectors, services
from runbooks.forms import ExecutionStartForm, HandoverForm, RunbookForm, StepFormSet
from runbooks.models import AutomatedRun, Runbook, RunbookExecution, RunbookStep


class RunbookListView(EngineerRequiredMixin, ListView):
    template_name = "runbooks/runbook_list.html"
    context_object_name = "runbooks"

    def get_queryset(self):
        return Runbook.objects.order_by("phase", "title")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            running=selectors.executions_for(user=self.request.user).filter(status=RunbookExecution.Status.RUNNING),
            **kwargs,
        )


class RunbookEditView(EngineerRequiredMixin, TemplateView):
    """Create a runbook, or edit one: saving an edit makes a new version."""

    template_name = "runbooks/runbook_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.runbook = get_object_or_404(Runbook, pk=kwargs["pk"]) if "pk" in kwargs else None
        return super().dispatch(request, *args, **kwargs)

    def _initial(self):
        if self.runbook is None:
            return {"active": True}, []
        version = self.runbook.current_version
        header = {
            "title": self.runbook.title,
            "phase": self.runbook.phase,
            "resource_kind": self.runbook.resource_kind,
            "active": self.runbook.active,
            "intro": version.intro if version else "",
        }
        steps = [
            {field: getattr(step, field) for field in services.STEP_FIELDS}
            for step in (version.steps.order_by("position") if version else [])
        ]
        return header, steps

    def get(self, request, *args, **kwargs):
        header, steps = self._initial()
        form = RunbookForm(initial=header)
        formset = StepFormSet(initial=steps, prefix="steps")
        return self.render_to_response(self.get_context_data(form=form, formset=formset, runbook=self.runbook))

    def post(self, request, *args, **kwargs):
        form = RunbookForm(request.POST)
        formset = StepFormSet(request.POST, prefix="steps")
        if form.is_valid() and formset.is_valid():
            steps = [
                step.cleaned_data
                for step in formset.forms
                if step.has_changed() and step.cleaned_data and not step.cleaned_data.get("DELETE")
            ]
            try:
                if self.runbook is None:
                    runbook = services.runbook_create(by=request.user, steps=steps, **form.cleaned_data)
                    messages.success(request, _("Runbook created."))
                else:
                    version = services.runbook_edit(
                        runbook=self.runbook, by=request.user, steps=steps, **form.cleaned_data
                    )
                    runbook = version.runbook
                    messages.success(request, _("Saved as version %(n)d.") % {"n": version.number})
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("runbook-detail", pk=runbook.pk)
        context = self.get_context_data(form=form, formset=formset, runbook=self.runbook)
        return self.render_to_response(context, status=400)


class RunbookDetailView(EngineerRequiredMixin, DetailView):
    model = Runbook
    template_name = "runbooks/runbook_detail.html"

    def get_context_data(self, **kwargs):
        runbook = self.object
        requested = self.request.GET.get("version")
        versions = runbook.versions.select_related("author")
        version = versions.filter(number=requested).first() if requested else None
        version = version or versions.order_by("-number").first()
        return super().get_context_data(
            version=version,
            steps=version.steps.order_by("position") if version else [],
            start_form=ExecutionStartForm(initial={"event": self.request.GET.get("event")}),
            executions=RunbookExecution.objects.filter(version__runbook=runbook).select_related(
                "event", "incident", "assignee", "version"
            )[:20],
            **kwargs,
        )


class RunbookHistoryView(EngineerRequiredMixin, DetailView):
    """Every version, and the diff between two of them (the last two unless chosen)."""

    model = Runbook
    template_name = "runbooks/runbook_history.html"

    def get_context_data(self, **kwargs):
        versions = list(self.object.versions.select_related("author").order_by("-number"))
        by_number = {version.number: version for version in versions}
        old = new = None
        try:
            old = by_number.get(int(self.request.GET.get("from", "")))
            new = by_number.get(int(self.request.GET.get("to", "")))
        except ValueError:
            pass
        if (old is None or new is None) and len(versions) >= 2:
            new, old = versions[0], versions[1]
        diff = selectors.version_diff(old=old, new=new) if old and new else []
        return super().get_context_data(versions=versions, old=old, new=new, diff=diff, **kwargs)


class ExecutionStartView(EngineerRequiredMixin, View):
    def post(self, request, pk):
        runbook = get_object_or_404(Runbook, pk=pk)
        form = ExecutionStartForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the event this runbook is run for."))
            return redirect("runbook-detail", pk=pk)
        execution = services.execution_start(
            version=runbook.current_version, event=form.cleaned_data["event"], by=request.user
        )
        return redirect("runbook-execution", pk=execution.pk)


class ExecutionView(EngineerRequiredMixin, DetailView):
    template_name = "runbooks/execution_detail.html"
    context_object_name = "execution"

    def get_queryset(self):
        return selectors.executions_for(user=self.request.user)

    def get_context_data(self, **kwargs):
        # The event's air time and the log read in the organization's time zone, as on its event page (this page
        # is not under /o/<org>/, so OrganizationMixin does not activate it; without this they showed UTC).
        timezone.activate(self.object.organization.timezone)
        rows = selectors.execution_steps(execution=self.object)
        return super().get_context_data(
            rows=rows,
            log=self.object.entries.select_related("actor", "step"),
            live=any(row.run is not None and row.run.is_live() for row in rows),
            handover_form=HandoverForm(),
            editable=self.object.is_running(),
            skip_errors=self.request.session.pop("runbook-skip-errors", {}),
            now=timezone.now(),
            **kwargs,
        )


class StepActionView(EngineerRequiredMixin, View):
    """Tick, skip or run one step of a running execution."""

    def post(self, request, pk, step, action):
        execution = get_object_or_404(selectors.executions_for(user=request.user), pk=pk)
        runbook_step = get_object_or_404(RunbookStep, pk=step, version_id=execution.version_id)
        try:
            if action == "done":
                services.step_complete(
                    execution=execution, step=runbook_step, by=request.user, note=request.POST.get("note", "")
                )
            elif action == "skip":
                services.step_skip(
                    execution=execution, step=runbook_step, by=request.user, reason=request.POST.get("reason", "")
                )
            elif action == "run":
                run = services.automated_step_run(execution=execution, step=runbook_step, by=request.user)
                if run.status == AutomatedRun.Status.FAILED:
                    messages.error(request, run.output)
            else:
                messages.error(request, _("Unknown action."))
        except ValidationError as error:
            # Shown beside the step's reason field, named, on the page we go back to.
            request.session["runbook-skip-errors"] = {str(runbook_step.pk): " ".join(error.messages)}
            messages.error(request, " ".join(error.messages))
        except Conflict as error:
            messages.error(request, error.message)
        return redirect(f"{execution_url(execution)}#step-{runbook_step.position}")


def execution_url(execution: RunbookExecution) -> str:
    from django.urls import reverse

    return reverse("runbook-execution", kwargs={"pk": execution.pk})


class ExecutionNoteView(EngineerRequiredMixin, View):
    def post(self, request, pk):
        execution = get_object_or_404(selectors.executions_for(user=request.user), pk=pk)
        try:
            services.execution_note(execution=execution, by=request.user, note=request.POST.get("note", ""))
        except (ValidationError, Conflict) as error:
            messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
        return redirect("runbook-execution", pk=pk)


class ExecutionHandoverView(EngineerRequiredMixin, View):
    def post(self, request, pk):
        execution = get_object_or_404(selectors.executions_for(user=request.user), pk=pk)
        form = HandoverForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the engineer who takes over."))
            return redirect("runbook-execution", pk=pk)
        try:
            services.execution_handover(
                execution=execution, to=form.cleaned_data["assignee"], by=request.user, note=form.cleaned_data["note"]
            )
        except (ValidationError, Conflict) as error:
            messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
        else:
            messages.success(
                request, _("Handed over to %(name)s.") % {"name": form.cleaned_data["assignee"].display_name}
            )
        return redirect("runbook-execution", pk=pk)


class ExecutionCloseView(EngineerRequiredMixin, View):
    def post(self, request, pk, status):
        execution = get_object_or_404(selectors.executions_for(user=request.user), pk=pk)
        try:
            execution = services.execution_close(
                execution=execution, by=request.user, status=status, note=request.POST.get("note", "")
            )
        except (ValidationError, Conflict) as error:
            messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
        else:
            messages.success(request, _("Execution %(status)s.") % {"status": execution.get_status_display().lower()})
        return redirect("runbook-execution", pk=pk)
