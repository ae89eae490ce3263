from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from readiness.models import CheckResult, Outcome, ReadinessRun


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def run_progress(run: ReadinessRun) -> Progress:
    counts = CheckResult.objects.filter(run=run).aggregate(
        total=Count("pk"), pending=Count("pk", filter=Q(outcome=Outcome.PENDING))
    )
    return Progress(done=counts["total"] - counts["pending"], total=counts["total"])


def runs_of_event(*, event) -> list[ReadinessRun]:
    return list(ReadinessRun.objects.filter(event=event).select_related("requested_by")[:10])


@dataclass(frozen=True)
class Change:
    title: str
    target: str
    before: str
    after: str


def run_changes(run: ReadinessRun) -> list[Change]:
    """Return the findings whose outcome differs from the previous completed run of the same event."""
    previous = (
        ReadinessRun.objects.filter(
            event=run.event_id, status=ReadinessRun.Status.COMPLETED, created_at__lt=run.created_at
        )
        .order_by("-created_at")
        .first()
    )
    if previous is None:
        return []
    before = {(row.check_id, row.target): row for row in previous.results.all()}
    changes = []
    for result in run.results.exclude(outcome=Outcome.PENDING):
        earlier = before.pop((result.check_id, result.target), None)
        if earlier is None:
            changes.append(Change(result.title, result.target, "", result.outcome))
        elif earlier.outcome != result.outcome:
            changes.append(Change(result.title, result.target, earlier.outcome, result.outcome))
    changes.extend(Change(row.title, row.target, row.outcome, "") for row in before.values())
    return changes


def latest_changes(runs: list[ReadinessRun]) -> list[Change]:
    """Return what the latest completed run changed against the one before it."""
    latest = next((run for run in runs if run.status == ReadinessRun.Status.COMPLETED), None)
    return run_changes(latest) if latest is not None else []
