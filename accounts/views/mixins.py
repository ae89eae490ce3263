from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Organization

LAST_ORGANIZATION_SESSION_KEY = "primetime.last_organization"


class OrganizationMixin(LoginRequiredMixin):
    """Resolve ``<org>`` in the URL among the organizations the user may see.

    Every page under ``/o/<org>/`` uses this: a foreign or unknown slug is a
    404, and ``manager_required`` pages answer 403 to plain members.
    """

    manager_required = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.organization = get_object_or_404(Organization.objects.for_user(request.user), slug=kwargs["org"])
        self.role = self.organization.role_of(request.user)
        self.can_manage = request.user.is_engineer or self.role == "owner"
        if self.manager_required and not self.can_manage:
            raise PermissionDenied
        request.organization = self.organization
        # Times on an organization's pages read in its own time zone (air times above all).
        timezone.activate(self.organization.timezone)
        request.session[LAST_ORGANIZATION_SESSION_KEY] = self.organization.slug
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            organization=self.organization,
            current_organization=self.organization,
            role=self.role,
            can_manage=self.can_manage,
        )
        return context


class EngineerRequiredMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_engineer:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
