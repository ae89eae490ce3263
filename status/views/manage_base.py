"""What every status page screen shares: where the page is managed from, who may change it, its links.

A screen is written once and served in two places (see ``scoped``): under ``/o/<org>/status-pages/<pk>/``
for an organization's page, and under ``/engineering/status-page/`` for the provider-wide page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from accounts.views.mixins import EngineerRequiredMixin, OrganizationMixin
from status import services
from status.models import StatusPage


class _PageResolver:
    """Resolve the page once the user (and the organization) are known, before the handler runs.

    It sits before the view in the method order, so the defaults it reads live on ``ManageMixin``.
    """

    def dispatch(self, request, *args, **kwargs):
        if self.page_required:
            self.page = self.get_page()
            if self.page is None:
                return self.page_missing()
            # Times on a status page's screens read in the page's own time zone, as the public sees them.
            timezone.activate(self.page.time_zone)
            self.can_manage_page = services.can_manage(self.page, request.user)
            self.can_post_page = services.can_post(self.page, request.user)
        return super().dispatch(request, *args, **kwargs)

    def page_missing(self):
        raise Http404


class OrganizationScope(OrganizationMixin, _PageResolver):
    """An organization's pages: foreign organizations and pages are 404, as everywhere under /o/<org>/."""

    name_prefix = "status-manage-"

    def get_page(self) -> StatusPage:
        return get_object_or_404(
            StatusPage.objects.in_organization(self.organization).select_related("organization"), pk=self.kwargs["pk"]
        )

    def url_kwargs(self) -> dict:
        kwargs = {"org": self.organization.slug}
        if self.page is not None:
            kwargs["pk"] = self.page.pk
        return kwargs

    def may_create_page(self) -> bool:
        return self.can_manage

    def new_page_organization(self):
        return self.organization


class ProviderScope(EngineerRequiredMixin, _PageResolver):
    """The provider-wide page (no organization): engineers only."""

    name_prefix = "engineering-status-"
    organization = None

    def get_page(self) -> StatusPage | None:
        return StatusPage.objects.filter(organization__isnull=True).order_by("pk").first()

    def page_missing(self):
        if self.request.method in ("GET", "HEAD"):
            return redirect("engineering-status-create")
        raise Http404

    def url_kwargs(self) -> dict:
        return {}

    def may_create_page(self) -> bool:
        return self.request.user.is_engineer

    def new_page_organization(self):
        return None


def scoped(view: type, scope: type) -> type:
    """Return the view served in one scope (OrganizationScope or ProviderScope)."""
    return type(f"{scope.__name__}{view.__name__}", (scope, view), {"__doc__": view.__doc__})


class Links:
    """The current page's screens for templates: ``{{ links.incident_create }}``."""

    def __init__(self, view: ManageMixin):
        self.view = view

    def __getitem__(self, key: str) -> str:
        return self.view.url(key.replace("_", "-"))


# The first word of a screen's name → the sub-navigation tab it belongs to.
SECTIONS = {"component": "components", "group": "components", "incident": "incidents", "maintenance": "maintenances"}


class ManageMixin:
    """The status page screens' shared context and permission checks."""

    page_required = True
    page: StatusPage | None = None
    can_manage_page = False
    can_post_page = False

    def url(self, name: str, **kwargs) -> str:
        return reverse(self.name_prefix + name, kwargs={**self.url_kwargs(), **kwargs})

    def require_manage(self) -> None:
        if not self.can_manage_page:
            raise PermissionDenied

    def require_post(self) -> None:
        if not self.can_post_page:
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        screen = (self.request.resolver_match.url_name or "").removeprefix(self.name_prefix)
        head = screen.split("-")[0]
        context.update(
            page=self.page,
            section=SECTIONS.get(head, head),
            links=Links(self),
            can_manage_page=self.can_manage_page,
            can_post_page=self.can_post_page,
        )
        if self.organization is None:
            context["organization"] = None
        if self.page is not None:
            context["public_url"] = reverse("status-page", kwargs={"slug": self.page.slug})
        return context

    def render_invalid(self, status: int = 400, **context):
        """Answer a refused form with its errors: 400 for bad input, 409 for a lifecycle conflict."""
        return self.render_to_response(self.get_context_data(**context), status=status)
