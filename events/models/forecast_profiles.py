from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.tenancy import TenantQuerySet


class ForecastProfile(models.Model):
    """An organization's overrides of the forecast parameters; empty fields keep the published defaults."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="forecast_profile")
    visit_rate = models.FloatField(_("share of viewers who visit"), null=True, blank=True)
    spike_share = models.FloatField(_("share of visits in the first spike"), null=True, blank=True)
    response_minutes = models.FloatField(_("spike decay (minutes)"), null=True, blank=True)
    tail_minutes = models.FloatField(_("tail decay (minutes)"), null=True, blank=True)
    pages_per_visit = models.FloatField(_("pages per visit"), null=True, blank=True)
    requests_per_page = models.FloatField(_("requests per page"), null=True, blank=True)
    uncached_per_page = models.FloatField(_("uncached requests per page"), null=True, blank=True)
    cdn_hit_ratio = models.FloatField(_("CDN hit ratio"), null=True, blank=True)
    session_minutes = models.FloatField(_("session length (minutes)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    PARAMETER_FIELDS = (
        "visit_rate",
        "spike_share",
        "response_minutes",
        "tail_minutes",
        "pages_per_visit",
        "requests_per_page",
        "uncached_per_page",
        "cdn_hit_ratio",
        "session_minutes",
    )

    class Meta:
        verbose_name = _("forecast profile")
        verbose_name_plural = _("forecast profiles")

    def __str__(self) -> str:
        return f"Forecast profile of {self.organization}"

    def overrides(self) -> dict[str, float]:
        return {field: getattr(self, field) for field in self.PARAMETER_FIELDS if getattr(self, field) is not None}
