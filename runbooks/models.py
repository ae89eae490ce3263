"""Runbooks: versioned procedures engineers follow, and the executions that record who did what.

A runbook's content lives in immutable versions (``RunbookVersion`` and its ``RunbookStep`` rows, both
append-only); an execution points at the version it follows, so editing a runbook never changes what an
old execution shows. The execution log (``ExecutionEntry``) is append-only too. ``AutomatedRun`` is the
one mutable row: the live state of an automated step, unique per execution and step (the claim).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from cloud.models import StackResource
from portal.append_only import AppendOnly


class Phase(models.TextChoices):
    BOOKING_REVIEW = "booking_review", _("Booking review")
    T_MINUS_7D = "t_minus_7d", _("T-7 days")
    T_MINUS_24H = "t_minus_24h", _("T-24 hours")
    T_MINUS_1H = "t_minus_1h", _("T-1 hour")
    ON_AIR = "on_air", _("On air")
    AFTER_AIR = "after_air", _("After air")
    INCIDENT = "incident", _("Incident")


class Runbook(models.Model):
    """A procedure's identity; its content is in its versions (the newest is the current one)."""

    title = models.CharField(_("title"), max_length=160)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    resource_kind = models.CharField(_("resource kind"), max_length=40, choices=StackResource.Kind.choices, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phase", "title"]
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")

    def __str__(self) -> str:
        return self.title

    @property
    def current_version(self) -> RunbookVersion | None:
        return self.versions.order_by("-number").first()


class RunbookVersion(AppendOnly, models.Model):
    """One immutable edition of a runbook: its title and intro as they were, with its steps."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=160)
    intro = models.TextField(_("introduction"), blank=True)
    intro_html = models.TextField(blank=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["runbook", "-number"]
        constraints = [models.UniqueConstraint(fields=["runbook", "number"], name="runbook_version_number_once")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class RunbookStep(AppendOnly, models.Model):
    class Kind(models.TextChoices):
        MANUAL_CHECK = "manual_check", _("Manual check")
        COMMAND = "command", _("Command or console link")
        CONFIRMATION = "confirmation", _("Required confirmation")
        AUTOMATED = "automated", _("Automated action")

    class Action(models.TextChoices):
        RUN_READINESS = "run_readiness", _("Run the readiness checks")
        APPLY_PLAN = "apply_plan", _("Apply the scaling plan")
        SCALE_NOW = "scale_now", _("Scale to the plan's targets now")
        REVERT_NOW = "revert_now", _("Revert capacity now")
        OPEN_INCIDENT = "open_incident", _("Open an incident on the status page")
        POST_STATUS_UPDATE = "post_status_update", _("Post a status update")
        NOTIFY_CLIENT = "notify_client", _("Notify the client")

    version = models.ForeignKey(RunbookVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("details (Markdown)"), blank=True)
    body_html = models.TextField(blank=True, editable=False)
    command = models.CharField(_("command, console link or action argument"), max_length=1000, blank=True)
    action = models.CharField(_("action"), max_length=24, choices=Action.choices, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "position"], name="runbook_step_position_once")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    @property
    def is_link(self) -> bool:
        return self.command.startswith("https://")


class RunbookExecution(models.Model):
    """One engineer (then whoever it is handed to) following one runbook version for an event or incident."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        ABANDONED = "abandoned", _("Abandoned")

    version = models.ForeignKey(RunbookVersion, on_delete=models.PROTECT, related_name="executions")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        "events.MediaEvent", on_delete=models.CASCADE, null=True, blank=True, related_name="runbook_executions"
    )
    incident = models.ForeignKey(
        "status.Incident", on_delete=models.CASCADE, null=True, blank=True, related_name="runbook_executions"
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("runbook execution")
        verbose_name_plural = _("runbook executions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event__isnull=False) | models.Q(incident__isnull=False),
                name="execution_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} for {self.event or self.incident}"

    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class ExecutionEntry(AppendOnly, models.Model):
    """One line of an execution's log: a step done, skipped or failed, a note, a handover. Append-only."""

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")
        HANDED_OVER = "handed_over", _("Handed over")
        NOTE = "note", _("Note")
        STARTED = "started", _("Started")
        CLOSED = "closed", _("Closed")

    execution = models.ForeignKey(RunbookExecution, on_delete=models.CASCADE, related_name="entries")
    step = models.ForeignKey(RunbookStep, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    note = models.TextField(blank=True)
    output = models.TextField(blank=True)

    tenant_field = "execution__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.execution_id} {self.outcome} {self.at:%H:%M}"


class AutomatedRun(models.Model):
    """The live state of one automated step in one execution; unique, so a second request finds the first."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    execution = models.ForeignKey(RunbookExecution, on_delete=models.CASCADE, related_name="automated_runs")
    step = models.ForeignKey(RunbookStep, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    output = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "execution__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "step"], name="automated_step_once")]

    def __str__(self) -> str:
        return f"{self.step} {self.status}"

    def is_live(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.RUNNING}
