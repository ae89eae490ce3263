"""Every change to runbooks and their executions: editing makes a version, executions append to their log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from events.models import MediaEvent
from portal.exceptions import Conflict
from runbooks.models import (
    AutomatedRun,
    ExecutionEntry,
    Phase,
    Runbook,
    RunbookExecution,
    RunbookStep,
    RunbookVersion,
)
from status.markdown import render

Kind = RunbookStep.Kind
Outcome = ExecutionEntry.Outcome
STEP_FIELDS = ("kind", "title", "body", "command", "action")


def _require_engineer(user: User | None) -> None:
    if user is None or not user.is_authenticated or not user.is_engineer:
        raise PermissionDenied(_("Only provider engineers may do this."))


def _clean_steps(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Check every step and return them normalised; errors name the step and the field."""
    cleaned: list[dict[str, str]] = []
    errors: list[str] = []
    for number, raw in enumerate(steps, start=1):
        step = {field: str(raw.get(field) or "").strip() for field in STEP_FIELDS}
        if step["kind"] not in Kind.values:
            errors.append(_("Step %(n)d: choose a kind.") % {"n": number})
        if not step["title"]:
            errors.append(_("Step %(n)d: give it a title.") % {"n": number})
        if step["kind"] == Kind.AUTOMATED and step["action"] not in RunbookStep.Action.values:
            errors.append(_("Step %(n)d: an automated step needs an action.") % {"n": number})
        if step["kind"] != Kind.AUTOMATED:
            step["action"] = ""
        if step["kind"] == Kind.COMMAND and not step["command"]:
            errors.append(_("Step %(n)d: write the command or the console link.") % {"n": number})
        if step["command"].lower().startswith(("javascript:", "data:")):
            errors.append(_("Step %(n)d: a console link must be an https:// address.") % {"n": number})
        cleaned.append(step)
    if not cleaned:
        errors.append(_("A runbook needs at least one step."))
    if errors:
        raise ValidationError({"steps": errors})
    return cleaned


def _clean_header(*, title: str, phase: str, resource_kind: str) -> dict[str, str]:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("This field is required.")})
    if phase not in Phase.values:
        raise ValidationError({"phase": _("Choose the phase this runbook serves.")})
    return {"title": title[:160], "phase": phase, "resource_kind": resource_kind or ""}


