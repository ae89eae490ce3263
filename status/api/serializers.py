"""Serializers of the status API: what it reads and writes, and how its enums are named in the schema."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.tenancy import OrganizationField
from events.models import MediaEvent
from portal import serializers as text
from stacks.models import Stack
from status.models import Component, ComponentGroup, ComponentStatus, Incident, IncidentUpdate, StatusPage
from status.statuspage import page_url

# --- Fields ------------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice whose enum carries one name in the OpenAPI schema wherever it is used.

    Statuses of components and of incidents appear in several objects, all under ``status``; named
    once, clients generate one type for each (see ``NamedChoiceExtension``).
    """

    def __init__(self, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


def component_status_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(enum_name="ComponentStatusEnum", choices=ComponentStatus.choices, **kwargs)


def incident_status_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(enum_name="IncidentStatusEnum", choices=Incident.Status.choices, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class VisiblePageField(text.SlugRelatedField):
    """A status page given by its public id, among those the caller sees (others are unknown)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "public_id")
        kwargs.setdefault("help_text", "The status page's id.")
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return StatusPage.objects.for_user(request.user if request else None)


@extend_schema_field(OpenApiTypes.STR)
class VisibleGroupField(text.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "public_id")
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return ComponentGroup.objects.for_user(request.user if request else None)


@extend_schema_field(OpenApiTypes.INT)
class VisibleStackField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return Stack.objects.for_user(request.user if request else None)


@extend_schema_field(OpenApiTypes.INT)
class VisibleEventField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return MediaEvent.objects.for_user(request.user if request else None)


def organization_of_page(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        source="page.organization",
        slug_field="slug",
        read_only=True,
        help_text="The organization's slug; null for the provider-wide page.",
        **kwargs,
    )


def public_ids(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(many=True, read_only=True, slug_field="public_id", **kwargs)


# --- Pages ------------------------------------------------------------------------------------


class StatusPageSerializer(text.ModelSerializer):
    id = text.CharField(source="public_id", read_only=True)
    organization = OrganizationField(allow_null=True, help_text="The organization's slug; null for the provider page.")
    time_zone = text.CharField(max_length=64, required=False, help_text="An IANA time zone, e.g. Europe/Paris.")
    # Normalized first (case, trailing dot), then checked by the service with the model's rules.
    custom_domain = text.CharField(
        max_length=253,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="A host name like status.example.com, or null.",
    )
    password = text.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        min_length=8,
        trim_whitespace=False,
        help_text="For visibility 'password'. Never returned; empty keeps the current one.",
    )
    has_password = serializers.SerializerMethodField()
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = StatusPage
        fields = [
            "id",
            "organization",
            "name",
            "slug",
            "custom_domain",
            "accent_colour",
            "time_zone",
            "language",
            "visibility",
            "password",
            "has_password",
            "clients_can_post",
            "probe_failures_to_degrade",
            "probe_successes_to_recover",
            "probes_open_draft_incidents",
            "public_url",
            "created_at",
            "updated_at",
            "published_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "published_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["organization"].read_only = True
        return fields

    def get_has_password(self, page: StatusPage) -> bool:
        return bool(page.password_hash)

    def get_public_url(self, page: StatusPage) -> str:
        return page_url(page)

    def validate_custom_domain(self, value: str | None) -> str | None:
        return (value or "").strip().lower().rstrip(".") or None


# --- Component groups and components -------------------------------------------------------------


class ComponentGroupSerializer(text.ModelSerializer):
    id = text.CharField(source="public_id", read_only=True)
    status_page = VisiblePageField(source="page")
    organization = organization_of_page()
    components = public_ids(help_text="The ids of the group's components.")

    class Meta:
        model = ComponentGroup
        fields = ["id", "status_page", "organization", "name", "description", "position", "components"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["status_page"].read_only = True
        return fields


class ComponentSerializer(text.ModelSerializer):
    id = text.CharField(source="public_id", read_only=True)
    status_page = VisiblePageField(source="page")
    organization = organization_of_page()
    group = VisibleGroupField(required=False, allow_null=True, help_text="The group's id, or null.")
    stack = VisibleStackField(required=False, allow_null=True, help_text="A stack of the page's organization.")
    status = component_status_field(
        required=False,
        help_text="Changing it needs the right to post on the page (engineers; owners when the page allows).",
    )

    class Meta:
        model = Component
        fields = [
            "id",
            "status_page",
            "organization",
            "group",
            "name",
            "description",
            "position",
            "status",
            "status_since",
            "only_show_if_degraded",
            "showcase",
            "start_date",
            "probe_url",
            "probe_interval_seconds",
            "stack",
            "last_probed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status_since", "last_probed_at", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["status_page"].read_only = True
        return fields


# --- Incidents and maintenance ---------------------------------------------------------------


class AffectedComponentSerializer(serializers.Serializer):
    code = text.CharField(help_text="The component's id.")
    name = text.CharField()
    old_status = text.CharField(help_text="A component status.")
    new_status = text.CharField(help_text="A component status.")


class IncidentUpdateSerializer(text.ModelSerializer):
    id = text.CharField(source="public_id", read_only=True)
    author = text.EmailField(source="author.email", read_only=True, default=None)
    affected_components = AffectedComponentSerializer(many=True, read_only=True)
    status = incident_status_field(read_only=True)

    class Meta:
        model = IncidentUpdate
        fields = [
            "id",
            "status",
            "body",
            "body_html",
            "display_at",
            "deliver_notifications",
            "affected_components",
            "author",
            "created_at",
        ]
        read_only_fields = fields


class IncidentSerializer(text.ModelSerializer):
    id = text.CharField(source="public_id", read_only=True)
    status_page = serializers.SlugRelatedField(source="page", slug_field="public_id", read_only=True)
    organization = organization_of_page()
    status = incident_status_field(read_only=True)
    components = public_ids(help_text="The ids of the affected components.")
    incident_updates = serializers.SerializerMethodField()
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "status_page",
            "organization",
            "name",
            "status",
            "impact",
            "is_draft",
            "started_at",
            "monitoring_at",
            "resolved_at",
            "components",
            "postmortem_body",
            "postmortem_published_at",
            "incident_updates",
            "public_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(IncidentUpdateSerializer(many=True))
    def get_incident_updates(self, incident: Incident) -> list[dict]:
        updates = sorted(incident.updates.all(), key=lambda update: (update.display_at, update.pk), reverse=True)
        return IncidentUpdateSerializer(updates, many=True).data

    def get_public_url(self, incident: Incident) -> str | None:
        if incident.is_draft:
            return None
        return f"{page_url(incident.page)}/incidents/{incident.public_id}/"


class MaintenanceSerializer(IncidentSerializer):
    class Meta:
        model = Incident
        fields = [
            "id",
            "status_page",
            "organization",
            "name",
            "status",
            "scheduled_for",
            "scheduled_until",
            "auto_transition",
            "media_event",
            "resolved_at",
            "components",
            "incident_updates",
            "public_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ComponentStatusEntrySerializer(serializers.Serializer):
    id = text.CharField(help_text="The component's id.")
    status = component_status_field(help_text="Its new status.")


class ComponentStatusesField(serializers.ListField):
    """[{"id": component id, "status": new status}], resolved among the page's components."""

    child = ComponentStatusEntrySerializer()


def page_components(page: StatusPage, ids) -> dict[str, Component]:
    """Return the page's components by id; an id of another page (or none) is a field error."""
    found = {component.public_id: component for component in page.components.filter(public_id__in=list(ids))}
    unknown = sorted(set(ids) - set(found))
    if unknown:
        raise serializers.ValidationError(
            {"components": [_("This page has no component %(ids)s.") % {"ids": ", ".join(unknown)}]}
        )
    return found


def component_statuses(page: StatusPage, entries: list[dict]) -> dict[Component, str]:
    wanted = {entry["id"]: entry["status"] for entry in entries}
    found = page_components(page, wanted)
    return {found[public_id]: new_status for public_id, new_status in wanted.items()}


class IncidentCreateSerializer(serializers.Serializer):
    status_page = VisiblePageField()
    name = text.CharField(max_length=200)
    status = incident_status_field(
        default=Incident.Status.INVESTIGATING, help_text="investigating, identified, monitoring or resolved."
    )
    impact = serializers.ChoiceField(choices=["none", "minor", "major", "critical"], default="minor")
    body = text.CharField(max_length=20_000, help_text="Markdown; shown sanitized on the public page.")
    components = ComponentStatusesField(required=False, default=list)
    deliver_notifications = serializers.BooleanField(default=True)
    started_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="A past time backfills an incident that already happened."
    )
    draft = serializers.BooleanField(default=False, help_text="A draft is not public until published.")


class UpdatePostSerializer(serializers.Serializer):
    status = incident_status_field(
        help_text="Incidents: investigating, identified, monitoring, resolved (the post-mortem has its own action). "
        "Maintenance: in_progress, verifying, completed.",
    )

    def validate_status(self, value: str) -> str:
        if value == Incident.Status.POSTMORTEM:
            raise serializers.ValidationError(_("Publish the post-mortem with its own action, with its text."))
        return value

    body = text.CharField(max_length=20_000)
    components = ComponentStatusesField(required=False, default=list)
    deliver_notifications = serializers.BooleanField(default=True)


class PostmortemSerializer(serializers.Serializer):
    postmortem_body = text.CharField(max_length=100_000, help_text="Markdown.")


class MaintenanceCreateSerializer(serializers.Serializer):
    status_page = VisiblePageField()
    name = text.CharField(max_length=200)
    body = text.CharField(max_length=20_000)
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()
    components = serializers.ListField(
        child=text.CharField(), required=False, default=list, help_text="The ids of the affected components."
    )
    auto_transition = serializers.BooleanField(default=True)
    deliver_notifications = serializers.BooleanField(default=True)
    media_event = VisibleEventField(required=False, allow_null=True, help_text="A media event to announce.")
