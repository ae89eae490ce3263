"""What the live room records while an event is on air: observed traffic minute by minute, and notes.

A minute CloudWatch could not answer is a row with ``missing=True`` (and no figures), never zeros: the
room and the report must tell "no data" from "no traffic".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from portal.append_only import AppendOnly


class ObservedMinute(models.Model):
    """One minute of the stack's load balancers, summed across them (p95 latency: the worst of them)."""

    event = models.ForeignKey("events.MediaEvent", on_delete=models.CASCADE, related_name="observed_minutes")
    minute = models.DateTimeField(help_text=_("The minute's start, UTC."))
    requests = models.PositiveIntegerField(null=True, blank=True, help_text=_("RequestCount in the minute."))
    errors_5xx = models.PositiveIntegerField(null=True, blank=True, help_text=_("HTTPCode_ELB_5XX_Count."))
    p95_ms = models.FloatField(null=True, blank=True, help_text=_("TargetResponseTime p95, milliseconds."))
    missing = models.BooleanField(default=False, help_text=_("CloudWatch did not answer for this minute."))
    collected_at = models.DateTimeField(auto_now=True)

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["event", "minute"]
        constraints = [models.UniqueConstraint(fields=["event", "minute"], name="observed_once_per_minute")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.minute:%H:%M}: {self.requests}"

    @property
    def requests_per_second(self) -> float | None:
        return None if self.requests is None else self.requests / 60


class RoomNote(AppendOnly, models.Model):
    """The live room's shared timeline: what engineers wrote and what automated actions did. Append-only."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        ACTION = "action", _("Action")

    event = models.ForeignKey("events.MediaEvent", on_delete=models.CASCADE, related_name="room_notes")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NOTE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    text = models.TextField()

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M} {self.text[:40]}"
