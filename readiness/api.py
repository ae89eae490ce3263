from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.api.tenancy import TenantViewSetMixin
from events.models import MediaEvent
from portal import serializers as text
from portal.filters import related_id
from readiness import selectors, services
from readiness.models import CheckResult, ReadinessRun


class CheckResultSerializer(text.ModelSerializer):
    class Meta:
        model = CheckResult
        fields = [
            "check_id",
            "target",
            "title",
            "category",
            "severity",
            "outcome",
            "message",
            "evidence",
            "remediation",
            "duration_ms",
            "started_at",
            "finished_at",
        ]


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()


class RunSerializer(text.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ReadinessRun
        fields = [
            "id",
            "event",
            "trigger",
            "status",
            "verdict",
            "score",
            "total_checks",
            "progress",
            "created_at",
            "finished_at",
        ]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, run) -> dict:
        return ProgressSerializer(selectors.run_progress(run)).data


class RunDetailSerializer(RunSerializer):
    results = CheckResultSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "results"]


@extend_schema_field(OpenApiTypes.INT)
class VisibleEventField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return MediaEvent.objects.for_user(request.user if request else None)


class RunCreateSerializer(serializers.Serializer):
    event = VisibleEventField(help_text="The media event to check.")


class ReadinessRunFilter(django_filters.FilterSet):
    event = related_id("event", "A media event's id.")

    class Meta:
        model = ReadinessRun
        fields = ["event", "status", "verdict"]


class ReadinessRunViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Readiness runs: every check of an event's site and AWS stack, with progress while running."""

    queryset = ReadinessRun.objects.select_related("event")
    filterset_class = ReadinessRunFilter
    ordering_fields = ["created_at"]

    def get_serializer_class(self):
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("results")
        return queryset

    @extend_schema(request=RunCreateSerializer, responses={202: RunSerializer})
    def create(self, request, *args, **kwargs):
        body = RunCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        run = services.run_start(event=body.validated_data["event"], by=request.user, trigger=ReadinessRun.Trigger.API)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
