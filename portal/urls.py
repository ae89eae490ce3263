from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.forms import QueuedPasswordResetForm, SignInForm
from accounts.views import invitations, members, organizations, profile
from cloud import views as cloud_views
from events.views import calendar, forecast_settings, queue
from events.views import events as event_views
from portal import health
from readiness import views as readiness_views
from scaling import views as scaling_views
from stacks import views as stack_views

auth_patterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("profile/", profile.profile, name="profile"),
    path("tokens/<int:pk>/revoke/", profile.token_revoke, name="token-revoke"),
]

organization_patterns = [
    path("", organizations.DashboardView.as_view(), name="organization-dashboard"),
    path("settings/", organizations.OrganizationSettingsView.as_view(), name="organization-settings"),
    path("members/", members.MembersView.as_view(), name="organization-members"),
    path("members/<int:pk>/role/", members.MembershipRoleView.as_view(), name="membership-role"),
    path("members/<int:pk>/remove/", members.MembershipRemoveView.as_view(), name="membership-remove"),
    path("invitations/<int:pk>/revoke/", members.InvitationRevokeView.as_view(), name="invitation-revoke"),
    path("events/", event_views.EventListView.as_view(), name="event-list"),
    path("events/new/", event_views.EventCreateView.as_view(), name="event-create"),
    path("events/<int:pk>/", event_views.EventDetailView.as_view(), name="event-detail"),
    path("events/<int:pk>/edit/", event_views.EventUpdateView.as_view(), name="event-update"),
    path("events/<int:pk>/assign/", event_views.EventAssignView.as_view(), name="event-assign"),
    path("events/<int:pk>/readiness/", readiness_views.RunStartView.as_view(), name="readiness-start"),
    path("events/<int:pk>/readiness/<int:run>/", readiness_views.RunDetailView.as_view(), name="readiness-run"),
    path("events/<int:pk>/scaling/", scaling_views.PlanCreateView.as_view(), name="scaling-plan-create"),
    path(
        "events/<int:pk>/scaling/<int:plan>/<slug:action>/",
        scaling_views.PlanActionView.as_view(),
        name="scaling-plan-action",
    ),
    path(
        "events/<int:pk>/scaling/<int:plan>/targets/<int:target>/approve/",
        scaling_views.RecommendationApproveView.as_view(),
        name="scaling-recommendation-approve",
    ),
    # Per-event pages of the live room, runbook executions and the post-event report.
    path("events/<int:pk>/live/", include("live.urls")),
    path("events/<int:pk>/report/", include("reports.urls")),
    path("runbook-executions/", include("runbooks.urls_client")),
    # Last among events/<pk>/…: any other slug is a transition name.
    path("events/<int:pk>/<slug:name>/", event_views.EventTransitionView.as_view(), name="event-transition"),
    path("stacks/", stack_views.StackListView.as_view(), name="stack-list"),
    path("stacks/new/", stack_views.StackFormView.as_view(), name="stack-create"),
    path("stacks/<int:pk>/", stack_views.StackFormView.as_view(), name="stack-update"),
    path("stacks/<int:pk>/resources/", cloud_views.StackResourcesView.as_view(), name="stack-resources"),
    path("forecast/", forecast_settings.ForecastSettingsView.as_view(), name="forecast-settings"),
    path("scaling-policy/", scaling_views.ScalingPolicyView.as_view(), name="scaling-policy"),
    path("aws/", cloud_views.AccountView.as_view(), name="cloud-account"),
    path("aws/automation/", scaling_views.AutomationSwitchView.as_view(), name="automation-switch"),
    path("aws/primetime-access-role.yaml", cloud_views.TemplateDownloadView.as_view(), name="cloud-template"),
    path("status-pages/", include("status.urls_portal")),
]

urlpatterns = [
    path("", organizations.home, name="home"),
    path("accounts/", include(auth_patterns)),
    path("o/<slug:org>/", include(organization_patterns)),
    path(
        "engineering/organizations/",
        organizations.EngineeringOrganizationsView.as_view(),
        name="engineering-organizations",
    ),
    path(
        "engineering/organizations/new/",
        organizations.OrganizationCreateView.as_view(),
        name="organization-create",
    ),
    path("engineering/queue/", queue.QueueView.as_view(), name="engineering-queue"),
    path("engineering/status-page/", include("status.urls_engineering")),
    path("engineering/runbooks/", include("runbooks.urls")),
    path("status/<slug:slug>/", include("status.urls_public")),
    path("calendar/<str:token>/air-windows.ics", calendar.calendar_feed, name="calendar-feed"),
    path("invitations/<str:token>/", invitations.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("language/", profile.language_switch, name="language-switch"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(("portal.api_urls", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# A database that cannot be reached answers 503 with a clear page, any other error the 500 page (fault suite, issue 8).
handler500 = "portal.errors.server_error"
# An unknown address under /api/ answers the API's JSON error.
handler404 = "portal.errors.page_not_found"
