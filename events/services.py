"""Every change to media events and stacks: validated, written in one transaction, recorded in the timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User
from accounts.models.users import ENGINEERS_GROUP
from events import lifecycle
from events.forecasting import event_forecast_refresh
from events.models import MediaEvent, Rebroadcast, TimelineEntry
from events.models.events import LOCKED_STATUSES
from notifications.services import email_send
from portal.exceptions import Conflict
from portal.netguard import validate_public_url
from stacks.models import Stack

Status = MediaEvent.Status

MAX_AUDIENCE = 100_000_000
MAX_AIR_WINDOW = timedelta(hours=24)
MAX_REBROADCASTS = 10
EDITABLE_FIELDS = (
    "stack",
    "title",
    "kind",
    "channel",
    "programme",
    "notes",
    "air_start",
    "air_end",
    "expected_audience",
    "audience_share",
    "url_exposure",
    "landing_urls",
)
# Changes to these by a client re-open the review of an accepted event.
REVIEWED_FIELDS = set(EDITABLE_FIELDS)


class IllegalTransition(Conflict):
    """A transition the state machine does not allow from the event's current status."""

    def __init__(self, message: str, *, allowed: list[str]):
        super().__init__(message, allowed_next_statuses=allowed)
        self.allowed = allowed


def _require_client_or_engineer(organization: Organization, user: User) -> None:
    if not organization.is_accessible_by(user):
        raise PermissionDenied(_("You are not a member of this organization."))


# --- Validation -------------------------------------------------------------


def _validate(
    *,
    organization: Organization,
    data: Mapping[str, Any],
    rebroadcasts: Sequence[Mapping[str, Any]],
    event: MediaEvent | None,
    now: datetime,
) -> None:
    """Raise one ValidationError naming every wrong field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    stack = data.get("stack")
    if stack is not None and stack.organization_id != organization.pk:
        add("stack", _("Choose one of this organization's stacks."))
    air_start, air_end = data.get("air_start"), data.get("air_end")
    start_changed = event is None or air_start != event.air_start
    if air_start and start_changed and air_start <= now:
        add("air_start", _("Air start must be in the future."))
    if air_start and air_end:
        if air_end <= air_start:
            add("air_end", _("Air end must be after air start."))
        elif air_end - air_start > MAX_AIR_WINDOW:
            add("air_end", _("Air end must be within 24 hours of air start."))
    audience = data.get("expected_audience")
    if audience is not None and not 1 <= audience <= MAX_AUDIENCE:
        add("expected_audience", _("Give an audience between 1 and 100,000,000 viewers."))
    share = data.get("audience_share")
    if share is not None and not Decimal(0) <= Decimal(share) <= Decimal(100):
        add("audience_share", _("Give a share between 0 and 100 %."))
    urls = data.get("landing_urls")
    if urls is not None:
        if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
            add("landing_urls", _("Give a list of addresses."))
        else:
            if len(urls) > 20:
                add("landing_urls", _("Give at most 20 addresses."))
            for url in urls:
                try:
                    validate_public_url(url)
                except ValidationError as error:
                    add("landing_urls", f"{url}: {' '.join(error.messages)}")
    if len(rebroadcasts) > MAX_REBROADCASTS:
        add("rebroadcasts", _("Give at most %(count)d rebroadcasts.") % {"count": MAX_REBROADCASTS})
    for rebroadcast in rebroadcasts:
        start = rebroadcast.get("air_start")
        if start is None:
            add("rebroadcasts", _("Each rebroadcast needs an air start."))
        elif air_end and start < air_end:
            add("rebroadcasts", _("A rebroadcast must start after the first airing ends."))
        elif air_start and start - air_start > timedelta(days=30):
            add("rebroadcasts", _("A rebroadcast must air within 30 days of the first airing."))
        rebroadcast_audience = rebroadcast.get("expected_audience")
        if rebroadcast_audience is not None and not 1 <= rebroadcast_audience <= MAX_AUDIENCE:
            add("rebroadcasts", _("Give each rebroadcast an audience between 1 and 100,000,000 viewers."))
    if stack is not None and air_start and air_end and "stack" not in errors and "air_end" not in errors:
        overlapping = MediaEvent.objects.filter(stack=stack, air_start__lt=air_end, air_end__gt=air_start).exclude(
            status=Status.CANCELLED
        )
        if event is not None:
            overlapping = overlapping.exclude(pk=event.pk)
        clash = overlapping.first()
        if clash is not None:
            add(
                "air_start",
                _("%(stack)s is already booked for “%(title)s” in an overlapping window.")
                % {"stack": stack.name, "title": clash.title},
            )
    if errors:
        raise ValidationError(errors)


def _save_rebroadcasts(event: MediaEvent, rebroadcasts: Sequence[Mapping[str, Any]]) -> None:
    event.rebroadcasts.all().delete()
    Rebroadcast.objects.bulk_create(
        Rebroadcast(event=event, air_start=item["air_start"], expected_audience=item.get("expected_audience"))
        for item in rebroadcasts
    )


def _record(event: MediaEvent, *, actor: User | None, kind: str, message: str = "", **fields) -> TimelineEntry:
    return TimelineEntry.objects.create(event=event, actor=actor, kind=kind, message=message, **fields)


# --- Booking and editing ----------------------------------------------------


def event_create(
    *,
    organization: Organization,
    by: User,
    data: Mapping[str, Any],
    rebroadcasts: Sequence[Mapping[str, Any]] = (),
    submit: bool = False,
    now: datetime | None = None,
) -> MediaEvent:
    """Book a media event as a draft (or submit it at once); landing URLs default to the stack's."""
    _require_client_or_engineer(organization, by)
    now = now or timezone.now()
    data = dict(data)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: _("Unknown field.") for field in sorted(unknown)})
    if not data.get("landing_urls") and data.get("stack") is not None:
        data["landing_urls"] = data["stack"].landing_urls
    with transaction.atomic():
        if data.get("stack") is not None:
            # Serialise bookings of one stack, so two overlapping ones cannot both pass the check.
            Stack.objects.select_for_update().filter(pk=data["stack"].pk).first()
        _validate(organization=organization, data=data, rebroadcasts=rebroadcasts, event=None, now=now)
        event = MediaEvent(organization=organization, created_by=by, **data)
        event.full_clean()
        event.save()
        _save_rebroadcasts(event, rebroadcasts)
        _record(event, actor=by, kind=TimelineEntry.Kind.NOTE, message=_("Booked as a draft."))
        event_forecast_refresh(event=event)
        if submit:
            event_transition(event=event, name="submit", by=by)
    return event


