"""Runbook executions a client reads, under /o/<org>/runbook-executions/."""

from django.urls import path

from runbooks import views_client

urlpatterns = [
    path("", views_client.ClientExecutionListView.as_view(), name="runbook-execution-list"),
    path("<int:pk>/", views_client.ClientExecutionDetailView.as_view(), name="runbook-execution-detail"),
]
