"""Status pages: components in groups, incidents and scheduled maintenance with their updates, uptime per day,
subscribers. Statuspage's vocabulary and enums throughout, so the public JSON maps one to one.

Each public object carries a stable 12-character ``public_id`` (what the JSON calls ``id``): database keys
never leave the portal.
"""

from __future__ import annotations

import secrets
import string
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.tenancy import TenantQuerySet
from portal.append_only import AppendOnly

PUBLIC_ID_ALPHABET = string.ascii_lowercase + string.digits
PUBLIC_ID_LENGTH = 12


def new_public_id() -> str:
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


def public_id_field() -> models.CharField:
    return models.CharField(max_length=PUBLIC_ID_LENGTH, unique=True, default=new_public_id, editable=False)


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


hostname_validator = RegexValidator(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Give a host name in lower case, like status.example.com (no scheme, no path)."),
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Give a colour as #rrggbb, like #0b57d0."))


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    DEGRADED_PERFORMANCE = "degraded_performance", _("Degraded performance")
    PARTIAL_OUTAGE = "partial_outage", _("Partial outage")
    MAJOR_OUTAGE = "major_outage", _("Major outage")
    UNDER_MAINTENANCE = "under_maintenance", _("Under maintenance")


# Worst last: a page's overall state is the worst of its components'.
COMPONENT_SEVERITY = [
    ComponentStatus.OPERATIONAL,
    ComponentStatus.UNDER_MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
]


class StatusPage(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        PASSWORD = "password", _("Private, with a password")
        MEMBERS = "members", _("Private, for signed-in members")

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        FRENCH = "fr", "Français"

    public_id = public_id_field()
    # Empty for the provider-wide page, which only engineers manage.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="status_pages"
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("address"), max_length=60, unique=True, help_text=_("The page answers at /status/ followed by this address.")
    )
    custom_domain = models.CharField(
        _("custom domain"),
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        validators=[hostname_validator],
        help_text=_("Optional: point a CNAME of this host at the portal and the page answers on it."),
    )
    logo = models.ImageField(_("logo"), upload_to="status/logos/", blank=True)
    accent_colour = models.CharField(_("accent colour"), max_length=7, default="#0b57d0", validators=[colour_validator])
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris", choices=time_zone_choices)
    language = models.CharField(_("default language"), max_length=2, choices=Language.choices, default="en")
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default="public")
    password_hash = models.CharField(max_length=256, blank=True, editable=False)
    clients_can_post = models.BooleanField(
        _("the client's owners may post incidents"),
        default=False,
        help_text=_("When on, owners of the organization create and update incidents and maintenance too."),
    )
    # Probes: how many failures in a row before a component degrades, how many successes before it recovers.
    probe_failures_to_degrade = models.PositiveSmallIntegerField(
        _("failures before degrading"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    probe_successes_to_recover = models.PositiveSmallIntegerField(
        _("successes before recovering"), default=2, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    probes_open_draft_incidents = models.BooleanField(
        _("probes open a draft incident"),
        default=True,
        help_text=_("When a probe degrades a component, a draft incident waits for an engineer to publish it."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("status page")
        verbose_name_plural = _("status pages")

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC

    def set_password(self, raw: str) -> None:
        from django.contrib.auth.hashers import make_password

        self.password_hash = make_password(raw)

    def check_password(self, raw: str) -> bool:
        from django.contrib.auth.hashers import check_password

        return bool(self.password_hash) and check_password(raw, self.password_hash)


class ComponentGroup(models.Model):
    public_id = public_id_field()
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["page", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    public_id = public_id_field()
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    group = models.ForeignKey(
        ComponentGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="components"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    status = models.CharField(
        _("status"), max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    # When the current status began: uptime counts from here to the next change.
    status_since = models.DateTimeField(default=timezone.now, editable=False)
    only_show_if_degraded = models.BooleanField(_("show only when degraded"), default=False)
    showcase = models.BooleanField(_("show its uptime bar"), default=True)
    start_date = models.DateField(_("counted from"), null=True, blank=True)
    # Automatic status: a URL probed on the probes queue (checked by the SSRF guard when saved and fetched).
    probe_url = models.URLField(_("URL to probe"), max_length=2048, blank=True)
    stack = models.ForeignKey(
        "stacks.Stack", on_delete=models.SET_NULL, null=True, blank=True, related_name="status_components"
    )
    probe_interval_seconds = models.PositiveIntegerField(
        _("probe every (seconds)"), default=60, validators=[MinValueValidator(30), MaxValueValidator(3600)]
    )
    probe_failures = models.PositiveIntegerField(default=0, editable=False)
    probe_successes = models.PositiveIntegerField(default=0, editable=False)
    last_probed_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_probe_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    last_probe = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["page", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class Incident(models.Model):
    """An incident, or a scheduled maintenance (Statuspage keeps both in one shape)."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        MAINTENANCE = "maintenance", _("Scheduled maintenance")

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", _("Investigating")
        IDENTIFIED = "identified", _("Identified")
        MONITORING = "monitoring", _("Monitoring")
        RESOLVED = "resolved", _("Resolved")
        POSTMORTEM = "postmortem", _("Post-mortem")
        # Maintenance words in their own context: "Completed" is feminine here ("la maintenance").
        SCHEDULED = "scheduled", pgettext_lazy("maintenance", "Scheduled")
        IN_PROGRESS = "in_progress", pgettext_lazy("maintenance", "In progress")
        VERIFYING = "verifying", pgettext_lazy("maintenance", "Verifying")
        COMPLETED = "completed", pgettext_lazy("maintenance", "Completed")

    class Impact(models.TextChoices):
        NONE = "none", _("None")
        MINOR = "minor", _("Minor")
        MAJOR = "major", _("Major")
        CRITICAL = "critical", _("Critical")
        MAINTENANCE = "maintenance", _("Maintenance")

    public_id = public_id_field()
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    impact = models.CharField(_("impact"), max_length=12, choices=Impact.choices, default=Impact.MINOR)
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    # A draft (opened by a probe) is not public until an engineer publishes it.
    is_draft = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    postmortem_body = models.TextField(_("post-mortem"), blank=True)
    postmortem_published_at = models.DateTimeField(null=True, blank=True)
    # Maintenance only.
    scheduled_for = models.DateTimeField(_("from"), null=True, blank=True)
    scheduled_until = models.DateTimeField(_("until"), null=True, blank=True)
    auto_transition = models.BooleanField(
        _("start and complete on time"), default=True, help_text=_("Maintenance starts and completes by itself.")
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    media_event = models.ForeignKey(
        "events.MediaEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="announcements"
    )

    tenant_field = "page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["page", "kind", "-started_at"], name="incident_page_kind_started"),
            models.Index(fields=["page", "kind", "status"], name="incident_page_kind_status"),
            # History months, the last days and the months around one: ranges of started_at, any kind.
            models.Index(fields=["page", "-started_at"], name="incident_page_started"),
            # What changed since the last publish.
            models.Index(fields=["page", "updated_at"], name="incident_page_updated"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_maintenance(self) -> bool:
        return self.kind == self.Kind.MAINTENANCE

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED_STATUSES


INCIDENT_FLOW = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
MAINTENANCE_FLOW = ["scheduled", "in_progress", "verifying", "completed"]
UNRESOLVED_STATUSES = {"investigating", "identified", "monitoring"}


class IncidentUpdate(models.Model):
    public_id = public_id_field()
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(_("status"), max_length=16, choices=Incident.Status.choices)
    body = models.TextField(_("message"), help_text=_("Markdown: links, emphasis, lists."))
    # Sanitized HTML kept beside the Markdown, so pages never render unsanitized text.
    body_html = models.TextField(editable=False, blank=True)
    display_at = models.DateTimeField(_("shown as of"), default=timezone.now)
    deliver_notifications = models.BooleanField(_("notify subscribers"), default=True)
    # [{"code": component public id, "name", "old_status", "new_status"}], as Statuspage shows them.
    affected_components = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "incident__page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-display_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.incident}: {self.status}"


class UptimeDay(models.Model):
    """Seconds a component spent in each status on one day (the page's time zone), kept as it happens."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="uptime_days")
    day = models.DateField()
    operational = models.PositiveIntegerField(default=0)
    degraded_performance = models.PositiveIntegerField(default=0)
    partial_outage = models.PositiveIntegerField(default=0)
    major_outage = models.PositiveIntegerField(default=0)
    under_maintenance = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["component", "day"]
        constraints = [models.UniqueConstraint(fields=["component", "day"], name="uptime_once_per_day")]

    def __str__(self) -> str:
        return f"{self.component} {self.day}"


class Subscriber(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    public_id = public_id_field()
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="subscribers")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    email = models.EmailField(blank=True)
    endpoint = models.URLField(max_length=2048, blank=True)
    # Signs webhook bodies (HMAC-SHA256); shown once to the subscriber.
    secret = models.CharField(max_length=64, blank=True, editable=False)
    # Empty: the whole page.
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_field = "page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "email"], condition=~models.Q(email=""), name="subscriber_email_once_per_page"
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.endpoint

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class Delivery(models.Model):
    """One notification to one subscriber, retried with backoff; dead after the last try."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Gave up")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=32)
    # Names the notification ("incident_update:<id>"): one delivery per subscriber and notification.
    key = models.CharField(max_length=96)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "subscriber__page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "key"], name="delivery_once_per_notification"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.subscriber}: {self.status}"


class StatusAuditEntry(AppendOnly, models.Model):
    """Who changed what on a status page, and when. Append-only."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when a probe or the clock acted."),
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64)
    subject = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    tenant_field = "page__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = _("status audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject}"
