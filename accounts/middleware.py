from __future__ import annotations

from django.utils import timezone, translation


class UserLanguageMiddleware:
    """Speak the signed-in user's chosen language, whatever the browser asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class OrganizationTimezoneMiddleware:
    """Reset the time zone an organization page activated, once its response is rendered.

    ``OrganizationMixin`` activates the organization's zone; the activation is
    thread-local, so without this the next request on the thread would inherit it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
