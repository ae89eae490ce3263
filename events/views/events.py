from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from accounts.views.mixins import OrganizationMixin
from events import lifecycle, selectors, services
from events.charts_context import forecast_chart_context
from events.forecasting import forecast_for_event
from events.forms import AssignForm, EventForm, RebroadcastFormSet, TransitionForm, rebroadcasts_from
from events.models import MediaEvent
from events.next_steps import next_steps
from events.risk import event_risk
from portal.forms import add_service_errors
from portal.http import safe_next_url
from readiness import selectors as readiness_selectors
from runbooks.models import RunbookExecution
from runbooks.selectors import runbooks_for_next_phase
from scaling.models import PlanTarget, ScalingPlan, ScalingPolicy
from status.models import StatusPage


class EventListView(OrganizationMixin, ListView):
    template_name = "events/event_list.html"
    context_object_name = "events"
    paginate_by = 25

    def get_queryset(self):
        return selectors.events_for_organization(organization=self.organization, now=timezone.now())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = timezone.now()
        return context


class EventFormMixin(OrganizationMixin):
    template_name = "events/event_form.html"
    event = None

    def forms(self, data=None):
        event_form = EventForm(data, instance=self.event, organization=self.organization, prefix="event")
        initial = None
        if self.event is not None and data is None:
            initial = [
                {"air_start": item.air_start, "expected_audience": item.expected_audience}
                for item in self.event.rebroadcasts.all()
            ]
        return event_form, RebroadcastFormSet(data, prefix="rebroadcasts", initial=initial)

    def render_forms(self, event_form, formset, status=200):
        return self.render_to_response(
            self.get_context_data(form=event_form, rebroadcast_formset=formset, event=self.event), status=status
        )

    def get(self, request, *args, **kwargs):
        return self.render_forms(*self.forms())

    def post(self, request, *args, **kwargs):
        event_form, formset = self.forms(request.POST)
        if not (event_form.is_valid() and formset.is_valid()):
            return self.render_forms(event_form, formset, status=400)
        data = {field: event_form.cleaned_data[field] for field in EventForm.Meta.fields}
        try:
            event = self.save(data, rebroadcasts_from(formset))
        except ValidationError as error:
            add_service_errors(event_form, error)
            return self.render_forms(event_form, formset, status=400)
        except services.IllegalTransition as error:
            messages.error(request, error.message)
            return redirect("event-detail", org=self.organization.slug, pk=self.event.pk)
        for url in event.url_warnings():
            messages.warning(request, _("%(url)s is not https: visitors may see a security warning.") % {"url": url})
        return redirect("event-detail", org=self.organization.slug, pk=event.pk)


