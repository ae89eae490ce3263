"""Runbook pages for engineers, under /engineering/runbooks/."""

from django.urls import path

from runbooks import views

urlpatterns = [
    path("", views.RunbookListView.as_view(), name="runbook-list"),
    path("new/", views.RunbookEditView.as_view(), name="runbook-create"),
    path("<int:pk>/", views.RunbookDetailView.as_view(), name="runbook-detail"),
    path("<int:pk>/edit/", views.RunbookEditView.as_view(), name="runbook-edit"),
    path("<int:pk>/history/", views.RunbookHistoryView.as_view(), name="runbook-history"),
    path("<int:pk>/start/", views.ExecutionStartView.as_view(), name="runbook-start"),
    path("executions/<int:pk>/", views.ExecutionView.as_view(), name="runbook-execution"),
    path(
        "executions/<int:pk>/steps/<int:step>/<slug:action>/",
        views.StepActionView.as_view(),
        name="runbook-execution-step",
    ),
    path("executions/<int:pk>/note/", views.ExecutionNoteView.as_view(), name="runbook-execution-note"),
    path("executions/<int:pk>/handover/", views.ExecutionHandoverView.as_view(), name="runbook-execution-handover"),
    path(
        "executions/<int:pk>/close/<slug:status>/", views.ExecutionCloseView.as_view(), name="runbook-execution-close"
    ),
]
