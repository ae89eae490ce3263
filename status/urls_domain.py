"""URL configuration for requests on a status page's custom domain: the page's routes at the root."""

from django.urls import include, path

from status.urls_public import page_patterns

urlpatterns = [path("", include(page_patterns))]
