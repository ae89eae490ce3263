from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from accounts.tenancy import TenantQuerySet
from stacks.models import Stack


class MediaEvent(models.Model):
    """A booked broadcast: when it airs, how many people watch, and which stack it puts at risk."""

    class Kind(models.TextChoices):
        TV_SEGMENT = "tv_segment", _("TV show segment")
        TV_ADVERT = "tv_advert", _("TV advert")
        RADIO = "radio", _("Radio")
        PRESS = "press", _("Press")
        NEWSLETTER = "newsletter", _("Newsletter or campaign")
        SALE = "sale", _("Sale or launch")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", pgettext_lazy("event status", "Accepted")
        PREPARING = "preparing", _("Preparing")
        READY = "ready", _("Ready")
        ON_AIR = "on_air", _("On air")
        COMPLETED = "completed", _("Completed")
        REVIEWED = "reviewed", _("Reviewed")
        CANCELLED = "cancelled", _("Cancelled")

    class UrlExposure(models.TextChoices):
        ON_SCREEN = "on_screen", _("Shown on screen")
        MENTIONED = "mentioned", _("Said aloud")
        SEARCH_ONLY = "search_only", _("Only found by search")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="media_events", verbose_name=_("organization")
    )
    stack = models.ForeignKey(Stack, on_delete=models.PROTECT, related_name="media_events", verbose_name=_("stack"))
    title = models.CharField(_("title"), max_length=160)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TV_SEGMENT)
    channel = models.CharField(_("channel"), max_length=80, blank=True)
    programme = models.CharField(_("programme"), max_length=120, blank=True)
    notes = models.TextField(_("notes for the engineers"), blank=True, max_length=5000)

    air_start = models.DateTimeField(_("air start"))
    air_end = models.DateTimeField(_("air end"))

    expected_audience = models.PositiveIntegerField(_("expected audience"))
    audience_share = models.DecimalField(_("audience share (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    url_exposure = models.CharField(
        _("how people find the site"), max_length=20, choices=UrlExposure.choices, default=UrlExposure.ON_SCREEN
    )
    landing_urls = models.JSONField(_("landing URLs"), default=list, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_media_events",
        verbose_name=_("lead engineer"),
        help_text=_("Leads the watch of the air window; one air window at a time."),
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backup_media_events",
        verbose_name=_("backup engineer"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("booked"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The likely and high peaks of the current forecast, kept with the event
    # so that lists and the queue sort and rate risk without recomputing it.
    peak_visits_per_s = models.FloatField(default=0, editable=False)
    peak_origin_rps = models.FloatField(default=0, editable=False)
    peak_origin_rps_high = models.FloatField(default=0, editable=False)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["air_start"]
        verbose_name = _("media event")
        verbose_name_plural = _("media events")
        indexes = [
            # The queue and the API list sort every visible event by air time.
            models.Index(fields=["air_start"]),
            models.Index(fields=["organization", "air_start"]),
            models.Index(fields=["status", "air_start"]),
            models.Index(fields=["stack", "air_start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(air_end__gt=models.F("air_start")), name="event_end_after_start"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def segment_minutes(self) -> float:
        return (self.air_end - self.air_start).total_seconds() / 60

    @property
    def tail_end(self):
        """Return when the clock completes the event: air end plus the tail."""
        return self.air_end + settings.EVENT_TAIL

    def is_locked(self) -> bool:
        """Tell whether the event has aired (or is airing) or was cancelled, so nothing about it changes."""
        return self.status in LOCKED_STATUSES

    def is_under_review(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.SUBMITTED}

    def time_left(self, now=None) -> timedelta:
        return self.air_start - (now or timezone.now())

    def url_warnings(self) -> list[str]:
        return [url for url in self.landing_urls if url.startswith("http://")]


LOCKED_STATUSES = {
    MediaEvent.Status.ON_AIR,
    MediaEvent.Status.COMPLETED,
    MediaEvent.Status.REVIEWED,
    MediaEvent.Status.CANCELLED,
}


class Rebroadcast(models.Model):
    """A later airing of the same segment: its own, smaller spike."""

    event = models.ForeignKey(MediaEvent, on_delete=models.CASCADE, related_name="rebroadcasts")
    air_start = models.DateTimeField(_("air start"))
    expected_audience = models.PositiveIntegerField(
        _("expected audience"), null=True, blank=True, help_text=_("Leave empty to use the usual fraction.")
    )

    tenant_field = "event__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["air_start"]
        verbose_name = _("rebroadcast")
        verbose_name_plural = _("rebroadcasts")

    def __str__(self) -> str:
        return f"{self.event} again at {self.air_start:%Y-%m-%d %H:%M}"
