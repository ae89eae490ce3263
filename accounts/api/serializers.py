from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.tenancy import OrganizationField
from accounts.models import ApiToken, Invitation, Membership, Organization, User
from accounts.models.organizations import validate_timezone
from portal import serializers as text


class MembershipOfUserSerializer(text.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    organization_name = text.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["organization", "organization_name", "role"]


class MeSerializer(text.ModelSerializer):
    memberships = MembershipOfUserSerializer(many=True, read_only=True)
    is_engineer = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "language", "is_engineer", "memberships"]
        read_only_fields = ["id", "email"]


class OrganizationSerializer(text.ModelSerializer):
    timezone = text.CharField(validators=[validate_timezone], default="Europe/Paris")
    role = serializers.SerializerMethodField(help_text=_("Your role here, or null for engineers."))

    class Meta:
        model = Organization
        fields = ["slug", "name", "timezone", "contact_email", "created_at", "role"]
        read_only_fields = ["created_at"]

    def get_role(self, organization) -> str | None:
        request = self.context.get("request")
        roles = self.context.get("roles")
        if roles is None and request is not None:
            roles = dict(Membership.objects.filter(user=request.user).values_list("organization_id", "role"))
            self.context["roles"] = roles
        return (roles or {}).get(organization.pk)


class OrganizationCreateSerializer(OrganizationSerializer):
    slug = text.SlugField(max_length=60, required=False, allow_blank=True)
    owner_email = text.EmailField(
        required=False, allow_blank=True, write_only=True, help_text=_("Invite this person as first owner.")
    )

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "owner_email"]


class OrganizationUpdateSerializer(OrganizationSerializer):
    class Meta(OrganizationSerializer.Meta):
        read_only_fields = ["slug", "created_at"]


class MembershipSerializer(text.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    email = text.EmailField(source="user.email", read_only=True)
    full_name = text.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "email", "full_name", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class InvitationSerializer(text.ModelSerializer):
    organization = OrganizationField()
    state = serializers.ChoiceField(choices=Invitation.State.choices, read_only=True)
    invited_by = text.EmailField(source="invited_by.email", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "organization", "email", "role", "state", "invited_by", "created_at", "expires_at"]
        read_only_fields = ["id", "created_at", "expires_at"]


class ApiTokenSerializer(text.ModelSerializer):
    masked_key = text.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "masked_key", "is_active", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = text.CharField(read_only=True, help_text=_("The token itself. Shown once; store it now."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
