from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.tenancy import TenantViewSetMixin
from events.models import MediaEvent
from portal import serializers as text
from portal.filters import related_id
from scaling import services
from scaling.models import PlanTarget, ScalingAction, ScalingPlan


class PlanTargetSerializer(text.ModelSerializer):
    class Meta:
        model = PlanTarget
        fields = [
            "id",
            "kind",
            "identifier",
            "name",
            "region",
            "now",
            "target",
            "scale_up_at",
            "revert_steps",
            "reason",
            "refused",
            "needs_separate_approval",
            "outage_note",
            "separately_approved_at",
        ]


class ScalingActionSerializer(text.ModelSerializer):
    actor = text.EmailField(source="actor.email", read_only=True, default=None)

    class Meta:
        model = ScalingAction
        fields = [
            "at",
            "actor",
            "resource",
            "service",
            "operation",
            "request_id",
            "before",
            "after",
            "result",
            "message",
        ]


class PlanSerializer(text.ModelSerializer):
    targets = PlanTargetSerializer(many=True, read_only=True)

    class Meta:
        model = ScalingPlan
        fields = [
            "id",
            "event",
            "status",
            "safety_factor",
            "totals",
            "message",
            "created_at",
            "approved_at",
            "applied_at",
            "cancelled_at",
            "verified_at",
            "shortfall",
            "targets",
        ]


@extend_schema_field(OpenApiTypes.INT)
class VisibleEventField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return MediaEvent.objects.for_user(request.user if request else None)


class PlanCreateSerializer(serializers.Serializer):
    event = VisibleEventField()
    safety_factor = serializers.FloatField(
        min_value=1.0, max_value=5.0, required=False, help_text="Defaults to the organization's scaling policy."
    )


class RecommendationApproveSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="The id of the plan's target to approve.")

    def validate_target(self, value):
        try:
            return self.context["plan"].targets.get(pk=value)
        except PlanTarget.DoesNotExist:
            raise serializers.ValidationError("This plan has no target with this id.") from None


class ScalingPlanFilter(django_filters.FilterSet):
    event = related_id("event", "A media event's id.")

    class Meta:
        model = ScalingPlan
        fields = ["event", "status"]


class ScalingPlanViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scaling plans: clients read them; engineers plan, approve, apply and cancel."""

    queryset = ScalingPlan.objects.select_related("event").prefetch_related("targets")
    serializer_class = PlanSerializer
    filterset_class = ScalingPlanFilter
    ordering_fields = ["created_at"]

    @extend_schema(request=PlanCreateSerializer, responses={201: PlanSerializer})
    def create(self, request, *args, **kwargs):
        body = PlanCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        plan = services.plan_create(
            event=body.validated_data["event"], by=request.user, safety_factor=body.validated_data.get("safety_factor")
        )
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def _act(self, service, request):
        plan = service(plan=self.get_object(), by=request.user)
        return Response(PlanSerializer(plan).data)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._act(services.plan_approve, request)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        return self._act(services.plan_apply, request)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(services.plan_cancel, request)

    @extend_schema(
        request=RecommendationApproveSerializer,
        responses=PlanSerializer,
        description="Approve one ElastiCache or RDS recommendation of the plan on its own (engineers).",
    )
    @action(detail=True, methods=["post"], url_path="approve-recommendation")
    def approve_recommendation(self, request, pk=None):
        plan = self.get_object()
        body = RecommendationApproveSerializer(data=request.data, context={"plan": plan})
        body.is_valid(raise_exception=True)
        services.recommendation_approve(target=body.validated_data["target"], by=request.user)
        return Response(PlanSerializer(ScalingPlan.objects.get(pk=plan.pk)).data)

    @extend_schema(responses=ScalingActionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def audit(self, request, pk=None):
        plan = self.get_object()
        return Response(ScalingActionSerializer(plan.actions.select_related("actor"), many=True).data)
