"""The REST API under /api/v1/: one router for every app's resources."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import views as accounts
from events.api import EventViewSet
from readiness.api import ReadinessRunViewSet
from scaling.api import ScalingPlanViewSet
from stacks.api import StackViewSet
from status.api import views as status_api

router = DefaultRouter()
router.register("organizations", accounts.OrganizationViewSet, basename="organization")
router.register("memberships", accounts.MembershipViewSet, basename="membership")
router.register("invitations", accounts.InvitationViewSet, basename="invitation")
router.register("tokens", accounts.ApiTokenViewSet, basename="token")
router.register("stacks", StackViewSet, basename="stack")
router.register("events", EventViewSet, basename="event")
router.register("readiness-runs", ReadinessRunViewSet, basename="readiness-run")
router.register("scaling-plans", ScalingPlanViewSet, basename="scaling-plan")
router.register("status-pages", status_api.StatusPageViewSet, basename="status-page")
router.register("status-component-groups", status_api.ComponentGroupViewSet, basename="status-component-group")
router.register("status-components", status_api.ComponentViewSet, basename="status-component")
router.register("status-incidents", status_api.IncidentViewSet, basename="status-incident")
router.register("status-maintenances", status_api.MaintenanceViewSet, basename="status-maintenance")

urlpatterns = [
    path("me/", accounts.MeView.as_view(), name="me"),
    *router.urls,
]