def _changes(event: MediaEvent, data: Mapping[str, Any]) -> dict[str, list[str]]:
    changes = {}
    for field, value in data.items():
        before = getattr(event, field)
        if before != value:
            changes[field] = [_display(before), _display(value)]
    return changes


def _display(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Stack):
        return value.name
    return str(value) if value is not None else ""


def event_update(
    *,
    event: MediaEvent,
    by: User,
    data: Mapping[str, Any],
    rebroadcasts: Sequence[Mapping[str, Any]] | None = None,
    now: datetime | None = None,
) -> MediaEvent:
    """Change an event before it airs; a client's change to an accepted event re-opens its review."""
    organization = event.organization
    _require_client_or_engineer(organization, by)
    now = now or timezone.now()
    data = dict(data)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: _("Unknown field.") for field in sorted(unknown)})
    with transaction.atomic():
        event = MediaEvent.objects.select_for_update().get(pk=event.pk)
        if event.is_locked():
            raise IllegalTransition(
                _("The event is %(status)s; it can no longer be changed.")
                % {"status": event.get_status_display().lower()},
                allowed=lifecycle.next_statuses(event.status),
            )
        merged = {field: data.get(field, getattr(event, field)) for field in EDITABLE_FIELDS}
        current_rebroadcasts = [
            {"air_start": item.air_start, "expected_audience": item.expected_audience}
            for item in event.rebroadcasts.all()
        ]
        new_rebroadcasts = current_rebroadcasts if rebroadcasts is None else list(rebroadcasts)
        _validate(organization=organization, data=merged, rebroadcasts=new_rebroadcasts, event=event, now=now)
        changes = _changes(event, data)
        if rebroadcasts is not None and new_rebroadcasts != current_rebroadcasts:
            changes["rebroadcasts"] = [str(len(current_rebroadcasts)), str(len(new_rebroadcasts))]
        if not changes:
            return event
        for field, value in data.items():
            setattr(event, field, value)
        event.full_clean()
        reopen = not by.is_engineer and event.status in {Status.ACCEPTED, Status.PREPARING, Status.READY}
        from_status = event.status
        if reopen:
            event.status = Status.SUBMITTED
        event.save()
        if rebroadcasts is not None:
            _save_rebroadcasts(event, new_rebroadcasts)
        if "air_start" in changes or "air_end" in changes:
            from status.services import announcements_follow

            announcements_follow(event)
        if reopen:
            _record(
                event,
                actor=by,
                kind=TimelineEntry.Kind.TRANSITION,
                from_status=from_status,
                to_status=Status.SUBMITTED,
                message=_("Changed after acceptance: review re-opened."),
                changes=changes,
            )
            _notify(event, "event_changed", to=_engineers_for(event), actor=by)
        else:
            _record(event, actor=by, kind=TimelineEntry.Kind.CHANGE, message=_("Details changed."), changes=changes)
        event_forecast_refresh(event=event)
    return event


