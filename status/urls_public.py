"""The public routes of one status page, under /status/<slug>/ (and at the root of its custom domain)."""

from django.urls import include, path

page_patterns: list = [
    path("", include("status.urls_subscriptions")),
]

urlpatterns = page_patterns
