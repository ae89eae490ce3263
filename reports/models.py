"""The post-event report of a media event, and the forecast calibrations it suggests to the organization."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from status.markdown import render


class EventReport(models.Model):
    """One event's report: figures computed from the observations, and the engineers' summary (Markdown)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    event = models.OneToOneField("events.MediaEvent", on_delete=models.CASCADE, related_name="report")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # Kept as computed: later forecasts (after a calibration) must not rewrite what this event showed.
    figures = models.JSONField(default=dict, blank=True)
    summary = models.TextField(_("summary"), blank=True, max_length=20_000)
    # Regenerating rewrites the summary only while no engineer has written it.
    summary_edited = models.BooleanField(default=False)
    generated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("event report")
        verbose_name_plural = _("event reports")

    def __str__(self) -> str:
        return f"Report of {self.event}"

    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def summary_html(self) -> SafeString:
        """Return the summary as sanitized HTML (markdown-it without raw HTML, then nh3)."""
        return mark_safe(render(self.summary))  # noqa: S308 - render() sanitizes with nh3


class CalibrationSuggestion(models.Model):
    """A forecast parameter as an event observed it, which an engineer accepts into the organization's profile."""

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="calibration_suggestions"
    )
    event = models.ForeignKey("events.MediaEvent", on_delete=models.CASCADE, related_name="calibration_suggestions")
    parameter = models.CharField(_("parameter"), max_length=40)
    observed = models.FloatField(_("observed"))
    assumed = models.FloatField(_("assumed"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUGGESTED)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "parameter"], name="calibration_once_per_event_parameter")
        ]

    def __str__(self) -> str:
        return f"{self.parameter}: {self.observed:g} observed vs {self.assumed:g} assumed"

    def is_open(self) -> bool:
        return self.status == self.Status.SUGGESTED
