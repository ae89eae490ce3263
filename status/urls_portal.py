"""Organization pages for managing status pages, under /o/<org>/status-pages/.

The screens of one page are listed once in ``PAGE_SCREENS``; status/urls_engineering.py serves the same
screens for the provider-wide page.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from status.views import manage_components as components
from status.views import manage_incidents as incidents
from status.views import manage_pages as pages
from status.views.manage_base import OrganizationScope, scoped

# (route under the page, view, name without the scope's prefix)
PAGE_SCREENS = [
    ("", pages.PageOverviewView, "overview"),
    ("settings/", pages.PageSettingsView, "settings"),
    ("preview/", pages.PagePreviewView, "preview"),
    ("components/", components.ComponentsView, "components"),
    ("components/order/", components.ComponentOrderView, "component-order"),
    ("components/new/", components.ComponentFormView, "component-create"),
    ("components/<int:component>/", components.ComponentFormView, "component-update"),
    ("components/<int:component>/status/", components.ComponentStatusView, "component-status"),
    ("components/<int:component>/delete/", components.ComponentDeleteView, "component-delete"),
    ("groups/new/", components.GroupFormView, "group-create"),
    ("groups/<int:group>/", components.GroupFormView, "group-update"),
    ("groups/<int:group>/delete/", components.GroupDeleteView, "group-delete"),
    ("incidents/", incidents.IncidentListView, "incidents"),
    ("incidents/new/", incidents.IncidentCreateView, "incident-create"),
    ("incidents/<int:incident>/", incidents.IncidentDetailView, "incident-detail"),
    ("incidents/<int:incident>/publish/", incidents.IncidentPublishView, "incident-publish"),
    ("incidents/<int:incident>/postmortem/", incidents.PostmortemView, "incident-postmortem"),
    ("maintenance/", incidents.MaintenanceListView, "maintenances"),
    ("maintenance/new/", incidents.MaintenanceCreateView, "maintenance-create"),
    ("maintenance/<int:incident>/", incidents.MaintenanceDetailView, "maintenance-detail"),
    ("subscribers/", pages.SubscribersView, "subscribers"),
    ("audit/", pages.AuditView, "audit"),
]


def page_screens(scope: type, *, route_prefix: str) -> list[URLPattern]:
    """Return the URL patterns of one page's screens, served in ``scope``."""
    return [
        path(route_prefix + route, scoped(view, scope).as_view(), name=scope.name_prefix + name)
        for route, view, name in PAGE_SCREENS
    ]


urlpatterns = [
    path("", scoped(pages.PageListView, OrganizationScope).as_view(), name="status-manage-list"),
    path("new/", scoped(pages.PageCreateView, OrganizationScope).as_view(), name="status-manage-create"),
    *page_screens(OrganizationScope, route_prefix="<int:pk>/"),
]
