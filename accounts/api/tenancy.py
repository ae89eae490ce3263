"""The tenancy mechanism for API viewsets and serializers."""

from __future__ import annotations

from accounts.models import Organization
from portal import serializers as text


class TenantViewSetMixin:
    """Scope a viewset's queryset to the requesting user's organizations.

    Foreign rows are absent, so retrieve, update and delete answer 404 for
    them; who may change what is decided by the services.
    """

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)


class OrganizationField(text.SlugRelatedField):
    """An organization given by slug, among those the requesting user sees.

    A foreign slug gets the same answer as an unknown one, so nothing leaks.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return Organization.objects.for_user(request.user if request else None)
