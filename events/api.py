from __future__ import annotations

from datetime import timedelta

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.tenancy import OrganizationField, TenantViewSetMixin
from accounts.models import Membership, User
from events import lifecycle, services
from events.forecasting import forecast_for_event
from events.models import MediaEvent
from portal import serializers as text
from portal.filters import UtcDateTimeFilter, related_id
from stacks.models import Stack


class TenantStackField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return Stack.objects.for_user(request.user if request else None)


class RebroadcastSerializer(serializers.Serializer):
    air_start = serializers.DateTimeField()
    expected_audience = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)


class BandSerializer(serializers.Serializer):
    low = serializers.FloatField()
    likely = serializers.FloatField()
    high = serializers.FloatField()


class EventSerializer(text.ModelSerializer):
    organization = OrganizationField()
    stack = TenantStackField()
    landing_urls = serializers.ListField(child=text.CharField(max_length=500), max_length=20, required=False)
    rebroadcasts = RebroadcastSerializer(many=True, required=False)
    assignee = text.EmailField(source="assignee.email", read_only=True, default=None, allow_null=True)
    allowed_transitions = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = MediaEvent
        # The editable fields are the booking service's; the rest is read-only.
        fields = [
            "id",
            "organization",
            *services.EDITABLE_FIELDS,
            "rebroadcasts",
            "status",
            "assignee",
            "peak_visits_per_s",
            "peak_origin_rps",
            "peak_origin_rps_high",
            "allowed_transitions",
            "warnings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "peak_visits_per_s",
            "peak_origin_rps",
            "peak_origin_rps_high",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "expected_audience": {"min_value": 1, "max_value": 100_000_000},
            "audience_share": {"min_value": 0, "max_value": 100},
        }

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["organization"].read_only = True
        return fields

    def get_allowed_transitions(self, event) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        if "membership_roles" not in self.context:
            # Once per response, not once per event.
            self.context["membership_roles"] = dict(
                Membership.objects.filter(user=request.user).values_list("organization_id", "role")
            )
        transitions = lifecycle.transitions_for(event, request.user, membership_roles=self.context["membership_roles"])
        return [transition.name for transition in transitions]

    def get_warnings(self, event) -> list[str]:
        return [f"{url} is not https: visitors may see a security warning." for url in event.url_warnings()]

    def to_representation(self, event):
        data = super().to_representation(event)
        data["rebroadcasts"] = RebroadcastSerializer(event.rebroadcasts.all(), many=True).data
        return data


class TransitionSerializer(serializers.Serializer):
    reason = text.CharField(required=False, allow_blank=True, max_length=1000)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_staff=True, is_active=True), required=False, allow_null=True
    )


class ForecastPointSerializer(serializers.Serializer):
    minute = serializers.IntegerField(help_text="Minutes after air start.")
    at = serializers.DateTimeField()
    visits_per_s = BandSerializer()
    edge_rps = BandSerializer()
    origin_rps = BandSerializer()
    sessions = BandSerializer()


class PeakSerializer(serializers.Serializer):
    value = BandSerializer()
    minute = serializers.IntegerField()


class ForecastSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    air_start = serializers.DateTimeField()
    baseline_rps = serializers.FloatField()
    total_visits = BandSerializer()
    peak_visits_per_s = PeakSerializer()
    peak_edge_rps = PeakSerializer()
    peak_origin_rps = PeakSerializer()
    peak_sessions = PeakSerializer()
    points = ForecastPointSerializer(many=True)


class EventFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    status = django_filters.MultipleChoiceFilter(choices=MediaEvent.Status.choices)
    air_after = UtcDateTimeFilter(field_name="air_start", lookup_expr="gte")
    air_before = UtcDateTimeFilter(field_name="air_start", lookup_expr="lt")
    stack = related_id("stack", "A stack's id.")

    class Meta:
        model = MediaEvent
        fields = ["organization", "status", "stack", "kind", "air_after", "air_before"]


TRANSITION_DOC = "Move the event along its lifecycle; 409 with `allowed_next_statuses` when the status forbids it."


class EventViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """Media events: booking, lifecycle transitions and the traffic forecast."""

    queryset = MediaEvent.objects.select_related("organization", "stack", "assignee").prefetch_related("rebroadcasts")
    serializer_class = EventSerializer
    filterset_class = EventFilter
    search_fields = ["title", "channel", "programme"]
    ordering_fields = ["air_start", "created_at", "expected_audience"]
    ordering = ["air_start"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        rebroadcasts = data.pop("rebroadcasts", [])
        serializer.instance = services.event_create(
            organization=organization, by=self.request.user, data=data, rebroadcasts=rebroadcasts
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        rebroadcasts = data.pop("rebroadcasts", None)
        serializer.instance = services.event_update(
            event=serializer.instance, by=self.request.user, data=data, rebroadcasts=rebroadcasts
        )

    def _transition(self, request, name):
        event = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = services.event_transition(
            event=event,
            name=name,
            by=request.user,
            reason=body.validated_data.get("reason", ""),
            assignee=body.validated_data.get("assignee"),
        )
        return Response(self.get_serializer(event).data)

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(request, "submit")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._transition(request, "accept")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def prepare(self, request, pk=None):
        return self._transition(request, "prepare")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"], url_path="mark-ready")
    def mark_ready(self, request, pk=None):
        return self._transition(request, "mark_ready")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"], url_path="go-on-air")
    def go_on_air(self, request, pk=None):
        return self._transition(request, "go_on_air")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(request, "complete")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return self._transition(request, "review")

    @extend_schema(request=TransitionSerializer, responses=EventSerializer, description=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, "cancel")

    @extend_schema(responses=ForecastSerializer, description="The forecast, minute by minute, with its band.")
    @action(detail=True, methods=["get"])
    def forecast(self, request, pk=None):
        event = self.get_object()
        forecast = forecast_for_event(event)
        body = {
            "event": event.pk,
            "air_start": event.air_start,
            "baseline_rps": forecast.baseline_rps,
            "total_visits": forecast.total_visits,
            "peak_visits_per_s": forecast.peak_visits_per_s,
            "peak_edge_rps": forecast.peak_edge_rps,
            "peak_origin_rps": forecast.peak_origin_rps,
            "peak_sessions": forecast.peak_sessions,
            "points": [
                {
                    "minute": point.minute,
                    "at": event.air_start + timedelta(minutes=point.minute),
                    "visits_per_s": point.visits_per_s,
                    "edge_rps": point.edge_rps,
                    "origin_rps": point.origin_rps,
                    "sessions": point.sessions,
                }
                for point in forecast.points
            ],
        }
        return Response(ForecastSerializer(body).data)
