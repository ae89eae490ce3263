"""Changes to stacks: what a media event puts at risk."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from stacks.models import Stack


def _require_client_or_engineer(organization: Organization, user: User) -> None:
    if not organization.is_accessible_by(user):
        raise PermissionDenied(_("You are not a member of this organization."))


def stack_create(*, organization: Organization, by: User, **fields) -> Stack:
    """Describe a new stack; its URLs pass the SSRF guard's first check."""
    _require_client_or_engineer(organization, by)
    stack = Stack(organization=organization, **fields)
    stack.full_clean()
    stack.save()
    return stack


def stack_update(*, stack: Stack, by: User, **fields) -> Stack:
    """Change a stack; a new normal peak refreshes the forecasts of its events still ahead."""
    from events.forecasting import event_forecast_refresh
    from events.models.events import LOCKED_STATUSES

    _require_client_or_engineer(stack.organization, by)
    for field, value in fields.items():
        setattr(stack, field, value)
    stack.full_clean()
    with transaction.atomic():
        stack.save()
        if "normal_peak_rps" in fields:
            for event in stack.media_events.exclude(status__in=LOCKED_STATUSES):
                event_forecast_refresh(event=event)
    return stack


def stack_delete(*, stack: Stack, by: User) -> None:
    if not stack.organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners can delete a stack."))
    if stack.media_events.exists():
        raise ValidationError(_("This stack has media events; it stays as their record."))
    stack.delete()
