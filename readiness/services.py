"""Start readiness runs: by hand, through the API, or at the milestones before air."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from events.models import MediaEvent
from portal.exceptions import Conflict
from readiness.context import CheckContext
from readiness.models import CheckResult, ReadinessRun
from readiness.registry import checks

Trigger = ReadinessRun.Trigger
MILESTONES = [
    (Trigger.T_7_DAYS, timedelta(days=7)),
    (Trigger.T_24_HOURS, timedelta(hours=24)),
    (Trigger.T_2_HOURS, timedelta(hours=2)),
]
ACTIVE_STATUSES = [
    MediaEvent.Status.SUBMITTED,
    MediaEvent.Status.ACCEPTED,
    MediaEvent.Status.PREPARING,
    MediaEvent.Status.READY,
]


def run_start(
    *,
    event: MediaEvent,
    by: User | None,
    trigger: str = Trigger.MANUAL,
    scheduled_for: datetime | None = None,
) -> ReadinessRun:
    """Plan every check for the event's targets and enqueue them after commit, each on its own queue."""
    if by is not None and not event.organization.is_accessible_by(by):
        raise PermissionDenied(_("You are not a member of this organization."))
    if event.is_locked():
        raise Conflict(
            _("Readiness is checked before air; this event is %(status)s.")
            % {"status": event.get_status_display().lower()}
        )
    context = CheckContext(event=event)
    planned = [(check, target) for check in checks() for target in check.targets(context)]
    with transaction.atomic():
        run = ReadinessRun.objects.create(
            event=event, trigger=trigger, scheduled_for=scheduled_for, requested_by=by, total_checks=len(planned)
        )
        results = CheckResult.objects.bulk_create(
            CheckResult(
                run=run,
                check_id=check.id,
                target=target,
                title=check.title,
                category=check.category,
                severity=check.severity,
            )
            for check, target in planned
        )
        queues = {check.id: check.queue for check, _target in planned}
        batches: dict[tuple[str, str], list[int]] = {}
        for result in results:
            batches.setdefault((queues[result.check_id], result.target), []).append(result.pk)
        transaction.on_commit(lambda: _enqueue(batches))
    if not planned:
        from readiness.runner import run_finish_if_done

        run_finish_if_done(run_id=run.pk)
    return run


def _enqueue(batches: dict[tuple[str, str], list[int]]) -> None:
    """Send one task per queue and target, on one connection."""
    from readiness.tasks import aws_checks_task, probe_checks_task

    with probe_checks_task.app.producer_or_acquire() as producer:
        for (queue, _target), result_ids in batches.items():
            task = aws_checks_task if queue == "aws" else probe_checks_task
            task.apply_async(args=[result_ids], producer=producer)


def runs_start_due(*, now: datetime | None = None) -> list[ReadinessRun]:
    """Start, for each event ahead, the latest milestone that has come and has not run for this air time.

    Moments are derived from the air time each minute, so moving the air time
    moves them; a unique constraint makes two beats (or two workers) start one run.
    """
    now = now or timezone.now()
    started = []
    horizon = now + MILESTONES[0][1]
    events = MediaEvent.objects.filter(status__in=ACTIVE_STATUSES, air_start__gt=now, air_start__lte=horizon)
    for event in events.select_related("organization", "stack"):
        due = [(trigger, event.air_start - offset) for trigger, offset in MILESTONES if event.air_start - offset <= now]
        if not due:
            continue
        trigger, moment = due[-1]
        if ReadinessRun.objects.filter(event=event, trigger=trigger, scheduled_for=moment).exists():
            continue
        try:
            with transaction.atomic():
                started.append(run_start(event=event, by=None, trigger=trigger, scheduled_for=moment))
        except IntegrityError:
            continue  # another beat started it a moment ago
    return started
