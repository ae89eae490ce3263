"""Viewsets of the status API: parse, call one service, answer."""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.tenancy import TenantViewSetMixin
from portal.filters import StrictBooleanFilter
from status import services
from status.api.serializers import (
    ComponentGroupSerializer,
    ComponentSerializer,
    IncidentCreateSerializer,
    IncidentSerializer,
    MaintenanceCreateSerializer,
    MaintenanceSerializer,
    PostmortemSerializer,
    StatusPageSerializer,
    UpdatePostSerializer,
    component_statuses,
    page_components,
)
from status.models import PUBLIC_ID_LENGTH, Component, ComponentGroup, Incident, StatusPage

PUBLIC_ID_PATTERN = f"[a-z0-9]{{{PUBLIC_ID_LENGTH}}}"

# --- Pages ------------------------------------------------------------------------------------


class StatusPageFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = StatusPage
        fields = ["organization", "visibility"]


def _check_clients_can_post(wanted: bool | None, current: bool, user) -> None:
    # Letting a client post is the provider's decision, not the client's own.
    if wanted is not None and wanted != current and not user.is_engineer:
        raise PermissionDenied(_("Only a provider engineer lets the client's owners post."))


class StatusPageViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Status pages: members read them; owners and engineers create and change them."""

    queryset = StatusPage.objects.select_related("organization")
    serializer_class = StatusPageSerializer
    lookup_field = "public_id"
    lookup_value_regex = PUBLIC_ID_PATTERN
    filterset_class = StatusPageFilter
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        _check_clients_can_post(data.get("clients_can_post"), False, self.request.user)
        organization = data.pop("organization")
        password = data.pop("password", "")
        serializer.instance = services.page_create(
            organization=organization, by=self.request.user, password=password, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        _check_clients_can_post(data.get("clients_can_post"), serializer.instance.clients_can_post, self.request.user)
        password = data.pop("password", "")
        serializer.instance = services.page_update(
            page=serializer.instance, by=self.request.user, password=password, **data
        )


# --- Component groups and components -------------------------------------------------------------


class PageFilter(django_filters.FilterSet):
    status_page = django_filters.CharFilter(field_name="page__public_id", help_text="A status page's id.")


class ComponentGroupFilter(PageFilter):
    class Meta:
        model = ComponentGroup
        fields = ["status_page"]


class ComponentGroupViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """Component groups of a page; deleting one keeps its components, ungrouped."""

    queryset = ComponentGroup.objects.select_related("page__organization").prefetch_related("components")
    serializer_class = ComponentGroupSerializer
    lookup_field = "public_id"
    lookup_value_regex = PUBLIC_ID_PATTERN
    filterset_class = ComponentGroupFilter
    ordering_fields = ["position", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        page = data.pop("page")
        serializer.instance = services.group_save(page=page, by=self.request.user, **data)

    def perform_update(self, serializer):
        group = serializer.instance
        serializer.instance = services.group_save(
            page=group.page, by=self.request.user, group=group, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.group_delete(group=instance, by=self.request.user)


class ComponentFilter(PageFilter):
    class Meta:
        model = Component
        fields = ["status_page", "status"]


class ComponentViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """Components of a page. Their status changes here too, with an audit entry and an uptime interval."""

    queryset = Component.objects.select_related("page__organization", "group")
    serializer_class = ComponentSerializer
    lookup_field = "public_id"
    lookup_value_regex = PUBLIC_ID_PATTERN
    filterset_class = ComponentFilter
    ordering_fields = ["position", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _save(self, serializer, page: StatusPage, component: Component | None):
        data = dict(serializer.validated_data)
        data.pop("page", None)
        new_status = data.pop("status", None)
        with transaction.atomic():
            if data or component is None:
                component = services.component_save(page=page, by=self.request.user, component=component, **data)
            if new_status is not None and new_status != component.status:
                if not services.can_post(page, self.request.user):
                    raise PermissionDenied(_("Only those who post on this page change a component's status."))
                services.component_status_set(component=component, status=new_status, by=self.request.user)
        serializer.instance = component

    def perform_create(self, serializer):
        self._save(serializer, serializer.validated_data["page"], None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance.page, serializer.instance)

    def perform_destroy(self, instance):
        services.component_delete(component=instance, by=self.request.user)


# --- Incidents and maintenance ---------------------------------------------------------------


class IncidentFilter(PageFilter):
    is_draft = StrictBooleanFilter(help_text="Drafts (opened by a probe, not yet published) or published ones.")

    class Meta:
        model = Incident
        fields = ["status_page", "status", "is_draft"]


class _IncidentBase(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    kind: str
    lookup_field = "public_id"
    lookup_value_regex = PUBLIC_ID_PATTERN
    filterset_class = IncidentFilter
    ordering_fields = ["started_at", "scheduled_for", "created_at"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(kind=self.kind)
            .select_related("page__organization")
            .prefetch_related("components", "updates__author")
        )

    def _answer(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _post_update(self, request) -> Response:
        incident = self.get_object()
        body = UpdatePostSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.incident_update_post(
            incident=incident,
            by=request.user,
            status=data["status"],
            body=data["body"],
            component_statuses=component_statuses(incident.page, data["components"]),
            deliver_notifications=data["deliver_notifications"],
        )
        return self._answer(incident, status.HTTP_201_CREATED)


class IncidentViewSet(_IncidentBase):
    """Incidents: open one (or backfill a past one), post updates, publish a draft, publish the post-mortem."""

    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    kind = Incident.Kind.INCIDENT

    @extend_schema(request=IncidentCreateSerializer, responses={201: IncidentSerializer})
    def create(self, request, *args, **kwargs):
        body = IncidentCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        page = data["status_page"]
        incident = services.incident_create(
            page=page,
            by=request.user,
            name=data["name"],
            body=data["body"],
            status=data["status"],
            impact=data["impact"],
            component_statuses=component_statuses(page, data["components"]),
            deliver_notifications=data["deliver_notifications"],
            started_at=data.get("started_at"),
            draft=data["draft"],
        )
        return self._answer(incident, status.HTTP_201_CREATED)

    @extend_schema(
        request=UpdatePostSerializer,
        responses={201: IncidentSerializer},
        description="Post an update: new status, message, components' new statuses. 409 after the post-mortem.",
    )
    @action(detail=True, methods=["post"])
    def updates(self, request, public_id=None):
        return self._post_update(request)

    @extend_schema(request=None, responses=IncidentSerializer, description="Publish a draft; 409 if published.")
    @action(detail=True, methods=["post"])
    def publish(self, request, public_id=None):
        incident = services.incident_publish(incident=self.get_object(), by=request.user)
        return self._answer(incident)

    @extend_schema(
        request=PostmortemSerializer,
        responses=IncidentSerializer,
        description="Publish (or correct) the post-mortem of a resolved incident; 409 before it is resolved.",
    )
    @action(detail=True, methods=["post"])
    def postmortem(self, request, public_id=None):
        incident = self.get_object()
        body = PostmortemSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.postmortem_publish(incident=incident, by=request.user, body=body.validated_data["postmortem_body"])
        return self._answer(incident)


class MaintenanceViewSet(_IncidentBase):
    """Scheduled maintenance: schedule a window (or announce a media event), post updates."""

    queryset = Incident.objects.all()
    serializer_class = MaintenanceSerializer
    kind = Incident.Kind.MAINTENANCE

    @extend_schema(request=MaintenanceCreateSerializer, responses={201: MaintenanceSerializer})
    def create(self, request, *args, **kwargs):
        body = MaintenanceCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        page = data["status_page"]
        components = page_components(page, data["components"]).values()
        maintenance = services.maintenance_schedule(
            page=page,
            by=request.user,
            name=data["name"],
            body=data["body"],
            scheduled_for=data["scheduled_for"],
            scheduled_until=data["scheduled_until"],
            components=list(components),
            auto_transition=data["auto_transition"],
            deliver_notifications=data["deliver_notifications"],
            media_event=data.get("media_event"),
        )
        return self._answer(maintenance, status.HTTP_201_CREATED)

    @extend_schema(
        request=UpdatePostSerializer,
        responses={201: MaintenanceSerializer},
        description="Post an update (in_progress, verifying, completed); 409 when it would go back.",
    )
    @action(detail=True, methods=["post"])
    def updates(self, request, public_id=None):
        return self._post_update(request)
