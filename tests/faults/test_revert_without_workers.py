"""Fault scenario 4: every worker and beat is down through an event's revert time.

A plan's revert is not a task of ours: the apply puts it on AWS as scheduled actions next to the scale-up, so AWS
scales the stack back by itself. Here a real worker applies the plan with beat running, then every Primetime
process is killed before the scale-up; AWS runs the scheduled actions on time (moto's server stores them but
never runs them, so the test does what AWS would, as it would); the worker and beat come back three days later
(``tests/faults/later_app.py`` moves their clock) and the reconciler, fired by beat as soon as it is back, finds
the account back to normal and records it once, changing nothing on AWS.

Run alone: ``DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... .venv/bin/pytest
tests/faults/test_revert_without_workers.py -s``.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from scaling import executor, services
from scaling.executor import REVERT_GRACE
from scaling.models import ScalingAction, ScalingPlan
from tests.cloud import conftest as cloud_fixtures
from tests.faults import aws_fault_proxy, workers
from tests.faults.scheduled_actions import aws_runs_due_actions, expected_names
from tests.scaling import conftest as scaling_fixtures

aws = cloud_fixtures.aws
fault_proxy = aws_fault_proxy.fault_proxy
moto_endpoint = scaling_fixtures.moto_endpoint
linked_event = scaling_fixtures.linked_event

BROKER_DB = 13  # the Redis database of this scenario's broker (each worker scenario has its own)
CHANGING = ("Put", "Batch", "Update", "Delete", "Create", "Register", "Deregister", "Set")


@pytest.mark.integration
@workers.needs_postgres_and_redis
@pytest.mark.django_db(transaction=True)
def test_with_workers_and_beat_down_through_the_revert_aws_reverts_and_the_reconciler_records_it_once(
    personas, linked_event, fault_proxy, moto_endpoint, tmp_path
):
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    plan = services.plan_approve(plan=plan, by=personas.engineer)
    target = plan.targets.get()
    last_revert = datetime.fromisoformat(target.revert_steps[-1][0])
    broker_url = workers.isolated_broker(BROKER_DB)
    env = workers.worker_env(broker_url=broker_url, aws_endpoint=fault_proxy.url, visibility_timeout=60)
    output_path = tmp_path / "processes.log"
    started: list[subprocess.Popen] = []
    with output_path.open("w") as output:
        try:
            # As in production: a worker and beat; the worker applies the plan, beat keeps its schedule.
            started += [
                workers.start_worker("faults-revert-before", env, output),
                workers.start_beat(env, output, tmp_path / "beat-before.pid"),
            ]
            with workers.publishing_to(broker_url):
                services.plan_apply(plan=plan, by=personas.engineer)
            workers.wait_for(
                lambda: ScalingPlan.objects.get(pk=plan.pk).status == ScalingPlan.Status.APPLIED,
                "the worker to apply the plan", started, output_path,
            )  # fmt: skip
            workers.wait_for(
                lambda: PeriodicTask.objects.filter(task="aws.check_scaling_reverts").exists(),
                "beat to keep its schedule in the database", started, output_path,
            )  # fmt: skip

            # Every Primetime process stops before the scale-up and stays down through the revert.
            for process in started:
                workers.kill(process)
            # Beat had been running for weeks: each periodic task's last run is on record (beat writes it after
            # the run). This one just started, so write it; a task never run would wait a whole interval.
            PeriodicTask.objects.filter(name__in=settings.CELERY_BEAT_SCHEDULE).update(last_run_at=timezone.now())
            ran = aws_runs_due_actions(target.name, last_revert, moto_endpoint)

            # They come back after the revert and its grace, with beat's periodic tasks long overdue.
            fault_proxy.reset()
            away = last_revert + REVERT_GRACE + timedelta(minutes=1) - timezone.now()
            later = {**env, "FAULTS_CLOCK_SHIFT": f"{away.total_seconds():.0f}"}
            back = [
                workers.start_worker("faults-revert-after", later, output, concurrency=2, app="tests.faults.later_app"),
                workers.start_beat(later, output, tmp_path / "beat-after.pid", app="tests.faults.later_app"),
            ]
            started += back
            recorded_after = workers.wait_for(
                lambda: ScalingPlan.objects.get(pk=plan.pk).status != ScalingPlan.Status.APPLIED,
                "the reconciler to check the revert", back, output_path, timeout=90,
            )  # fmt: skip
        finally:
            for process in started:
                workers.kill(process)

    # AWS ran the plan's three actions on time, with no Primetime process up: up to the target, then back.
    assert [name for name, _sizes in ran] == sorted(expected_names(target), key=_step_order)
    up, *_, reverted = (sizes for _name, sizes in ran)
    assert (up["min"], up["max"]) == (target.target["min"], target.target["max"])
    assert (reverted["min"], reverted["max"]) == (target.now["min"], target.now["max"])

    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.REVERTED, plan.message
    assert plan.reverted_at > last_revert + REVERT_GRACE  # on the clock of the processes that came back
    checks = ScalingAction.objects.filter(plan=plan, operation="check revert")
    assert list(checks.values_list("result", flat=True)) == [ScalingAction.Result.UNCHANGED]
    assert plan.revert_alerted_at is None
    # The next round of the check (another beat, the next interval) finds nothing left to record.
    assert executor.plans_check_reverted(now=plan.reverted_at + timedelta(minutes=5)) == {
        "reverted": 0,
        "not_reverted": 0,
    }
    # The reconciler only read: nothing on AWS changed after the processes came back.
    changes = [
        exchange.request.key for exchange in fault_proxy.exchanges if exchange.request.operation.startswith(CHANGING)
    ]
    assert changes == []
    reads = sum(1 for exchange in fault_proxy.exchanges if exchange.forwarded)
    print(
        f"\n[scenario 4] every worker and beat down from before the scale-up until {away.total_seconds() / 3600:.0f} h "
        f"later: AWS ran the plan's {len(ran)} scheduled actions on its own (max {target.now['max']} -> "
        f"{up['max']} -> {reverted['max']}); back up, beat fired the overdue check and the plan was recorded "
        f"reverted {recorded_after:.1f}s after the restart: 1 audit row, {reads} AWS reads, 0 changes, 0 alerts"
    )


def _step_order(name: str) -> tuple[int, str]:
    # The scale-up comes first, then the revert steps in their order.
    return (0, name) if name.endswith("-up") else (1, name)
