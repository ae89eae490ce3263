"""What the live room shows: observed against forecast, the landing pages' probes, capacity, timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import FieldError
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from cloud.models import StackResource
from events.charts import ChartPoint, ObservedPoint, format_number, observed_chart
from events.forecasting import forecast_for_event
from events.models import MediaEvent
from live.collector import ROOM_OPENS_BEFORE
from live.models import ObservedMinute, RoomNote
from readiness.models import CheckResult, ReadinessRun
from scaling.models import PendingChange, ScalingAction, ScalingPlan
from status.models import Component, StatusPage

TIMELINE_LENGTH = 50
RECENT_MINUTES = 5
CHART_AHEAD_MINUTES = 45


@dataclass(frozen=True)
class Figures:
    """The latest complete minute: requests/s, error rate and p95, or ``missing`` when CloudWatch did not answer."""

    minute: datetime | None
    missing: bool
    requests_per_second: str
    error_rate: str
    p95_ms: str
    missing_recently: int


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "note", "action" or "aws"
    text: str
    author: str


def room_is_open(event: MediaEvent, *, now: datetime) -> bool:
    return event.air_start - ROOM_OPENS_BEFORE <= now <= event.tail_end


def _minute_offset(event: MediaEvent, moment: datetime) -> int:
    return round((moment - event.air_start).total_seconds() / 60)


def room_chart(event: MediaEvent, observed: list[ObservedMinute], *, now: datetime):
    """Return the SVG of the forecast band (origin requests/s) with the observed requests/s over it."""

    def clock(minute: int) -> str:
        return localtime(event.air_start + timedelta(minutes=minute)).strftime("%H:%M")

    forecast = forecast_for_event(event)
    # The room looks at the spike, not the whole 3-hour tail: the chart runs a while past now and past air end.
    last_x = max(_minute_offset(event, now) + CHART_AHEAD_MINUTES, round(event.segment_minutes) + CHART_AHEAD_MINUTES)
    points = [
        ChartPoint(point.minute, point.origin_rps.low, point.origin_rps.likely, point.origin_rps.high)
        for point in forecast.points
        if point.minute <= last_x
    ]
    series = [ObservedPoint(_minute_offset(event, row.minute), row.requests_per_second) for row in observed]
    shown = [point for point in series if point.value is not None]
    peak = max(shown, key=lambda point: point.value, default=None)
    description = (
        _(
            "Observed peak so far %(value)s requests per second at %(time)s, "
            "against a likely forecast peak of %(likely)s."
        )
        % {
            "value": format_number(peak.value),
            "time": clock(peak.x),
            "likely": format_number(forecast.peak_origin_rps.value.likely),
        }
        if peak is not None
        else _("No observed minute yet; likely forecast peak %(likely)s requests per second.")
        % {"likely": format_number(forecast.peak_origin_rps.value.likely)}
    )
    return observed_chart(
        points=points,
        observed=series,
        title=_("Observed requests per second against the forecast for “%(title)s”") % {"title": event.title},
        description=description,
        x_label=clock,
        y_unit=_("req/s"),
        marker_x=0,
        marker_label=_("Air"),
        now_x=_minute_offset(event, now),
    )


def latest_figures(observed: list[ObservedMinute]) -> Figures:
    """Return the figures of the latest stored minute (missing or not) and how many recent minutes are missing."""
    if not observed:
        return Figures(None, False, "—", "—", "—", 0)
    last = observed[-1]
    recent = [row for row in observed if row.minute > last.minute - timedelta(minutes=RECENT_MINUTES)]
    missing_recently = sum(row.missing for row in recent)
    if last.missing:
        return Figures(last.minute, True, "—", "—", "—", missing_recently)
    rate = "—"
    if last.requests:
        rate = format_number(100 * (last.errors_5xx or 0) / last.requests) + " %"
    elif last.requests == 0:
        rate = "0 %"
    return Figures(
        minute=last.minute,
        missing=False,
        requests_per_second=format_number(last.requests_per_second or 0),
        error_rate=rate,
        p95_ms=format_number(last.p95_ms, 0) + " ms" if last.p95_ms is not None else "—",
        missing_recently=missing_recently,
    )


def landing_probes(event: MediaEvent) -> list[dict[str, Any]]:
    """Return the latest probe of each landing URL: its status page component, else the last readiness check."""
    rows: list[dict[str, Any]] = []
    page = StatusPage.objects.filter(organization=event.organization_id).first()
    seen: set[str] = set()
    if page is not None:
        components = Component.objects.filter(page=page).filter(
            Q(stack=event.stack_id) | Q(probe_url__in=event.landing_urls or [])
        )
        for component in components.exclude(probe_url=""):
            probe = component.last_probe or {}
            seen.add(component.probe_url)
            rows.append(
                {
                    "name": component.name,
                    "url": component.probe_url,
                    "status": component.get_status_display(),
                    "status_css": component.status,
                    "code": probe.get("status_code"),
                    "latency_ms": probe.get("latency_ms"),
                    "error": probe.get("error"),
                    "at": parse_datetime(probe["at"]) if probe.get("at") else None,
                }
            )
    run = ReadinessRun.objects.filter(event=event, status=ReadinessRun.Status.COMPLETED).order_by("-created_at").first()
    checks = {}
    if run is not None:
        checks = {result.target: result for result in CheckResult.objects.filter(run=run, check_id="http.status")}
    for url in event.landing_urls or []:
        if url in seen:
            continue
        result = checks.get(url)
        evidence = result.evidence if result is not None else {}
        rows.append(
            {
                "name": _("Readiness check"),
                "url": url,
                "status": result.get_outcome_display() if result is not None else _("Not probed yet"),
                "status_css": result.outcome if result is not None else "unknown",
                "code": evidence.get("status"),
                "latency_ms": evidence.get("elapsed_ms"),
                "error": evidence.get("error"),
                "at": result.finished_at if result is not None else None,
            }
        )
    return rows


def applied_plan(event: MediaEvent) -> ScalingPlan | None:
    return (
        ScalingPlan.objects.filter(event=event, status__in=[ScalingPlan.Status.APPLIED, ScalingPlan.Status.APPLYING])
        .prefetch_related("targets")
        .first()
    )


def _capacity_text(values: dict[str, Any] | None) -> str:
    if not values:
        return "—"
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in values.items() if value not in (None, []))


def capacity_rows(event: MediaEvent, plan: ScalingPlan | None) -> list[dict[str, str]]:
    """Return, per resource of the applied plan, the capacity read last against the plan's target."""
    if plan is None:
        return []
    resources = {
        resource.identifier: resource for resource in StackResource.objects.filter(stack=event.stack_id)
    }  # fmt: skip
    rows = []
    for target in plan.targets.all():
        resource = resources.get(target.identifier)
        current = {key: (resource.capacity or {}).get(key) for key in target.target} if resource else None
        rows.append(
            {
                "name": target.name,
                "kind": target.kind.replace("_", " "),
                "current": _capacity_text(current),
                "target": _capacity_text(target.target),
                "short": bool(current) and any(current.get(key) != value for key, value in target.target.items()),
                "read_at": resource.refreshed_at if resource else None,
            }
        )
    return rows


