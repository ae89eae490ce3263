"""An organization's AWS link and the cloud resources attached to its stacks.

The portal never holds a client's keys: it assumes the client's role with an
external id it generated (invariant 4).
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.tenancy import TenantQuerySet
from stacks.models import Stack

ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def new_external_id() -> str:
    # Unguessable and unique per organization: it is what stops another AWS
    # customer from making us act on this client's account (confused deputy).
    return f"primetime-{secrets.token_hex(16)}"


def validate_role_arn(value: str) -> None:
    if not ROLE_ARN.match(value):
        raise ValidationError(
            _("Give the role's ARN, like arn:aws:iam::123456789012:role/PrimetimeAccess."), code="invalid_arn"
        )


def default_regions() -> list[str]:
    return [settings.AWS_DEFAULT_REGION]


class CloudAccount(models.Model):
    class Status(models.TextChoices):
        NOT_LINKED = "not_linked", _("Not linked")
        VERIFYING = "verifying", _("Verifying")
        VERIFIED = "verified", _("Verified")
        REFUSED = "refused", _("Refused")
        ERROR = "error", _("Could not verify")

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="cloud_account", verbose_name=_("organization")
    )
    external_id = models.CharField(
        _("external id"), max_length=64, unique=True, default=new_external_id, editable=False
    )
    role_arn = models.CharField(_("role ARN"), max_length=2048, blank=True, validators=[validate_role_arn])
    regions = models.JSONField(_("regions"), default=default_regions)
    tag_key = models.CharField(
        _("tag key"),
        max_length=128,
        default="primetime:stack",
        help_text=_("Resources carrying this tag are offered for the stack named by its value."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NOT_LINKED)
    status_message = models.TextField(_("status message"), blank=True)
    aws_account_id = models.CharField(_("AWS account"), max_length=12, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    discovered = models.JSONField(default=list, blank=True, editable=False)
    discovery_errors = models.JSONField(default=list, blank=True, editable=False)
    discovered_at = models.DateTimeField(_("discovered"), null=True, blank=True)
    # Per region, read with the inventory: the EC2 on-demand vCPU quota and the vCPUs running now, so a plan
    # can check its scale-up against it without calling AWS in the request.
    quotas = models.JSONField(default=dict, blank=True, editable=False)
    # The organization-wide kill switch: while on, the portal changes nothing in the account.
    automation_paused = models.BooleanField(_("automated changes paused"), default=False)
    automation_note = models.TextField(_("why paused"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("cloud account")
        verbose_name_plural = _("cloud accounts")

    def __str__(self) -> str:
        return f"AWS link of {self.organization}"

    def is_usable(self) -> bool:
        return self.status == self.Status.VERIFIED and bool(self.role_arn)

    def role_link(self):
        from cloud.client import RoleLink

        return RoleLink(role_arn=self.role_arn, external_id=self.external_id)


class StackResource(models.Model):
    """A cloud resource the stack depends on, with its capacity when last read."""

    class Kind(models.TextChoices):
        AUTOSCALING_GROUP = "autoscaling_group", _("Auto Scaling group")
        ECS_SERVICE = "ecs_service", _("ECS service")
        LOAD_BALANCER = "load_balancer", _("Load balancer")
        TARGET_GROUP = "target_group", _("Target group")
        RDS_INSTANCE = "rds_instance", _("RDS instance")
        RDS_CLUSTER = "rds_cluster", _("Aurora cluster")
        ELASTICACHE = "elasticache_replication_group", _("ElastiCache replication group")
        CLOUDFRONT = "cloudfront_distribution", _("CloudFront distribution")
        DYNAMODB = "dynamodb_table", _("DynamoDB table")

    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="resources", verbose_name=_("stack"))
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    identifier = models.CharField(_("identifier"), max_length=2048, help_text=_("ARN, or name where AWS has none."))
    name = models.CharField(_("name"), max_length=255)
    region = models.CharField(_("region"), max_length=32)
    capacity = models.JSONField(_("capacity"), default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    unit_rps = models.PositiveIntegerField(
        _("requests/s one unit sustains"),
        null=True,
        blank=True,
        help_text=_("For Auto Scaling groups and ECS services: what one instance or task serves at the origin."),
    )
    refreshed_at = models.DateTimeField(_("read"), null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    tenant_field = "stack__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["stack", "kind", "name"]
        verbose_name = _("stack resource")
        verbose_name_plural = _("stack resources")
        constraints = [
            models.UniqueConstraint(fields=["stack", "kind", "identifier"], name="stack_resource_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def capacity_display(self) -> list[tuple[str, str]]:
        """Return the capacity as (label, value) pairs a person reads: lists joined, empty values left out."""
        pairs = []
        for key, value in self.capacity.items():
            if value is None or value == []:
                continue
            shown = ", ".join(str(item) for item in value) if isinstance(value, list | tuple) else str(value)
            pairs.append((key.replace("_", " "), shown))
        return pairs
