"""Scaling plans (plan → approve → apply → reverted, or cancelled) and the audit of every AWS change."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from portal.append_only import AppendOnly


class ScalingPolicy(models.Model):
    """An organization's rules for pre-scaling: safety factor, caps, and whether the client co-approves plans."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="scaling_policy"
    )
    safety_factor = models.FloatField(
        _("safety factor"),
        default=1.5,
        validators=[MinValueValidator(1.0), MaxValueValidator(5.0)],
        help_text=_("Capacity planned above the forecast's high peak: 1.5 means 50 % more."),
    )
    max_instances = models.PositiveIntegerField(
        _("most instances"), null=True, blank=True, help_text=_("Refuse a plan that would run more instances.")
    )
    max_vcpus = models.PositiveIntegerField(_("most vCPUs"), null=True, blank=True)
    max_hourly_cost_eur = models.DecimalField(
        _("most extra cost per hour (€)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    client_co_approval = models.BooleanField(
        _("the client co-approves plans"),
        default=False,
        help_text=_("When on, an owner of the organization approves each plan too before it can be applied."),
    )

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("scaling policy")
        verbose_name_plural = _("scaling policies")

    def __str__(self) -> str:
        return f"Scaling policy of {self.organization}"


class ScalingPlan(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        APPROVED = "approved", _("Approved")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        REVERTED = "reverted", _("Reverted")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey("events.MediaEvent", on_delete=models.CASCADE, related_name="scaling_plans")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    safety_factor = models.FloatField(_("safety factor"), default=1.5)
    # What the plan was made from: applying is refused once it changed (drift).
    fingerprint = models.CharField(max_length=64)
    totals = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    client_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_approved_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # When the apply was last handed to a worker (applied, or sent again by the reconciler) or a worker last
    # started a try of it: a plan applying long after that has lost its worker (executor.plans_resend_stuck).
    apply_sent_at = models.DateTimeField(null=True, blank=True)
    apply_resends = models.PositiveSmallIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The T-10 minutes check of capacity actually in service against the targets.
    verified_at = models.DateTimeField(null=True, blank=True)
    shortfall = models.JSONField(default=list, blank=True)
    # After the last revert step: when the account was found back to normal, and when a check first found it
    # was not (the engineer is alerted once).
    reverted_at = models.DateTimeField(null=True, blank=True)
    revert_alerted_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("scaling plan")
        verbose_name_plural = _("scaling plans")

    def __str__(self) -> str:
        return f"Scaling plan {self.pk} of {self.event}"

    def is_open(self) -> bool:
        return self.status in {self.Status.PLANNED, self.Status.APPROVED, self.Status.APPLYING, self.Status.APPLIED}


class PlanTarget(models.Model):
    """One resource in a plan: now → target at scale-up → back at revert, with the reason."""

    plan = models.ForeignKey(ScalingPlan, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=40)
    identifier = models.CharField(max_length=2048)
    name = models.CharField(max_length=255)
    region = models.CharField(max_length=32)
    now = models.JSONField(default=dict)
    target = models.JSONField(default=dict)
    scale_up_at = models.DateTimeField()
    revert_steps = models.JSONField(default=list, help_text=_("[[ISO time, capacity], ...]"))
    reason = models.TextField(blank=True)
    refused = models.TextField(blank=True)
    needs_separate_approval = models.BooleanField(default=False)
    outage_note = models.TextField(blank=True)
    # A recommendation (ElastiCache or RDS replicas) is applied only once an engineer approved it on its own,
    # having read its outage note.
    separately_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    separately_approved_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "plan__event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "kind", "name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.now} → {self.target}"

    def is_automated(self) -> bool:
        """Tell whether applying the plan schedules this target on AWS (with its revert)."""
        if self.refused or self.kind not in AUTOMATED_KINDS:
            return False
        return not self.needs_separate_approval or self.separately_approved_at is not None

    def awaits_separate_approval(self) -> bool:
        return self.needs_separate_approval and not self.refused and self.separately_approved_at is None


AUTOMATED_KINDS = {
    "autoscaling_group",
    "ecs_service",
    "dynamodb_table",
    "load_balancer",
    "elasticache_replication_group",
    "rds_instance",
}
# AWS has no scheduler for these: the portal keeps their steps as PendingChange rows.
RECONCILED_KINDS = {"load_balancer", "elasticache_replication_group", "rds_instance"}


class PendingChange(models.Model):
    """A step AWS cannot schedule (an LCU reservation, cache or database replicas), applied by the reconciler."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLYING = "applying", _("Applying")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    target = models.ForeignKey(PlanTarget, on_delete=models.CASCADE, related_name="pending_changes")
    step = models.CharField(max_length=16)
    due_at = models.DateTimeField(db_index=True)
    capacity = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    tenant_field = "target__plan__event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["target", "step"], name="pending_change_once_per_step")]

    def __str__(self) -> str:
        return f"{self.target.name} {self.step} at {self.due_at:%Y-%m-%d %H:%M}"


class ScalingAction(AppendOnly, models.Model):
    """One audited AWS call that changed (or tried to change) a client's account. Append-only.

    A scheduling call's row is written before the call, "sent", so that a worker dying before the answer leaves
    it on record; that row alone is then completed once, from "sent" to its outcome (``services.action_settle``).
    """

    class Result(models.TextChoices):
        OK = "ok", _("Done")
        UNCHANGED = "unchanged", _("Already in place")
        ERROR = "error", _("Failed")
        SENT = "sent", _("Sent, no answer yet")
        CONFIRMED = "confirmed", _("Found in place on AWS")
        NOT_APPLIED = "not_applied", _("Not applied")

    # The results saying that the call's change is on AWS.
    ON_AWS = (Result.OK, Result.CONFIRMED)

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="scaling_actions")
    plan = models.ForeignKey(ScalingPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="actions")
    target = models.ForeignKey(PlanTarget, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when a worker acted on its own."),
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    resource = models.CharField(max_length=2048, blank=True)
    service = models.CharField(max_length=64, blank=True)
    operation = models.CharField(max_length=128)
    request = models.JSONField(default=dict, blank=True)
    response = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    result = models.CharField(
        max_length=16,
        choices=Result.choices,
        help_text=_(
            "sent: written before the call, no answer yet (a worker that stopped leaves it so until the next apply "
            "settles it); confirmed: the next apply found the change in place on AWS; not_applied: AWS refused "
            "it or did not hold it (then it was sent again, with a row of its own)."
        ),
    )
    message = models.TextField(blank=True)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.operation} {self.resource} {self.result}"
