"""Scaling tasks on the ``aws`` queue: idempotent (action names derive from the plan), retried when transient."""

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from django.utils.translation import gettext as _

from cloud.exceptions import TransientCloudError
from scaling import executor

RETRY = {
    "autoretry_for": (TransientCloudError,),
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 6,
    # Safe to re-run: a worker that dies mid-apply leaves the message to another.
    "reject_on_worker_lost": True,
}

APPLY_SOFT_TIME_LIMIT, APPLY_TIME_LIMIT = 240, 300
# When an apply has lost its worker. Every try of an apply stamps the plan as it starts; a try lasts at most
# the hard time limit, and a transient error schedules the next try within retry_backoff_max (the jitter only
# shortens the wait). Add a margin for a busy aws queue: 300 s + 120 s + 180 s = 10 minutes with no new try
# means no worker holds the apply any more, long before the broker's visibility timeout (an hour) gives it back.
QUEUE_MARGIN_SECONDS = 180
APPLY_STUCK_AFTER = timedelta(seconds=APPLY_TIME_LIMIT + RETRY["retry_backoff_max"] + QUEUE_MARGIN_SECONDS)


class ApplyTask(Task):
    """Applying a plan: when the last try fails (or the time limit cuts it), the plan fails cleanly."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        plan_id, actor_id = [*args, kwargs.get("plan_id"), kwargs.get("actor_id")][:2]
        message = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        executor.plan_apply_gave_up(
            plan_id=plan_id, actor_id=actor_id, message=_("The apply gave up: %(why)s") % {"why": message}
        )


@shared_task(
    base=ApplyTask,
    name="aws.apply_scaling_plan",
    soft_time_limit=APPLY_SOFT_TIME_LIMIT,
    time_limit=APPLY_TIME_LIMIT,
    **RETRY,
)
def apply_plan_task(plan_id: int, actor_id: int | None) -> None:
    executor.plan_apply_now(plan_id=plan_id, actor_id=actor_id)


@shared_task(name="aws.unschedule_scaling_plan", soft_time_limit=240, time_limit=300, **RETRY)
def unschedule_plan_task(plan_id: int, actor_id: int | None) -> None:
    executor.plan_unschedule_now(plan_id=plan_id, actor_id=actor_id)


@shared_task(name="aws.verify_scaling_plans", soft_time_limit=50, time_limit=60)
def verify_plans_task() -> int:
    """Compare capacity in service with the applied plans of events airing within 10 minutes."""
    return len(executor.plans_verify_due())


@shared_task(name="aws.reconcile_pending_changes", soft_time_limit=50, time_limit=60)
def reconcile_pending_changes_task() -> int:
    """Apply the due reservation steps that AWS cannot schedule itself."""
    return executor.pending_changes_apply_due()


@shared_task(name="aws.check_scaling_reverts", soft_time_limit=100, time_limit=120)
def check_reverts_task() -> dict:
    """Confirm that applied plans are back to normal after their last revert step (or alert once)."""
    return executor.plans_check_reverted()


@shared_task(name="aws.resend_stuck_applies", soft_time_limit=100, time_limit=120)
def resend_stuck_applies_task() -> dict:
    """Send again the applies whose worker stopped answering (or fail them after a few resends)."""
    return executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER)
