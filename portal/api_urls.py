"""The REST API under /api/v1/: one router for every app's resources."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import views as accounts
from events.api import EventViewSet
from readiness.api import ReadinessRunViewSet
from scaling.api import ScalingPlanViewSet
from stacks.api import StackViewSet

router = DefaultRouter()
router.register("organizations", accounts.OrganizationViewSet, basename="organization")
router.register("memberships", accounts.MembershipViewSet, basename="membership")
router.register("invitations", accounts.InvitationViewSet, basename="invitation")
router.register("tokens", accounts.ApiTokenViewSet, basename="token")
router.register("stacks", StackViewSet, basename="stack")
router.register("events", EventViewSet, basename="event")
router.register("readiness-runs", ReadinessRunViewSet, basename="readiness-run")
router.register("scaling-plans", ScalingPlanViewSet, basename="scaling-plan")

urlpatterns = [
    path("me/", accounts.MeView.as_view(), name="me"),
    *router.urls,
]
