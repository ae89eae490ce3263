"""Reads shared by the runbook pages, the client's pages and the event page."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from events.models import MediaEvent
from runbooks.models import AutomatedRun, ExecutionEntry, Phase, Runbook, RunbookExecution, RunbookStep, RunbookVersion

Status = MediaEvent.Status
FINISHING = {ExecutionEntry.Outcome.DONE, ExecutionEntry.Outcome.SKIPPED}


@dataclass
class StepRow:
    step: RunbookStep
    entries: list[ExecutionEntry] = field(default_factory=list)
    run: AutomatedRun | None = None

    @property
    def last(self) -> ExecutionEntry | None:
        return self.entries[-1] if self.entries else None

    @property
    def finished(self) -> bool:
        return any(entry.outcome in FINISHING for entry in self.entries)

    @property
    def state(self) -> str:
        """Return the step's state as a person reads it: open, done, skipped, failed, pending or running."""
        if self.run is not None and self.run.is_live():
            return self.run.status
        return self.last.outcome if self.last else "open"


def execution_steps(*, execution: RunbookExecution) -> list[StepRow]:
    """Return the followed version's steps, each with its log lines and automated run."""
    rows = {step.pk: StepRow(step=step) for step in execution.version.steps.order_by("position")}
    for entry in execution.entries.filter(step__isnull=False).select_related("actor"):
        rows[entry.step_id].entries.append(entry)
    for run in AutomatedRun.objects.filter(execution=execution):
        rows[run.step_id].run = run
    return list(rows.values())


def executions_for(*, user, organization=None) -> QuerySet[RunbookExecution]:
    executions = RunbookExecution.objects.for_user(user)
    if organization is not None:
        executions = executions.in_organization(organization)
    return executions.select_related("version", "event", "incident", "assignee", "organization")


def next_phase(*, event: MediaEvent, now: datetime) -> str | None:
    """Return the phase the event is heading into (or is in), from its status and the time to air."""
    if event.status == Status.CANCELLED:
        return None
    if event.status in {Status.DRAFT, Status.SUBMITTED}:
        return Phase.BOOKING_REVIEW
    if event.status in {Status.COMPLETED, Status.REVIEWED} or now >= event.air_end:
        return Phase.AFTER_AIR
    if event.status == Status.ON_AIR or now >= event.air_start:
        return Phase.ON_AIR
    left = event.air_start - now
    if left > timedelta(days=7):
        return Phase.T_MINUS_7D
    if left > timedelta(hours=24):
        return Phase.T_MINUS_24H
    return Phase.T_MINUS_1H


def runbooks_for_next_phase(event: MediaEvent, now: datetime) -> QuerySet[Runbook]:
    """Return the active runbooks of the event's next phase that fit its stack (or any stack)."""
    phase = next_phase(event=event, now=now)
    if phase is None:
        return Runbook.objects.none()
    kinds = list(event.stack.resources.values_list("kind", flat=True)) if event.stack_id else []
    return Runbook.objects.filter(Q(resource_kind="") | Q(resource_kind__in=kinds), active=True, phase=phase).order_by(
        "title"
    )


def version_text(version: RunbookVersion) -> list[str]:
    """Return a version as plain lines, the text a diff compares."""
    lines = [f"# {version.title}", *version.intro.splitlines(), ""]
    for step in version.steps.order_by("position"):
        kind = RunbookStep.Kind(step.kind).label
        lines.append(f"{step.position}. [{kind}] {step.title}")
        if step.action:
            lines.append(f"   action: {step.action}")
        if step.command:
            lines.append(f"   command: {step.command}")
        lines.extend(f"   {line}" for line in step.body.splitlines())
    return lines


@dataclass(frozen=True)
class DiffLine:
    change: str  # "added", "removed", "same" or "hunk"
    text: str


def version_diff(*, old: RunbookVersion, new: RunbookVersion) -> list[DiffLine]:
    """Return a unified diff of two versions, line by line, with three lines of context."""
    lines: list[DiffLine] = []
    diff = difflib.unified_diff(version_text(old), version_text(new), lineterm="", n=3)
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("removed", line[1:]))
        else:
            lines.append(DiffLine("same", line[1:]))
    return lines
