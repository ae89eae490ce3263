"""Automated runbook steps, run by a worker: the claim in the service makes a second delivery a no-op."""

from __future__ import annotations

from celery import Task, shared_task
from django.utils.translation import gettext as _

from runbooks import services


class AutomatedStepTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_id = [*args, kwargs.get("run_id")][0]
        services.automated_run_gave_up(run_id=run_id, message=_("The step stopped: %(why)s") % {"why": exc})


@shared_task(
    base=AutomatedStepTask,
    name="runbooks.run_automated_step",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=300,
)
def automated_step_task(run_id: int) -> str | None:
    run = services.automated_step_execute(run_id=run_id)
    return None if run is None else run.status
