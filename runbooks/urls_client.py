"""Runbook executions a client reads, under /o/<org>/runbook-executions/."""

urlpatterns: list = []
