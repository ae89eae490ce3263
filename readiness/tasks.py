"""Readiness tasks. HTTP checks run on the ``probes`` queue and AWS checks on ``aws``,
so a flood of probes never delays AWS work (and the other way round)."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import OperationalError

from readiness import runner, services

# One task carries one target's checks: they share the fetched page (or the AWS
# session), cost one message, and their durations stay honest. Each check keeps its
# own watchdog; the task limits are a net above the sum of their timeouts. A lost
# database connection is retried, and a batch whose worker died is delivered again:
# either way the checks not yet finished run on the next delivery.
BATCH_OPTIONS = {
    "soft_time_limit": 600,
    "time_limit": 660,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_jitter": True,
    "max_retries": 3,
}


def _resumed(task: Task) -> bool:
    """Tell whether an earlier delivery of this batch ended without finishing it.

    Redis delivers a message again when the worker that held it died (``kill -9``, out of memory, a lost
    host) and the visibility timeout passed: that worker may have claimed checks it never finished. A retry
    after a lost database connection is the same batch again, after an attempt that stopped half-way.
    """
    return bool((task.request.delivery_info or {}).get("redelivered")) or bool(task.request.retries)


@shared_task(bind=True, name="probes.readiness_checks", **BATCH_OPTIONS)
def probe_checks_task(self: Task, result_ids: list[int]) -> None:
    """Run one landing URL's HTTP readiness checks."""
    runner.checks_execute(result_ids=result_ids, resumed=_resumed(self))


@shared_task(bind=True, name="aws.readiness_checks", **BATCH_OPTIONS)
def aws_checks_task(self: Task, result_ids: list[int]) -> None:
    """Run one resource's (or the stack's) AWS readiness checks."""
    runner.checks_execute(result_ids=result_ids, resumed=_resumed(self))


@shared_task(name="readiness.start_due_runs", soft_time_limit=50, time_limit=60)
def start_due_runs_task() -> int:
    """Start the runs due 7 days, 24 hours and 2 hours before air, derived from the air times in the database."""
    return len(services.runs_start_due())


@shared_task(name="readiness.reap_stale", soft_time_limit=50, time_limit=60)
def reap_stale_task() -> int:
    """Close checks whose worker died, so that no run stays open."""
    return runner.runs_reap_stale()
