from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When

from accounts.models import User
from events.models import MediaEvent, TimelineEntry

Status = MediaEvent.Status


def events_for_organization(*, organization, now: datetime) -> QuerySet[MediaEvent]:
    """Return the organization's events: upcoming first by air time, then past ones, latest first."""
    events = MediaEvent.objects.in_organization(organization).select_related("stack", "assignee")
    upcoming = Case(When(air_end__gte=now, then=Value(0)), default=Value(1), output_field=IntegerField())
    return events.annotate(is_past=upcoming).order_by("is_past", "air_start")


def event_queue(
    *, user: User, now: datetime, mine: bool = False, unassigned: bool = False, this_week: bool = False
) -> QuerySet[MediaEvent]:
    """Return the engineers' queue: every organization's events still ahead or on air, by air time."""
    from scaling.models import ScalingPlan

    short = ScalingPlan.objects.filter(event=OuterRef("pk"), status=ScalingPlan.Status.APPLIED).exclude(shortfall=[])
    events = (
        MediaEvent.objects.for_user(user)
        .exclude(status__in=[Status.COMPLETED, Status.REVIEWED, Status.CANCELLED, Status.DRAFT])
        .select_related("organization", "stack", "assignee", "backup")
        .annotate(capacity_shortfall=Exists(short))
        .order_by("air_start")
    )
    if mine:
        events = events.filter(assignee=user)
    if unassigned:
        events = events.filter(assignee__isnull=True)
    if this_week:
        events = events.filter(air_start__lt=now + timedelta(days=7))
    return events


def event_timeline(*, event: MediaEvent) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(event=event).select_related("actor")


def engineers() -> QuerySet[User]:
    from accounts.models.users import ENGINEERS_GROUP

    return User.objects.filter(is_active=True, is_staff=True, groups__name=ENGINEERS_GROUP).order_by(
        "full_name", "email"
    )


def calendar_events(*, user: User, now: datetime) -> QuerySet[MediaEvent]:
    """Return air windows for an engineer's calendar: a month back to everything ahead, not cancelled."""
    return (
        MediaEvent.objects.for_user(user)
        .exclude(status__in=[Status.CANCELLED, Status.DRAFT])
        .filter(air_end__gte=now - timedelta(days=30))
        .select_related("organization", "stack", "assignee", "backup")
        .order_by("air_start")
    )
