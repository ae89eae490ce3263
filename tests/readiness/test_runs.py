"""Readiness runs: planned, executed on their queues, cut at each check's timeout, closed once."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django.utils import timezone

from events.models import MediaEvent
from portal.celery import QUEUES, app
from readiness import runner, services
from readiness import tasks as readiness_tasks
from readiness.models import CheckResult, Outcome, ReadinessRun, Severity
from readiness.registry import Check, Finding
from readiness.scoring import verdict_and_score
from tests.conftest import api_client_for, client_for

Status = MediaEvent.Status


def make_check(check_id, run, *, timeout=5.0, severity=Severity.MAJOR, targets=("",), queue="probes"):
    return Check(
        id=check_id,
        title=f"Check {check_id}",
        category="test",
        severity=severity,
        queue=queue,
        timeout=timeout,
        targets=lambda context: list(targets),
        run=run,
    )


def passes(context, target):
    return Finding.passed("fine", target=target)


def fails(context, target):
    return Finding.failed("broken", "mend it", target=target)


def hangs(context, target):
    time.sleep(30)
    return Finding.passed("too late")


def raises(context, target):
    raise RuntimeError("boom")


def test_run_plans_one_result_per_check_and_target_and_closes_with_a_verdict(
    personas, event_factory, only_checks, executed
):
    only_checks(make_check("a", passes, targets=("u1", "u2")), make_check("b", fails, severity=Severity.CRITICAL))
    with executed():
        run = services.run_start(event=event_factory(), by=personas.owner)
    run.refresh_from_db()
    assert run.total_checks == 3
    assert run.status == ReadinessRun.Status.COMPLETED
    assert (run.verdict, run.score) == ("not_ready", 57)
    failed = CheckResult.objects.get(run=run, check_id="b")
    assert (failed.outcome, failed.remediation) == ("fail", "mend it")
    assert failed.duration_ms is not None


def test_a_check_that_raises_is_an_error_not_a_crash(personas, event_factory, only_checks, executed):
    only_checks(make_check("boom", raises), make_check("ok", passes))
    with executed():
        run = services.run_start(event=event_factory(), by=personas.owner)
    result = CheckResult.objects.get(run=run, check_id="boom")
    assert result.outcome == Outcome.ERROR
    assert "boom" in result.message
    run.refresh_from_db()
    assert run.verdict == "at_risk"


@pytest.mark.parametrize("resumed", [False, True])
def test_running_a_check_twice_changes_nothing(personas, event_factory, only_checks, executed, resumed):
    only_checks(make_check("a", passes))
    with executed():
        run = services.run_start(event=event_factory(), by=personas.owner)
    result = CheckResult.objects.get(run=run)
    finished = result.finished_at
    assert finished is not None
    runner.check_execute(result_id=result.pk, resumed=resumed)  # resumed: the batch again after a lost worker
    result.refresh_from_db()
    assert result.finished_at == finished


def _claimed_by_a_dead_worker(run) -> CheckResult:
    """Claim the run's only check as a worker does, then leave it unfinished, as a worker killed mid-check does."""
    CheckResult.objects.filter(run=run).update(started_at=timezone.now())
    return CheckResult.objects.get(run=run)


def test_a_batch_delivered_again_runs_the_check_its_dead_worker_claimed(personas, event_factory, only_checks):
    only_checks(make_check("a", passes))
    run = services.run_start(event=event_factory(), by=personas.owner)  # not enqueued: the test is one transaction
    result = _claimed_by_a_dead_worker(run)

    runner.checks_execute(result_ids=[result.pk])  # a second copy while the first may still run: hands off
    assert CheckResult.objects.get(pk=result.pk).outcome == Outcome.PENDING
    runner.checks_execute(result_ids=[result.pk], resumed=True)  # the batch again, after its worker died

    result.refresh_from_db()
    assert result.outcome == Outcome.PASS
    run.refresh_from_db()
    assert run.status == ReadinessRun.Status.COMPLETED


@pytest.mark.parametrize(
    ("delivery_info", "retries", "resumed"),
    [
        ({"redelivered": True}, 0, True),  # Redis gave it again: the worker that held it was lost
        ({"redelivered": False}, 1, True),  # a retry after a lost database connection
        ({"redelivered": False}, 0, False),
        (None, 0, False),  # eager
    ],
)
def test_a_check_batch_is_resumed_when_delivered_again_or_retried(delivery_info, retries, resumed):
    task = SimpleNamespace(request=SimpleNamespace(delivery_info=delivery_info, retries=retries))
    assert readiness_tasks._resumed(task) is resumed


def test_the_retry_of_a_batch_runs_the_check_its_first_attempt_left_claimed(personas, event_factory, only_checks):
    only_checks(make_check("a", passes))
    run = services.run_start(event=event_factory(), by=personas.owner)
    result = _claimed_by_a_dead_worker(run)

    readiness_tasks.probe_checks_task.apply(args=[[result.pk]], retries=1)

    assert CheckResult.objects.get(pk=result.pk).outcome == Outcome.PASS


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_hanging_check_is_cut_at_its_timeout_by_a_real_worker(personas, event_factory, only_checks):
    only_checks(make_check("hang", hangs, timeout=1.0), make_check("fine", passes, queue="aws"))
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=5):
        run = services.run_start(event=event_factory(), by=personas.owner)
        deadline = time.monotonic() + 30
        while ReadinessRun.objects.get(pk=run.pk).is_running():
            assert time.monotonic() < deadline, "the run did not complete"
            time.sleep(0.05)
    hung = CheckResult.objects.get(run=run, check_id="hang")
    assert hung.outcome == Outcome.ERROR
    assert "did not finish within 1 s" in hung.message
    assert CheckResult.objects.get(run=run, check_id="fine").outcome == Outcome.PASS
    run.refresh_from_db()
    assert run.status == ReadinessRun.Status.COMPLETED