# --- Transitions ------------------------------------------------------------


def event_transition(
    *, event: MediaEvent, name: str, by: User | None, reason: str = "", assignee: User | None = None
) -> MediaEvent:
    """Move an event along its lifecycle, if the state machine and the user's role allow it.

    The move is a conditional update on the current status, so of two
    concurrent attempts (or the clock running twice) exactly one wins.
    """
    transition = lifecycle.TRANSITIONS.get(name)
    allowed = lifecycle.next_statuses(event.status)
    if transition is None:
        raise IllegalTransition(_("Unknown transition “%(name)s”.") % {"name": name}, allowed=allowed)
    if event.status not in transition.sources:
        raise IllegalTransition(
            _("The event is %(status)s; it cannot move to %(target)s.")
            % {"status": event.get_status_display().lower(), "target": Status(transition.target).label.lower()},
            allowed=allowed,
        )
    roles = lifecycle.actor_roles(by, event.organization)
    if not transition.actors & roles:
        raise PermissionDenied(_("Your role does not allow this: %(label)s.") % {"label": transition.label})
    reason = reason.strip()
    if transition.needs_reason and not reason:
        raise ValidationError({"reason": _("Say why, for the timeline.")})
    if name == "accept":
        assignee = assignee or (by if by is not None and by.is_engineer else None)
        if assignee is None or not assignee.is_engineer:
            raise ValidationError({"assignee": _("Choose the engineer who takes this event.")})
        _check_lead_free(event, assignee)
    with transaction.atomic():
        updates: dict[str, Any] = {"status": transition.target, "updated_at": timezone.now()}
        if name == "accept":
            updates["assignee"] = assignee
        claimed = MediaEvent.objects.filter(pk=event.pk, status=event.status).update(**updates)
        if claimed != 1:
            event.refresh_from_db()
            raise IllegalTransition(
                _("The event changed meanwhile: it is now %(status)s.")
                % {"status": event.get_status_display().lower()},
                allowed=lifecycle.next_statuses(event.status),
            )
        from_status = event.status
        event.refresh_from_db()
        message = reason or _default_message(name, event, from_status)
        _record(
            event,
            actor=by,
            kind=TimelineEntry.Kind.TRANSITION,
            from_status=from_status,
            to_status=transition.target,
            message=message,
        )
        if name == "submit":
            _notify(event, "event_submitted", to=_engineers_for(event, everyone=True), actor=by)
        elif name == "accept":
            _notify(event, "event_accepted", to=_organization_people(event), actor=by)
        elif name == "cancel":
            _notify(event, "event_cancelled", to=_organization_people(event) + _engineers_for(event), actor=by)
            _cancel_scaling_plans(event)
            from status.services import announcements_follow

            announcements_follow(event, cancelled=True)
        elif name == "complete":
            # The post-event report is drafted by a worker: it reads observations, the plan, incidents.
            from reports.tasks import report_generate_task

            event_id = event.pk
            transaction.on_commit(lambda: report_generate_task.delay(event_id))
    return event


def _cancel_scaling_plans(event: MediaEvent) -> None:
    """Cancelling an event cancels its plan, which removes its scheduled actions from AWS."""
    from scaling.models import ScalingPlan
    from scaling.services import plan_cancel

    for plan in ScalingPlan.objects.filter(event=event):
        if plan.is_open():
            plan_cancel(plan=plan, by=None)


