"""URL configuration for requests on a status page's custom domain: the page's routes at the root."""

from django.urls import include, path

from status.urls_public import page_patterns

urlpatterns = [path("", include(page_patterns))]

# The portal's error pages link to portal routes this domain does not have.
handler404 = "status.views_public.not_found"
handler500 = "status.views_public.server_error"
