"""The public routes of one status page, under /status/<slug>/ (and at the root of its custom domain).

The front door (status.middleware) answers most of these from snapshots before URL resolution; these
views handle the rest.
"""

from django.urls import include, path, re_path

from status import views_public

page_patterns = [
    path("", views_public.page_view, name="status-page"),
    path("incidents/<str:public_id>/", views_public.incident_view, name="status-incident"),
    path("history/", views_public.history_view, name="status-history"),
    re_path(r"^(?P<name>api/v2/[a-z/-]+\.json)$", views_public.artifact_view, name="status-json"),
    re_path(r"^(?P<name>feed\.atom|feed\.rss|badge\.svg)$", views_public.artifact_view, name="status-file"),
    path("", include("status.urls_subscriptions")),
]

urlpatterns = page_patterns