def _default_message(name: str, event: MediaEvent, from_status: str) -> str:
    if name == "accept":
        return _("Accepted; %(engineer)s watches it.") % {"engineer": event.assignee.display_name}
    if name == "go_on_air" and from_status != Status.READY:
        return _("On air while still %(status)s.") % {"status": Status(from_status).label.lower()}
    return ""


# Events whose air window still matters to the watch crew.
WATCHED_STATUSES = [Status.SUBMITTED, Status.ACCEPTED, Status.PREPARING, Status.READY, Status.ON_AIR]


def _check_lead_free(event: MediaEvent, engineer: User) -> None:
    """Refuse a lead who already leads another air window that overlaps this one (field-named error)."""
    clash = (
        MediaEvent.objects.filter(
            assignee=engineer,
            status__in=WATCHED_STATUSES,
            air_start__lt=event.air_end,
            air_end__gt=event.air_start,
        )
        .exclude(pk=event.pk)
        .select_related("organization")
        .first()
    )
    if clash is not None:
        zone = timezone.get_current_timezone()
        raise ValidationError(
            {
                "assignee": _(
                    "%(engineer)s already leads “%(title)s” (%(organization)s), on air %(start)s–%(end)s, which "
                    "overlaps this air window: choose another lead, or make them the backup."
                )
                % {
                    "engineer": engineer.display_name,
                    "title": clash.title,
                    "organization": clash.organization.name,
                    "start": clash.air_start.astimezone(zone).strftime("%d %b %H:%M"),
                    "end": clash.air_end.astimezone(zone).strftime("%H:%M"),
                }
            }
        )


def _check_assignable(event: MediaEvent, by: User) -> None:
    if not by.is_engineer:
        raise PermissionDenied(_("Only engineers assign events."))
    if event.is_locked() and event.status != Status.ON_AIR:
        raise IllegalTransition(
            _("The event is %(status)s; it can no longer be reassigned.")
            % {"status": event.get_status_display().lower()},
            allowed=lifecycle.next_statuses(event.status),
        )


def event_assign(*, event: MediaEvent, engineer: User, by: User) -> MediaEvent:
    """Make an engineer the lead of the event's watch (taking it oneself included); a change is a handover."""
    _check_assignable(event, by)
    if not engineer.is_engineer:
        raise ValidationError({"assignee": _("Choose a provider engineer.")})
    with transaction.atomic():
        event = MediaEvent.objects.select_for_update().get(pk=event.pk)
        previous = event.assignee
        if previous == engineer:
            return event
        _check_lead_free(event, engineer)
        updates = {"assignee": engineer, "updated_at": timezone.now()}
        if event.backup_id == engineer.pk:
            updates["backup"] = None  # the backup steps up; nobody backs themselves
        MediaEvent.objects.filter(pk=event.pk).update(**updates)
        event.assignee = engineer
        if "backup" in updates:
            event.backup = None
        message = (
            _("Watch handed over from %(previous)s to %(engineer)s.")
            % {"previous": previous.display_name, "engineer": engineer.display_name}
            if previous
            else _("Assigned to %(engineer)s.") % {"engineer": engineer.display_name}
        )
        _record(
            event,
            actor=by,
            kind=TimelineEntry.Kind.ASSIGNMENT,
            message=message,
            changes={"assignee": [previous.email if previous else "", engineer.email]},
        )
    return event


def event_backup_set(*, event: MediaEvent, engineer: User | None, by: User) -> MediaEvent:
    """Name (or clear) the backup engineer of the event's watch; the backup is never the lead."""
    _check_assignable(event, by)
    if engineer is not None and not engineer.is_engineer:
        raise ValidationError({"backup": _("Choose a provider engineer.")})
    with transaction.atomic():
        event = MediaEvent.objects.select_for_update().get(pk=event.pk)
        if engineer is not None and engineer.pk == event.assignee_id:
            raise ValidationError({"backup": _("The lead cannot be their own backup: choose someone else.")})
        previous = event.backup
        if previous == engineer:
            return event
        MediaEvent.objects.filter(pk=event.pk).update(backup=engineer, updated_at=timezone.now())
        event.backup = engineer
        _record(
            event,
            actor=by,
            kind=TimelineEntry.Kind.ASSIGNMENT,
            message=_("Backup: %(engineer)s.") % {"engineer": engineer.display_name}
            if engineer
            else _("No backup any more."),
            changes={"backup": [previous.email if previous else "", engineer.email if engineer else ""]},
        )
    return event


