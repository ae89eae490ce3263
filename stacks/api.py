from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from accounts.api.tenancy import OrganizationField, TenantViewSetMixin
from portal import serializers as text
from stacks import services
from stacks.models import Stack


class StackSerializer(text.ModelSerializer):
    organization = OrganizationField()
    key_urls = serializers.ListField(child=text.CharField(max_length=500), max_length=20, required=False)

    class Meta:
        model = Stack
        fields = [
            "id",
            "organization",
            "name",
            "landing_url",
            "key_urls",
            "health_url",
            "cdn_hostname",
            "normal_peak_rps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is checked by the service, with the organization known.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["organization"].read_only = True
        return fields


class StackFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = Stack
        fields = ["organization"]


class StackViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """Stacks: what a media event puts at risk (public URLs now, cloud resources later)."""

    queryset = Stack.objects.select_related("organization")
    serializer_class = StackSerializer
    filterset_class = StackFilter
    search_fields = ["name", "landing_url"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        serializer.instance = services.stack_create(organization=organization, by=self.request.user, **data)

    def perform_update(self, serializer):
        services.stack_update(stack=serializer.instance, by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.stack_delete(stack=instance, by=self.request.user)