def _write_version(runbook: Runbook, *, by: User | None, intro: str, steps: list[dict[str, str]]) -> RunbookVersion:
    number = (runbook.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = RunbookVersion.objects.create(
        runbook=runbook, number=number, title=runbook.title, intro=intro, intro_html=render(intro), author=by
    )
    RunbookStep.objects.bulk_create(
        RunbookStep(version=version, position=position, body_html=render(step["body"]), **step)
        for position, step in enumerate(steps, start=1)
    )
    return version


def runbook_create(
    *,
    by: User,
    title: str,
    phase: str,
    steps: Sequence[Mapping[str, Any]],
    intro: str = "",
    resource_kind: str = "",
    active: bool = True,
) -> Runbook:
    """Create a runbook with its first version."""
    _require_engineer(by)
    header = _clean_header(title=title, phase=phase, resource_kind=resource_kind)
    cleaned = _clean_steps(steps)
    with transaction.atomic():
        runbook = Runbook.objects.create(active=active, **header)
        _write_version(runbook, by=by, intro=(intro or "").strip(), steps=cleaned)
    return runbook


def runbook_edit(
    *,
    runbook: Runbook,
    by: User,
    title: str,
    phase: str,
    steps: Sequence[Mapping[str, Any]],
    intro: str = "",
    resource_kind: str = "",
    active: bool = True,
) -> RunbookVersion:
    """Save an edit as a new version; earlier versions, and the executions that followed them, stay as they were."""
    _require_engineer(by)
    header = _clean_header(title=title, phase=phase, resource_kind=resource_kind)
    cleaned = _clean_steps(steps)
    with transaction.atomic():
        # Two engineers saving at once get consecutive numbers, not a clash.
        runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
        for field, value in {**header, "active": active}.items():
            setattr(runbook, field, value)
        runbook.save()
        return _write_version(runbook, by=by, intro=(intro or "").strip(), steps=cleaned)


# --- Executions ------------------------------------------------------------------------------------


def _log(
    execution: RunbookExecution, *, by: User | None, outcome: str, step=None, note="", output=""
) -> ExecutionEntry:
    return ExecutionEntry.objects.create(
        execution=execution, step=step, actor=by, outcome=outcome, note=note.strip(), output=output
    )


def _require_running(execution: RunbookExecution) -> RunbookExecution:
    execution = RunbookExecution.objects.select_for_update().get(pk=execution.pk)
    if not execution.is_running():
        raise Conflict(_("This execution is %(status)s.") % {"status": execution.get_status_display().lower()})
    return execution


def _require_step(execution: RunbookExecution, step: RunbookStep) -> None:
    if step.version_id != execution.version_id:
        raise ValidationError({"step": _("This step is not part of the version being followed.")})


def execution_start(
    *, version: RunbookVersion, by: User, event: MediaEvent | None = None, incident=None
) -> RunbookExecution:
    """Start following one runbook version against an event or a status incident."""
    _require_engineer(by)
    if event is None and incident is None:
        raise ValidationError({"event": _("Choose the event this runbook is run for.")})
    organization = event.organization if event is not None else incident.page.organization
    if organization is None:
        raise ValidationError({"incident": _("Runbooks run for a client's incidents.")})
    with transaction.atomic():
        execution = RunbookExecution.objects.create(
            version=version, organization=organization, event=event, incident=incident, started_by=by, assignee=by
        )
        _log(execution, by=by, outcome=Outcome.STARTED, note=_("Following version %(n)d.") % {"n": version.number})
    return execution


def step_complete(*, execution: RunbookExecution, step: RunbookStep, by: User, note: str = "") -> ExecutionEntry:
    """Tick a manual, command or confirmation step (automated steps complete by running)."""
    _require_engineer(by)
    _require_step(execution, step)
    if step.kind == Kind.AUTOMATED:
        raise Conflict(_("An automated step completes by running it."))
    with transaction.atomic():
        execution = _require_running(execution)
        return _log(execution, by=by, outcome=Outcome.DONE, step=step, note=note)


def step_skip(*, execution: RunbookExecution, step: RunbookStep, by: User, reason: str = "") -> ExecutionEntry:
    """Skip a step; a required confirmation is skipped only with a written reason."""
    _require_engineer(by)
    _require_step(execution, step)
    reason = (reason or "").strip()
    if step.kind == Kind.CONFIRMATION and not reason:
        raise ValidationError({"reason": _("Write why this confirmation is skipped.")})
    with transaction.atomic():
        execution = _require_running(execution)
        return _log(execution, by=by, outcome=Outcome.SKIPPED, step=step, note=reason)


def execution_note(*, execution: RunbookExecution, by: User, note: str) -> ExecutionEntry:
    _require_engineer(by)
    if not (note or "").strip():
        raise ValidationError({"note": _("This field is required.")})
    with transaction.atomic():
        execution = _require_running(execution)
        return _log(execution, by=by, outcome=Outcome.NOTE, note=note[:5000])


def execution_handover(*, execution: RunbookExecution, to: User, by: User, note: str = "") -> RunbookExecution:
    """Hand the execution to another engineer, recorded in the log."""
    _require_engineer(by)
    if not to.is_engineer or not to.is_active:
        raise ValidationError({"assignee": _("Hand over to a provider engineer.")})
    with transaction.atomic():
        execution = _require_running(execution)
        if execution.assignee_id == to.pk:
            raise ValidationError({"assignee": _("%(name)s already holds it.") % {"name": to.display_name}})
        previous = execution.assignee
        execution.assignee = to
        execution.save(update_fields=["assignee"])
        text = _("Handed over from %(from)s to %(to)s.") % {
            "from": previous.display_name if previous else "—",
            "to": to.display_name,
        }
        _log(execution, by=by, outcome=Outcome.HANDED_OVER, note=f"{text} {note.strip()}".strip())
    return execution


def execution_close(*, execution: RunbookExecution, by: User, status: str, note: str = "") -> RunbookExecution:
    """Complete (every step done or skipped) or abandon (with a reason) an execution."""
    from runbooks.selectors import execution_steps

    _require_engineer(by)
    if status not in {RunbookExecution.Status.COMPLETED, RunbookExecution.Status.ABANDONED}:
        raise ValidationError({"status": _("Choose completed or abandoned.")})
    if status == RunbookExecution.Status.ABANDONED and not (note or "").strip():
        raise ValidationError({"note": _("Write why this execution is abandoned.")})
    with transaction.atomic():
        execution = _require_running(execution)
        if status == RunbookExecution.Status.COMPLETED:
            open_steps = [row.step.position for row in execution_steps(execution=execution) if not row.finished]
            if open_steps:
                raise Conflict(
                    _("Finish or skip every step first (still open: %(steps)s).")
                    % {"steps": ", ".join(map(str, open_steps))}
                )
        execution.status = status
        execution.finished_at = timezone.now()
        execution.save(update_fields=["status", "finished_at"])
        _log(execution, by=by, outcome=Outcome.CLOSED, note=note or execution.get_status_display())
    return execution


# --- Automated steps -------------------------------------------------------------------------------


def automated_step_run(*, execution: RunbookExecution, step: RunbookStep, by: User) -> AutomatedRun:
    """Queue an automated step once: a second request finds the first run (a failed one may be retried)."""
    _require_engineer(by)
    _require_step(execution, step)
    if step.kind != Kind.AUTOMATED:
        raise Conflict(_("Only an automated step runs by itself."))
    with transaction.atomic():
        execution = _require_running(execution)
        try:
            with transaction.atomic():
                run = AutomatedRun.objects.create(execution=execution, step=step, requested_by=by)
        except IntegrityError:
            run = AutomatedRun.objects.get(execution=execution, step=step)
            # Retrying is a claim too: only the request that moves failed → pending enqueues.
            retried = AutomatedRun.objects.filter(pk=run.pk, status=AutomatedRun.Status.FAILED).update(
                status=AutomatedRun.Status.PENDING, requested_by=by, output=""
            )
            if not retried:
                run.refresh_from_db()
                return run
        transaction.on_commit(lambda: _enqueue(run.pk))
    run.refresh_from_db()
    return run


def _enqueue(run_id: int) -> None:
    from runbooks.tasks import automated_step_task

    automated_step_task.delay(run_id)


def automated_step_execute(*, run_id: int) -> AutomatedRun | None:
    """Run the portal action of a pending automated step, once: the worker that claims it does the work."""
    from runbooks.actions import ActionFailed, perform

    claimed = AutomatedRun.objects.filter(pk=run_id, status=AutomatedRun.Status.PENDING).update(
        status=AutomatedRun.Status.RUNNING, updated_at=timezone.now()
    )
    if claimed != 1:
        return None
    run = AutomatedRun.objects.select_related("execution__event__organization", "step", "requested_by").get(pk=run_id)
    run.attempts += 1
    try:
        output, result = perform(run)
    except ActionFailed as failure:
        run.status, run.output = AutomatedRun.Status.FAILED, failure.message
    else:
        run.status, run.output, run.result = AutomatedRun.Status.DONE, output, result
    with transaction.atomic():
        run.save(update_fields=["status", "output", "result", "attempts", "updated_at"])
        _log(
            run.execution,
            by=run.requested_by,
            outcome=Outcome.DONE if run.status == AutomatedRun.Status.DONE else Outcome.FAILED,
            step=run.step,
            output=run.output,
        )
    return run


def automated_run_gave_up(*, run_id: int, message: str) -> None:
    """Mark a run failed when its task dies (time limit, unexpected error), so it can be retried."""
    AutomatedRun.objects.filter(
        pk=run_id, status__in=[AutomatedRun.Status.PENDING, AutomatedRun.Status.RUNNING]
    ).update(status=AutomatedRun.Status.FAILED, output=message[:2000], updated_at=timezone.now())