def events_advance_by_clock(*, now: datetime | None = None) -> dict[str, int]:
    """Put events on air at air start and complete them after their tail; safe to run twice or at once."""
    now = now or timezone.now()
    counts = {"on_air": 0, "completed": 0}
    go_on_air = lifecycle.TRANSITIONS["go_on_air"]
    due = MediaEvent.objects.filter(status__in=go_on_air.sources, air_start__lte=now).select_related("organization")
    for event in due:
        try:
            event_transition(event=event, name="go_on_air", by=None)
            counts["on_air"] += 1
        except IllegalTransition:
            continue  # another beat or worker moved it first
    ended = MediaEvent.objects.filter(status=Status.ON_AIR, air_end__lte=now - settings.EVENT_TAIL)
    for event in ended.select_related("organization"):
        try:
            event_transition(event=event, name="complete", by=None)
            counts["completed"] += 1
        except IllegalTransition:
            continue
    return counts


# --- Notifications ----------------------------------------------------------


def _engineers_for(event: MediaEvent, *, everyone: bool = False) -> list[str]:
    if event.assignee_id and not everyone:
        return [event.assignee.email]
    return list(
        User.objects.filter(is_active=True, is_staff=True, groups__name=ENGINEERS_GROUP).values_list("email", flat=True)
    )


def _organization_people(event: MediaEvent) -> list[str]:
    return list(
        Membership.objects.filter(organization=event.organization, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


def _notify(event: MediaEvent, template: str, *, to: list[str], actor: User | None) -> None:
    recipients = sorted({email for email in to if email and (actor is None or email != actor.email)})
    if not recipients:
        return
    url = settings.SITE_URL + reverse("event-detail", args=[event.organization.slug, event.pk])
    context = {"event": event, "actor": actor, "url": url, "organization": event.organization}
    # One message per person: clients and engineers never see each other's addresses.
    for recipient in recipients:
        email_send(to=[recipient], template=f"emails/{template}", context=context)


# --- Forecast parameters ----------------------------------------------------


def forecast_profile_update(*, organization: Organization, by: User, values: Mapping[str, float | None]) -> None:
    """Save an organization's forecast overrides and refresh the forecasts of its events still ahead."""
    from events.forecast import ForecastError, parameters_with
    from events.models import ForecastProfile

    if not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers change the forecast parameters."))
    unknown = set(values) - set(ForecastProfile.PARAMETER_FIELDS)
    if unknown:
        raise ValidationError({field: _("Unknown parameter.") for field in sorted(unknown)})
    try:
        parameters = parameters_with({key: value for key, value in values.items() if value is not None})
    except ForecastError as error:
        raise ValidationError({field: [message] for field, message in error.errors.items()}) from error
    if out_of_range := parameters.errors():
        raise ValidationError({field: [message] for field, message in out_of_range.items()})
    with transaction.atomic():
        profile, _created = ForecastProfile.objects.get_or_create(organization=organization)
        for field in ForecastProfile.PARAMETER_FIELDS:
            setattr(profile, field, values.get(field))
        profile.save()
        # Hundreds of events can be ahead: their peaks are recomputed by a worker, not in the request.
        transaction.on_commit(lambda: _enqueue_forecast_refresh(organization.pk))


def _enqueue_forecast_refresh(organization_id: int) -> None:
    from events.tasks import refresh_forecasts_task

    refresh_forecasts_task.delay(organization_id)


def forecasts_refresh(*, organization_id: int) -> int:
    """Recompute the stored peaks of an organization's events still ahead; return how many."""
    from events.forecasting import forecast_parameters_for

    organization = Organization.objects.get(pk=organization_id)
    parameters = forecast_parameters_for(organization)
    events = MediaEvent.objects.filter(organization=organization).exclude(status__in=LOCKED_STATUSES)
    count = 0
    for event in events.select_related("stack", "organization"):
        event_forecast_refresh(event=event, parameters=parameters)
        count += 1
    return count
