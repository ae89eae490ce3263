"""Engineers' pages for the provider-wide status page, under /engineering/status-page/.

The same screens as an organization's page (status/urls_portal.py), for the page without organization.
"""

from __future__ import annotations

from django.urls import path

from status.urls_portal import page_screens
from status.views import manage_pages as pages
from status.views.manage_base import ProviderScope, scoped

urlpatterns = [
    path("new/", scoped(pages.PageCreateView, ProviderScope).as_view(), name="engineering-status-create"),
    *page_screens(ProviderScope, route_prefix=""),
]