def test_reaper_closes_checks_whose_worker_died(personas, event_factory, only_checks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    only_checks(make_check("a", passes))
    run = services.run_start(event=event_factory(), by=personas.owner)
    # Claimed by a worker that then died: started, never finished.
    CheckResult.objects.filter(run=run).update(started_at=timezone.now() - timedelta(minutes=10))
    assert runner.runs_reap_stale() == 1
    run.refresh_from_db()
    assert run.status == ReadinessRun.Status.COMPLETED
    assert CheckResult.objects.get(run=run).outcome == Outcome.ERROR


@pytest.mark.parametrize(
    ("findings", "verdict", "score"),
    [
        ([("critical", "pass"), ("minor", "pass")], "ready", 100),
        ([("critical", "pass"), ("minor", "warn")], "at_risk", 88),
        ([("critical", "fail"), ("minor", "pass")], "not_ready", 25),
        ([("major", "error")], "at_risk", 0),
        ([], "at_risk", 0),
    ],
)
def test_verdict_and_score(findings, verdict, score):
    assert verdict_and_score(findings) == (verdict, score)


def test_milestone_runs_start_once_and_follow_the_air_time(personas, event_factory, only_checks):
    only_checks(make_check("a", passes))
    now = timezone.now()
    event = event_factory(
        status=Status.ACCEPTED, air_start=now + timedelta(days=3), air_end=now + timedelta(days=3, minutes=10)
    )
    started = services.runs_start_due(now=now)
    assert [(run.event_id, run.trigger) for run in started] == [(event.pk, "t-7d")]
    assert services.runs_start_due(now=now) == []  # a second beat, or the next minute
    # 24 hours before air, the next milestone.
    later = event.air_start - timedelta(hours=23)
    assert [run.trigger for run in services.runs_start_due(now=later)] == ["t-24h"]
    # The air time moves two days later: the 7-day moment is re-derived and comes again.
    event.air_start += timedelta(days=5)
    event.air_end += timedelta(days=5)
    event.save()
    assert [run.trigger for run in services.runs_start_due(now=later)] == ["t-7d"]
    assert ReadinessRun.objects.filter(event=event).count() == 3


def test_no_scheduled_run_for_drafts_or_aired_events(personas, event_factory, only_checks):
    only_checks(make_check("a", passes))
    event_factory(status=Status.DRAFT, days_ahead=1)
    event_factory(status=Status.CANCELLED, days_ahead=1)
    assert services.runs_start_due() == []


def test_run_page_shows_progress_findings_and_what_to_do(personas, event_factory, only_checks, executed):
    only_checks(make_check("a", passes), make_check("b", fails))
    event = event_factory()
    with executed():
        response = client_for(personas.member).post(reverse("readiness-start", args=["maison-lumiere", event.pk]))
    assert response.status_code == 302
    page = client_for(personas.member).get(response["Location"]).content.decode()
    assert "2 of 2 checks done" in page
    assert "What to do:" in page
    assert "mend it" in page
    assert 'http-equiv="refresh"' not in page


def test_running_run_page_refreshes_itself(personas, event_factory, only_checks):
    only_checks(make_check("a", passes))
    app.conf.task_always_eager = False
    run = services.run_start(event=event_factory(), by=personas.owner)
    page = client_for(personas.owner).get(reverse("readiness-run", args=["maison-lumiere", run.event_id, run.pk]))
    html = page.content.decode()
    assert "0 of 1 checks done" in html
    assert 'http-equiv="refresh"' in html


def test_changes_since_the_previous_run(personas, event_factory, only_checks, executed):
    event = event_factory()
    only_checks(make_check("a", fails))
    with executed():
        services.run_start(event=event, by=personas.owner)
    only_checks(make_check("a", passes))
    with executed():
        second = services.run_start(event=event, by=personas.owner)
    page = client_for(personas.owner).get(reverse("readiness-run", args=["maison-lumiere", event.pk, second.pk]))
    assert "What changed since the previous run" in page.content.decode()
    assert "fail → pass" in page.content.decode()
    event_page = client_for(personas.owner).get(reverse("event-detail", args=["maison-lumiere", event.pk]))
    assert "fail → pass" in event_page.content.decode()


def test_api_starts_a_run_and_reports_progress(personas, event_factory, only_checks, executed):
    only_checks(make_check("a", passes), make_check("b", fails))
    event = event_factory()
    client = api_client_for(personas.member)
    with executed():
        response = client.post(reverse("api:readiness-run-list"), {"event": event.pk}, format="json")
    assert response.status_code == 202
    body = client.get(reverse("api:readiness-run-detail", args=[response.json()["id"]])).json()
    assert body["progress"] == {"done": 2, "total": 2, "percent": 100}
    assert body["verdict"] == "at_risk"
    assert {result["check_id"]: result["outcome"] for result in body["results"]} == {"a": "pass", "b": "fail"}


def test_aired_events_are_not_checked(personas, event_factory, only_checks):
    only_checks(make_check("a", passes))
    event = event_factory(status=Status.COMPLETED)
    response = api_client_for(personas.owner).post(
        reverse("api:readiness-run-list"), {"event": event.pk}, format="json"
    )
    assert response.status_code == 409
    assert not ReadinessRun.objects.exists()
