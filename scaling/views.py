from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from accounts.views.mixins import OrganizationMixin
from events.models import MediaEvent
from portal.exceptions import Conflict
from portal.forms import add_service_errors
from scaling import services
from scaling.models import PlanTarget, ScalingPlan, ScalingPolicy

ACTIONS = {
    "approve": (services.plan_approve, _("Plan approved.")),
    "apply": (services.plan_apply, _("Applying the plan: the scale-up and its revert are being scheduled on AWS.")),
    "cancel": (services.plan_cancel, _("Plan cancelled; its scheduled actions are being removed from AWS.")),
    "scale-now": (services.plan_scale_now, _("Capacity set to the plan's targets now.")),
    "revert-now": (
        lambda **kwargs: services.plan_scale_now(revert=True, **kwargs),
        _("Capacity set back to what it was before the plan."),
    ),
}
# Emergency controls change the account at once: they need an explicit confirmation.
CONFIRMED = {"cancel", "scale-now", "revert-now"}


class PlanCreateView(OrganizationMixin, View):
    def post(self, request, org, pk):
        event = get_object_or_404(MediaEvent.objects.in_organization(self.organization), pk=pk)
        try:
            services.plan_create(event=event, by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Scaling plan made from the current forecast and inventory."))
        return redirect("event-detail", org=org, pk=pk)


class PlanActionView(OrganizationMixin, View):
    def post(self, request, org, pk, plan, action):
        scaling_plan = get_object_or_404(
            ScalingPlan.objects.in_organization(self.organization).select_related("event"), pk=plan, event_id=pk
        )
        if action not in ACTIONS:
            messages.error(request, _("Unknown action."))
            return redirect("event-detail", org=org, pk=pk)
        service, done = ACTIONS[action]
        if action in CONFIRMED and request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the confirmation first: this changes the AWS account."))
            return redirect("event-detail", org=org, pk=pk)
        try:
            service(plan=scaling_plan, by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect("event-detail", org=org, pk=pk)


class RecommendationApproveView(OrganizationMixin, View):
    """Approve one ElastiCache or RDS recommendation on its own, confirming its outage note was read."""

    def post(self, request, org, pk, plan, target):
        plan_target = get_object_or_404(
            PlanTarget.objects.in_organization(self.organization).select_related("plan__event"),
            pk=target,
            plan_id=plan,
            plan__event_id=pk,
        )
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the confirmation first: say you read what the change interrupts."))
            return redirect("event-detail", org=org, pk=pk)
        try:
            services.recommendation_approve(target=plan_target, by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("%(name)s approved: it is applied with the plan, when due.") % {"name": plan_target.name}
            )
        return redirect("event-detail", org=org, pk=pk)


class AutomationSwitchView(OrganizationMixin, View):
    """The organization-wide kill switch for automated changes (engineers, confirmed, audited)."""

    def post(self, request, org):
        paused = request.POST.get("paused") == "yes"
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the confirmation first."))
            return redirect("cloud-account", org=org)
        try:
            services.automation_pause(
                organization=self.organization, by=request.user, paused=paused, reason=request.POST.get("reason", "")
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Automated changes paused: the portal changes nothing in this account.")
                if paused
                else _("Automated changes resumed."),
            )
        return redirect("cloud-account", org=org)


class ScalingPolicyForm(forms.ModelForm):
    class Meta:
        model = ScalingPolicy
        fields = ["safety_factor", "max_instances", "max_vcpus", "max_hourly_cost_eur", "client_co_approval"]


class ScalingPolicyView(OrganizationMixin, FormView):
    """The organization's pre-scaling rules: safety factor, caps, co-approval."""

    manager_required = True
    template_name = "scaling/policy.html"
    form_class = ScalingPolicyForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = services.policy_for(self.organization)
        return kwargs

    def form_valid(self, form):
        try:
            services.policy_update(
                organization=self.organization,
                by=self.request.user,
                **{field: form.cleaned_data[field] for field in ScalingPolicyForm.Meta.fields},
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Scaling policy saved; it applies to the next plans."))
        return redirect("scaling-policy", org=self.organization.slug)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
