from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from portal.append_only import AppendOnly


class TimelineEntry(AppendOnly, models.Model):
    """One line of an event's history: who did what, when and why. Append-only."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Status change")
        CHANGE = "change", _("Edit")
        ASSIGNMENT = "assignment", _("Assignment")
        NOTE = "note", _("Note")

    event = models.ForeignKey("events.MediaEvent", on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the clock did it."),
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.event_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def to_status_label(self) -> str:
        from events.models.events import MediaEvent

        return MediaEvent.Status(self.to_status).label if self.to_status else ""
