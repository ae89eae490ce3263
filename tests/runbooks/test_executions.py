from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.services import engineer_grant
from portal.exceptions import Conflict
from readiness.models import ReadinessRun
from runbooks import services
from runbooks.models import AutomatedRun, ExecutionEntry, RunbookExecution
from runbooks.tasks import automated_step_task
from tests.conftest import client_for, make_user


@pytest.fixture
def execution(personas, runbook_factory, event_factory):
    return services.execution_start(
        version=runbook_factory().current_version, event=event_factory(), by=personas.engineer
    )


def _step(execution, kind):
    return execution.version.steps.get(kind=kind)


def test_confirmation_cannot_be_skipped_without_reason(personas, execution):
    step = _step(execution, "confirmation")
    with pytest.raises(ValidationError) as error:
        services.step_skip(execution=execution, step=step, by=personas.engineer, reason="  ")
    assert "reason" in error.value.error_dict
    assert not ExecutionEntry.objects.filter(step=step).exists()

    services.step_skip(execution=execution, step=step, by=personas.engineer, reason="Client unreachable, CTO agreed")
    entry = ExecutionEntry.objects.get(step=step)
    assert (entry.outcome, entry.note) == ("skipped", "Client unreachable, CTO agreed")


def test_confirmation_skip_without_reason_shows_the_named_error(personas, execution):
    step = _step(execution, "confirmation")
    client = client_for(personas.engineer)
    response = client.post(reverse("runbook-execution-step", args=[execution.pk, step.pk, "skip"]), {"reason": ""})
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="skip-error"' in page
    assert "Write why this confirmation is skipped." in page
    assert not ExecutionEntry.objects.filter(step=step).exists()


def test_automated_step_run_twice_acts_once(personas, execution, django_capture_on_commit_callbacks):
    step = _step(execution, "automated")
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.automated_step_run(execution=execution, step=step, by=personas.engineer)
        second = services.automated_step_run(execution=execution, step=step, by=personas.engineer)
    assert first.pk == second.pk
    assert len(callbacks) == 1  # one task enqueued

    # The message delivered twice (a redelivery after a lost worker): the claim lets one through.
    assert automated_step_task(first.pk) == "done"
    assert automated_step_task(first.pk) is None
    run = AutomatedRun.objects.get()
    assert run.status == "done"
    assert ReadinessRun.objects.filter(event=execution.event).count() == 1
    assert f"#{ReadinessRun.objects.get().pk}" in run.output
    assert ExecutionEntry.objects.filter(step=step, outcome="done").count() == 1

    # Asking again once done starts nothing.
    services.automated_step_run(execution=execution, step=step, by=personas.engineer)
    assert ReadinessRun.objects.count() == 1


def test_failed_automated_step_shows_why_and_can_be_retried(personas, runbook_factory, event_factory):
    runbook = runbook_factory(steps=[{"kind": "automated", "title": "Apply", "action": "apply_plan"}])
    execution = services.execution_start(version=runbook.current_version, event=event_factory(), by=personas.engineer)
    step = _step(execution, "automated")
    run = services.automated_step_run(execution=execution, step=step, by=personas.engineer)
    automated_step_task(run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "no scaling plan" in run.output
    retried = services.automated_step_run(execution=execution, step=step, by=personas.engineer)
    assert retried.status == "pending"


def test_handover_is_recorded(personas, execution):
    other = engineer_grant(user=make_user("second@provider.example", "Omar Backup"))
    services.execution_handover(execution=execution, to=other, by=personas.engineer, note="End of my shift")
    execution.refresh_from_db()
    assert execution.assignee == other
    entry = execution.entries.get(outcome="handed_over")
    assert entry.actor == personas.engineer
    assert "Omar Backup" in entry.note
    assert "End of my shift" in entry.note

    with pytest.raises(ValidationError):
        services.execution_handover(execution=execution, to=personas.owner, by=other)


def test_complete_needs_every_step_finished(personas, execution):
    with pytest.raises(Conflict):
        services.execution_close(execution=execution, by=personas.engineer, status="completed")
    for step in execution.version.steps.exclude(kind="automated"):
        services.step_complete(execution=execution, step=step, by=personas.engineer)
    services.step_skip(execution=execution, step=_step(execution, "automated"), by=personas.engineer, reason="Ran")
    services.execution_close(execution=execution, by=personas.engineer, status="completed")
    assert RunbookExecution.objects.get().status == "completed"
    with pytest.raises(Conflict):
        services.execution_note(execution=execution, by=personas.engineer, note="late")


def test_log_is_append_only(execution):
    entry = execution.entries.first()
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
