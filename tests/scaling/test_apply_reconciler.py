"""An apply whose worker died is sent again within minutes, not after the broker's visibility timeout (an hour).

The reconciler (a beat task every minute) finds plans applying with no sign of their worker for longer than an
apply can take, sends the apply again once per window (claimed in the database), and fails the plan cleanly
after a few resends. Two copies of one apply never act at the same moment.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from scaling import executor, services
from scaling.models import ScalingAction, ScalingPlan
from scaling.tasks import APPLY_STUCK_AFTER, APPLY_TIME_LIMIT, RETRY, apply_plan_task
from tests.cloud import conftest as cloud_fixtures
from tests.faults.workers import database_url
from tests.scaling.conftest import actions_on_aws

aws = cloud_fixtures.aws
Status = ScalingPlan.Status


def _actions_on_aws(group_name: str) -> list[str]:
    return sorted(action["ScheduledActionName"] for action in actions_on_aws(group_name))


@pytest.fixture
def lost_apply(personas, linked_event, django_capture_on_commit_callbacks):
    """A plan applying whose message a worker took and never answered (the enqueue is dropped, not run)."""
    plan = services.plan_create(event=linked_event, by=personas.engineer)
    services.plan_approve(plan=plan, by=personas.engineer)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        services.plan_apply(plan=plan, by=personas.engineer)
    assert len(enqueued) == 1
    plan.refresh_from_db()
    assert plan.status == Status.APPLYING
    assert plan.apply_sent_at is not None
    assert plan.apply_resends == 0
    return plan


def test_the_threshold_is_one_try_plus_the_longest_backoff_plus_a_margin_about_ten_minutes():
    threshold = APPLY_STUCK_AFTER
    assert threshold > timedelta(seconds=APPLY_TIME_LIMIT + RETRY["retry_backoff_max"])
    assert threshold == timedelta(minutes=10)


def test_the_reconciler_runs_every_minute_on_the_aws_queue():
    from portal.celery import app

    entry = next(
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "aws.resend_stuck_applies"
    )
    assert entry["schedule"] == 60
    assert app.amqp.router.route({}, "aws.resend_stuck_applies")["queue"].name == "aws"


def test_an_apply_whose_worker_died_is_sent_again_after_ten_minutes_once_and_applies(
    lost_apply, django_capture_on_commit_callbacks
):
    plan = lost_apply
    sent_at = plan.apply_sent_at
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        assert executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER, now=sent_at + timedelta(minutes=9)) == {
            "resent": 0,
            "gave_up": 0,
        }
    assert enqueued == []

    later = sent_at + timedelta(minutes=11)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        first = executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER, now=later)
        # A second beat by mistake, at the same moment: the claim is taken, nothing is sent twice.
        second = executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER, now=later)
    assert (first["resent"], second["resent"]) == (1, 0)
    assert len(enqueued) == 1
    plan.refresh_from_db()
    assert (plan.apply_sent_at, plan.apply_resends) == (later, 1)
    resent = ScalingAction.objects.get(plan=plan, operation="send apply again")
    assert resent.result == ScalingAction.Result.OK
    assert "Sent again after 11 minutes without an answer from its worker (1 of 3)" in resent.message

    enqueued[0]()  # the resend reaches a live worker
    plan.refresh_from_db()
    assert plan.status == Status.APPLIED, plan.message
    names = _actions_on_aws(plan.targets.get().name)
    assert any(name.endswith("-up") for name in names)
    assert any("-down-" in name for name in names)

    # The original message, redelivered an hour later, finds the plan applied and changes nothing.
    rows = ScalingAction.objects.filter(plan=plan).count()
    apply_plan_task.delay(plan.pk, None)
    assert ScalingAction.objects.filter(plan=plan).count() == rows
    assert _actions_on_aws(plan.targets.get().name) == names


def test_each_try_of_the_apply_is_a_sign_of_life_the_reconciler_waits_for(lost_apply):
    plan = lost_apply
    ScalingPlan.objects.filter(pk=plan.pk).update(apply_sent_at=timezone.now() - timedelta(hours=1))
    executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    plan.refresh_from_db()
    assert plan.status == Status.APPLIED
    assert timezone.now() - plan.apply_sent_at < timedelta(minutes=1)


def test_after_three_resends_without_an_answer_the_plan_fails_cleanly(lost_apply, django_capture_on_commit_callbacks):
    plan = lost_apply
    now = plan.apply_sent_at
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        for _resend in range(executor.MAX_RESENDS):
            now += timedelta(minutes=11)
            assert executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER, now=now)["resent"] == 1
        now += timedelta(minutes=11)
        assert executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER, now=now) == {"resent": 0, "gave_up": 1}
        assert executor.plans_resend_stuck(stuck_after=APPLY_STUCK_AFTER, now=now) == {"resent": 0, "gave_up": 0}
    assert len(enqueued) == executor.MAX_RESENDS
    plan.refresh_from_db()
    assert plan.status == Status.FAILED
    assert plan.message == "The apply gave up: no worker answered for 11 minutes after it was sent again 3 times."
    assert ScalingAction.objects.filter(plan=plan, operation="send apply again").count() == executor.MAX_RESENDS
    assert ScalingAction.objects.get(plan=plan, result=ScalingAction.Result.ERROR).message == plan.message
    # Nothing of the plan is left on AWS (here nothing reached it); the engineer may apply it again.
    assert _actions_on_aws(plan.targets.get().name) == []
    for enqueue in enqueued:
        enqueue()  # the resends, delivered late, find the plan failed
    plan.refresh_from_db()
    assert plan.status == Status.FAILED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the claim is a PostgreSQL advisory lock")
def test_a_copy_of_the_apply_leaves_the_plan_to_the_copy_that_holds_it(lost_apply):
    plan = lost_apply
    group = plan.targets.get().name
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", [executor.APPLY_LOCK, plan.pk])
        executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
        plan.refresh_from_db()
        assert plan.status == Status.APPLYING
        assert not ScalingAction.objects.filter(plan=plan).exists()
        assert _actions_on_aws(group) == []
    # The other worker's connection is gone (as when it is killed): its claim went with it.
    executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    plan.refresh_from_db()
    assert plan.status == Status.APPLIED
    assert _actions_on_aws(group)
