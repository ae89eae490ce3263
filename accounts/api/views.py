from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from accounts import services
from accounts.api import serializers
from accounts.api.tenancy import TenantViewSetMixin
from accounts.models import ApiToken, Invitation, Membership, Organization
from portal.filters import StrictBooleanFilter


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user, with the organizations they belong to."""

    serializer_class = serializers.MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user


class OrganizationViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Organizations (tenants). Engineers see and create them all; clients see their own."""

    queryset = Organization.objects.all()
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.OrganizationCreateSerializer
        if self.action == "partial_update":
            return serializers.OrganizationUpdateSerializer
        return serializers.OrganizationSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.organization_create(
            name=data["name"],
            slug=data.get("slug") or "",
            timezone_name=data.get("timezone") or "Europe/Paris",
            contact_email=data["contact_email"],
            owner_email=data.get("owner_email") or "",
            by=self.request.user,
        )

    def perform_update(self, serializer):
        services.organization_update(
            organization=serializer.instance, by=self.request.user, **serializer.validated_data
        )


class MembershipFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = Membership
        fields = ["organization", "role"]


class MembershipViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who belongs to which organization. Owners change roles and remove members; members may leave."""

    queryset = Membership.objects.select_related("user", "organization")
    serializer_class = serializers.MembershipSerializer
    filterset_class = MembershipFilter
    search_fields = ["user__email", "user__full_name"]
    ordering_fields = ["created_at", "role"]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        role = serializer.validated_data.get("role", serializer.instance.role)
        services.membership_change_role(membership=serializer.instance, role=role, by=self.request.user)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, by=self.request.user)


class InvitationFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    pending = StrictBooleanFilter(method="filter_pending", label="Only pending invitations")

    class Meta:
        model = Invitation
        fields = ["organization", "role", "pending"]

    def filter_pending(self, queryset, name, value):
        from django.utils import timezone

        pending = {"accepted_at": None, "revoked_at": None, "expires_at__gt": timezone.now()}
        return queryset.filter(**pending) if value else queryset.exclude(**pending)


class InvitationViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations by e-mail. Owners create them; deleting one withdraws it."""

    queryset = Invitation.objects.select_related("organization", "invited_by")
    serializer_class = serializers.InvitationSerializer
    filterset_class = InvitationFilter
    search_fields = ["email"]
    ordering_fields = ["created_at", "expires_at"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.invitation_create(
            organization=data["organization"], email=data["email"], role=data["role"], by=self.request.user
        )

    def perform_destroy(self, instance):
        services.invitation_revoke(invitation=instance, by=self.request.user)


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your personal API tokens. The key is returned once, at creation; deleting revokes."""

    serializer_class = serializers.ApiTokenSerializer
    ordering_fields = ["created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(responses={201: serializers.ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw_key = services.api_token_create(user=request.user, name=serializer.validated_data["name"])
        token.key = raw_key
        return Response(serializers.ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.api_token_revoke(token=get_object_or_404(self.get_queryset(), pk=instance.pk), by=self.request.user)
