from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView, TemplateView

from accounts import selectors, services
from accounts.forms import OrganizationCreateForm, OrganizationForm
from accounts.models import Organization
from accounts.views.mixins import LAST_ORGANIZATION_SESSION_KEY, EngineerRequiredMixin, OrganizationMixin
from events import selectors as event_selectors
from portal.forms import add_service_errors


@login_required
def home(request):
    """Send people where they work: engineers to the event queue, clients to their last organization."""
    user = request.user
    if user.is_engineer:
        return redirect("engineering-queue")
    organizations = list(selectors.organizations_for_switcher(user=user))
    last = request.session.get(LAST_ORGANIZATION_SESSION_KEY)
    for organization in organizations:
        if organization.slug == last:
            return redirect("organization-dashboard", org=organization.slug)
    if organizations:
        return redirect("organization-dashboard", org=organizations[0].slug)
    return redirect("profile")


class DashboardView(OrganizationMixin, TemplateView):
    template_name = "accounts/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        memberships = list(selectors.memberships_of(organization=self.organization))
        now = timezone.now()
        context.update(
            memberships=memberships,
            owners=[membership for membership in memberships if membership.is_owner],
            pending_invitations=selectors.invitations_pending(organization=self.organization),
            upcoming_events=list(
                event_selectors.events_for_organization(organization=self.organization, now=now)
                .filter(air_end__gte=now)
                .exclude(status="cancelled")[:3]
            ),
        )
        return context


class OrganizationSettingsView(OrganizationMixin, FormView):
    manager_required = True
    template_name = "accounts/organization_settings.html"
    form_class = OrganizationForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # Edit a copy: a refused change must not leak into the page's header.
        kwargs["instance"] = Organization.objects.get(pk=self.organization.pk)
        return kwargs

    def form_valid(self, form):
        try:
            services.organization_update(
                organization=form.instance,
                by=self.request.user,
                **{field: form.cleaned_data[field] for field in form.Meta.fields},
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Organization saved."))
        return redirect("organization-settings", org=self.organization.slug)


class EngineeringOrganizationsView(EngineerRequiredMixin, ListView):
    template_name = "accounts/engineering_organizations.html"
    context_object_name = "organizations"
    paginate_by = 50

    def get_queryset(self):
        return selectors.organizations_overview(user=self.request.user, search=self.request.GET.get("q", "").strip())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = self.request.GET.get("q", "").strip()
        return context


class OrganizationCreateView(EngineerRequiredMixin, FormView):
    template_name = "accounts/organization_create.html"
    form_class = OrganizationCreateForm

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            organization = services.organization_create(
                name=data["name"],
                slug=data.get("slug") or "",
                timezone_name=data["timezone"],
                contact_email=data["contact_email"],
                owner_email=data.get("owner_email") or "",
                by=self.request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if data.get("owner_email"):
            messages.success(
                self.request,
                _("%(name)s created; we sent an invitation to %(email)s.")
                % {"name": organization.name, "email": data["owner_email"]},
            )
        else:
            messages.success(self.request, _("%(name)s created.") % {"name": organization.name})
        return redirect(reverse("organization-dashboard", kwargs={"org": organization.slug}))