def next_plan_steps(plan: ScalingPlan | None, *, now: datetime) -> list[dict[str, Any]]:
    """Return what the applied plan still does: scale-ups, pending reservation steps and reverts, by time."""
    if plan is None:
        return []
    steps: list[dict[str, Any]] = []
    for target in plan.targets.all():
        if target.refused:
            continue
        if target.scale_up_at > now:
            steps.append({"at": target.scale_up_at, "what": _("Scale up %(name)s") % {"name": target.name}})
        for when, capacity in target.revert_steps or []:
            moment = parse_datetime(when) if isinstance(when, str) else None
            if moment is not None and moment > now:
                steps.append(
                    {
                        "at": moment,
                        "what": _("Revert %(name)s to %(capacity)s")
                        % {"name": target.name, "capacity": _capacity_text(capacity)},
                    }
                )
    pending = PendingChange.objects.filter(target__plan=plan, status=PendingChange.Status.PENDING).select_related(
        "target"
    )
    for change in pending:
        steps.append(
            {
                "at": change.due_at,
                "what": _("%(step)s %(name)s: %(capacity)s (pending)")
                % {"step": change.step, "name": change.target.name, "capacity": _capacity_text(change.capacity)},
            }
        )
    return sorted(steps, key=lambda step: step["at"])


def room_timeline(event: MediaEvent) -> list[TimelineEntry]:
    """Return the notes and the audited AWS actions of the event, newest first."""
    entries = [
        TimelineEntry(note.at, note.kind, note.text, note.author.display_name if note.author else _("Primetime"))
        for note in RoomNote.objects.filter(event=event).select_related("author").order_by("-at")[:TIMELINE_LENGTH]
    ]
    actions = ScalingAction.objects.filter(plan__event=event).select_related("actor").order_by("-at")
    for action in actions[:TIMELINE_LENGTH]:
        entries.append(
            TimelineEntry(
                action.at,
                "aws",
                f"{action.operation} {action.resource.rsplit('/', 1)[-1]}: {action.get_result_display()}",
                action.actor.display_name if action.actor else _("Primetime"),
            )
        )
    entries.extend(_runbook_entries(event))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:TIMELINE_LENGTH]


def _runbook_entries(event: MediaEvent) -> list[TimelineEntry]:
    """Runbook steps done against the event: automated actions appear here by themselves."""
    from runbooks.models import ExecutionEntry

    rows = (
        ExecutionEntry.objects.filter(execution__event=event)
        .select_related("actor", "step", "execution__version__runbook")
        .order_by("-at")[:TIMELINE_LENGTH]
    )
    entries = []
    for row in rows:
        what = row.step.title if row.step else row.get_outcome_display()
        text = f"{row.execution.version.runbook.title}: {what} — {row.get_outcome_display()}"
        detail = row.output or row.note
        if detail:
            text += f" ({detail[:120]})"
        entries.append(TimelineEntry(row.at, "runbook", text, row.actor.display_name if row.actor else _("Primetime")))
    return entries


def runbooks_in_progress(event: MediaEvent) -> list[str]:
    """Return the runbook executions running against the event, once the runbooks app has them."""
    try:
        from runbooks.models import RunbookExecution  # type: ignore[attr-defined]
    except ImportError:
        return []
    try:
        running = RunbookExecution.objects.filter(event=event, finished_at__isnull=True)
        return [str(execution) for execution in running[:10]]
    except (FieldError, ValueError):
        return []


def live_context(event: MediaEvent, *, now: datetime) -> dict[str, Any]:
    """Return everything the refreshing part of the room shows."""
    observed = list(ObservedMinute.objects.filter(event=event).order_by("minute"))
    plan = applied_plan(event)
    return {
        "now": now,
        "room_open": room_is_open(event, now=now),
        "opens_at": event.air_start - ROOM_OPENS_BEFORE,
        "chart": room_chart(event, observed, now=now),
        "figures": latest_figures(observed),
        "observed_count": sum(not row.missing for row in observed),
        "missing_count": sum(row.missing for row in observed),
        "probes": landing_probes(event),
        "plan": plan,
        "capacity": capacity_rows(event, plan),
        "plan_steps": next_plan_steps(plan, now=now),
        "timeline": room_timeline(event),
        "runbooks": runbooks_in_progress(event),
    }
