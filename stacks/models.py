from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.tenancy import TenantQuerySet
from portal.netguard import validate_public_url

MAX_KEY_URLS = 20


def validate_key_url(url: str) -> None:
    if len(url) > 500:
        raise ValidationError(_("Keep addresses under 500 characters."))
    validate_public_url(url)


class Stack(models.Model):
    """What a media event puts at risk: the public URLs people open, and (later) the cloud resources behind them."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="stacks",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=120, help_text=_("e.g. “Shop website” or “Booking app”."))
    landing_url = models.URLField(
        _("landing page"),
        max_length=500,
        validators=[validate_public_url],
        help_text=_("The address shown on screen or found by search, e.g. https://www.example.com/."),
    )
    key_urls = models.JSONField(
        _("key pages"),
        default=list,
        blank=True,
        help_text=_("Other pages visitors will open: product page, sign-up, checkout."),
    )
    health_url = models.URLField(
        _("API health URL"),
        max_length=500,
        blank=True,
        validators=[validate_public_url],
        help_text=_("An address that answers 200 when the application and its database are fine."),
    )
    cdn_hostname = models.CharField(
        _("CDN hostname"),
        max_length=253,
        blank=True,
        help_text=_("e.g. d111111abcdef8.cloudfront.net, if the site is behind a CDN."),
    )
    normal_peak_rps = models.PositiveIntegerField(
        _("normal peak (requests/s at the origin)"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The busiest normal traffic your servers see, in requests per second. 0 if unknown."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "name"]
        verbose_name = _("stack")
        verbose_name_plural = _("stacks")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="stack_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.key_urls, list) or not all(isinstance(url, str) for url in self.key_urls):
            raise ValidationError({"key_urls": _("Give a list of addresses.")})
        if len(self.key_urls) > MAX_KEY_URLS:
            raise ValidationError({"key_urls": _("Give at most %(count)d key pages.") % {"count": MAX_KEY_URLS}})
        errors = []
        for url in self.key_urls:
            try:
                validate_key_url(url)
            except ValidationError as error:
                errors.append(f"{url}: {' '.join(error.messages)}")
        if errors:
            raise ValidationError({"key_urls": errors})

    @property
    def landing_urls(self) -> list[str]:
        """Return the pages a broadcast sends people to: the landing page, then the key pages."""
        return list(dict.fromkeys(url for url in [self.landing_url, *self.key_urls] if url))