class EventCreateView(EventFormMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        if not self.organization.stacks.exists():
            messages.info(request, _("First describe the site the broadcast will send people to."))
            return redirect("stack-create", org=self.organization.slug)
        return super().get(request, *args, **kwargs)

    def save(self, data, rebroadcasts):
        submit = self.request.POST.get("action") == "submit"
        event = services.event_create(
            organization=self.organization, by=self.request.user, data=data, rebroadcasts=rebroadcasts, submit=submit
        )
        if submit:
            messages.success(self.request, _("Booked and sent to the engineers for review."))
        else:
            messages.success(self.request, _("Saved as a draft. Submit it when the details are right."))
        return event


class EventUpdateView(EventFormMixin, TemplateView):
    def get_event(self):
        return get_object_or_404(MediaEvent.objects.in_organization(self.organization), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        self.event = self.get_event()
        if self.event.is_locked():
            messages.error(request, _("This event can no longer be changed."))
            return redirect("event-detail", org=self.organization.slug, pk=self.event.pk)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.event = self.get_event()
        return super().post(request, *args, **kwargs)

    def save(self, data, rebroadcasts):
        before = self.event.status
        event = services.event_update(event=self.event, by=self.request.user, data=data, rebroadcasts=rebroadcasts)
        if before != event.status:
            messages.warning(self.request, _("Saved. The change re-opened the engineers' review."))
        else:
            messages.success(self.request, _("Saved."))
        return event


class EventDetailView(OrganizationMixin, TemplateView):
    template_name = "events/event_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = get_object_or_404(
            MediaEvent.objects.in_organization(self.organization).select_related(
                "stack", "assignee", "backup", "created_by"
            ),
            pk=self.kwargs["pk"],
        )
        now = timezone.now()
        forecast = forecast_for_event(event)
        plan = (
            ScalingPlan.objects.filter(event=event)
            .prefetch_related(
                Prefetch("targets", PlanTarget.objects.select_related("separately_approved_by")),
                "targets__pending_changes",
            )
            .first()
        )
        event.capacity_shortfall = bool(plan and plan.status == ScalingPlan.Status.APPLIED and plan.shortfall)
        user = self.request.user
        context.update(
            event=event,
            now=now,
            forecast=forecast,
            rebroadcasts=list(event.rebroadcasts.all()),
            timeline=selectors.event_timeline(event=event),
            transitions=lifecycle.transitions_for(event, user),
            next_steps=next_steps(event, user=user, now=now),
            risk=event_risk(event, now=now) if user.is_engineer else None,
            assign_form=AssignForm(
                engineers=selectors.engineers(), initial={"assignee": event.assignee_id, "backup": event.backup_id}
            )
            if user.is_engineer
            else None,
            readiness_runs=(runs := readiness_selectors.runs_of_event(event=event)),
            readiness_changes=readiness_selectors.latest_changes(runs),
            scaling_plan=plan,
            co_approval=ScalingPolicy.objects.filter(organization=self.organization, client_co_approval=True).exists(),
            scaling_actions=list(plan.actions.select_related("actor")[:50]) if plan else [],
            emergency_actions=[
                ("scale-now", _("Scale now")),
                ("revert-now", _("Revert now")),
                ("cancel", _("Cancel the plan")),
            ],
            status_page=StatusPage.objects.filter(organization=self.organization).first(),
            suggested_runbooks=list(runbooks_for_next_phase(event, now)) if user.is_engineer else [],
            executions=list(
                RunbookExecution.objects.filter(event=event).select_related("version__runbook", "assignee")
            ),
            announcements=list(event.announcements.select_related("page")),
            **forecast_chart_context(event, forecast),
        )
        return context


class EventTransitionView(OrganizationMixin, View):
    def post(self, request, org, pk, name):
        event = get_object_or_404(MediaEvent.objects.in_organization(self.organization), pk=pk)
        form = TransitionForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            services.event_transition(event=event, name=name, by=request.user, reason=reason)
        except services.IllegalTransition as error:
            messages.error(request, error.message)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            transition = lifecycle.TRANSITIONS[name]
            messages.success(request, _("Done: %(label)s.") % {"label": transition.label})
        return redirect(safe_next_url(request, event_url(event)))


class EventAssignView(OrganizationMixin, View):
    def post(self, request, org, pk):
        event = get_object_or_404(MediaEvent.objects.in_organization(self.organization), pk=pk)
        form = AssignForm(request.POST, engineers=selectors.engineers())
        engineer = form.cleaned_data["assignee"] if form.is_valid() else request.user
        try:
            event = services.event_assign(event=event, engineer=engineer, by=request.user)
            if "backup" in request.POST:  # the queue's "Take it" button sends the lead only
                services.event_backup_set(
                    event=event, engineer=form.cleaned_data.get("backup") if form.is_valid() else None,
                    by=request.user,
                )  # fmt: skip
        except (ValidationError, services.IllegalTransition) as error:
            messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(engineer)s leads the watch of “%(title)s”.")
                % {"engineer": engineer.display_name, "title": event.title},
            )
        return redirect(safe_next_url(request, event_url(event)))


def event_url(event: MediaEvent) -> str:
    return reverse("event-detail", args=[event.organization.slug, event.pk])
