"""Readiness runs: one execution of every check for a media event, and the finding of each."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet


class Outcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    PASS = "pass", _("Pass")
    WARN = "warn", _("Warning")
    FAIL = "fail", _("Fail")
    ERROR = "error", _("Could not check")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")


class ReadinessRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Started by hand")
        API = "api", _("Started through the API")
        T_7_DAYS = "t-7d", _("7 days before air")
        T_24_HOURS = "t-24h", _("24 hours before air")
        T_2_HOURS = "t-2h", _("2 hours before air")

    class Verdict(models.TextChoices):
        READY = "ready", _("Ready")
        AT_RISK = "at_risk", _("At risk")
        NOT_READY = "not_ready", _("Not ready")

    event = models.ForeignKey("events.MediaEvent", on_delete=models.CASCADE, related_name="readiness_runs")
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    scheduled_for = models.DateTimeField(
        null=True, blank=True, help_text=_("For scheduled runs: the moment derived from the air time.")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    created_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    total_checks = models.PositiveIntegerField(default=0)
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("readiness run")
        verbose_name_plural = _("readiness runs")
        constraints = [
            # A scheduled milestone runs once for a given air time; moving the
            # air time derives a new moment, hence a new run.
            models.UniqueConstraint(
                fields=["event", "trigger", "scheduled_for"],
                condition=models.Q(scheduled_for__isnull=False),
                name="readiness_run_once_per_milestone",
            ),
        ]

    def __str__(self) -> str:
        return f"Readiness of {self.event} at {self.created_at:%Y-%m-%d %H:%M}"

    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class CheckResult(models.Model):
    """One check's finding on one target: a URL, a resource or the whole stack."""

    run = models.ForeignKey(ReadinessRun, on_delete=models.CASCADE, related_name="results")
    check_id = models.CharField(max_length=64)
    target = models.CharField(max_length=2048, blank=True)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=32)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING, db_index=True)
    message = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    remediation = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "run__event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["category", "check_id", "target"]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        constraints = [
            models.UniqueConstraint(fields=["run", "check_id", "target"], name="check_result_unique_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.check_id} {self.target} {self.outcome}"

    def is_done(self) -> bool:
        return self.outcome != Outcome.PENDING
