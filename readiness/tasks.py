"""Readiness tasks. HTTP checks run on the ``probes`` queue and AWS checks on ``aws``,
so a flood of probes never delays AWS work (and the other way round)."""

from __future__ import annotations

from celery import shared_task

from readiness import runner, services


@shared_task(name="probes.readiness_check", soft_time_limit=90, time_limit=120)
def probe_check_task(result_id: int) -> None:
    """Run one HTTP readiness check; the check's own watchdog cuts it well before these limits."""
    runner.check_execute(result_id=result_id)


@shared_task(name="aws.readiness_check", soft_time_limit=90, time_limit=120)
def aws_check_task(result_id: int) -> None:
    """Run one AWS readiness check."""
    runner.check_execute(result_id=result_id)


@shared_task(name="readiness.start_due_runs", soft_time_limit=50, time_limit=60)
def start_due_runs_task() -> int:
    """Start the runs due 7 days, 24 hours and 2 hours before air, derived from the air times in the database."""
    return len(services.runs_start_due())


@shared_task(name="readiness.reap_stale", soft_time_limit=50, time_limit=60)
def reap_stale_task() -> int:
    """Close checks whose worker died, so that no run stays open."""
    return runner.runs_reap_stale()
