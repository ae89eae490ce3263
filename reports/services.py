"""Generate, edit and publish post-event reports, and decide the calibrations they suggest."""

from __future__ import annotations

import math
from datetime import timedelta

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from events.forecasting import forecast_for_event, forecast_parameters_for
from events.models import ForecastProfile, MediaEvent, TimelineEntry
from events.services import forecast_profile_update
from live.models import ObservedMinute
from portal.exceptions import Conflict
from reports import figures as report_figures
from reports.models import CalibrationSuggestion, EventReport
from scaling.models import ScalingAction, ScalingPlan
from scaling.targets import UNITS_KEY
from status.models import Incident

# Executions are another app's work in progress: the report includes them once the model exists.
RUNBOOK_EXECUTION = ("runbooks", "RunbookExecution")


def _require_engineer(user: User | None) -> None:
    if user is not None and not user.is_engineer:
        raise PermissionDenied(_("Only provider engineers edit, generate and publish reports."))


def _minutes(event: MediaEvent) -> list[report_figures.Minute]:
    rows = ObservedMinute.objects.filter(event=event).order_by("minute")
    return [
        report_figures.Minute(
            offset=math.floor((row.minute - event.air_start).total_seconds() / 60),
            requests=row.requests,
            errors_5xx=row.errors_5xx,
            p95_ms=row.p95_ms,
            missing=row.missing,
        )
        for row in rows
    ]


def _plan(event: MediaEvent) -> ScalingPlan | None:
    """Return the plan that reserved the capacity: the latest applied one."""
    return ScalingPlan.objects.filter(event=event, status=ScalingPlan.Status.APPLIED).order_by("-created_at").first()


def _capacities(plan: ScalingPlan | None) -> list[report_figures.Capacity]:
    if plan is None:
        return []
    from cloud.models import StackResource

    unit_rps = dict(StackResource.objects.filter(stack=plan.event.stack_id).values_list("identifier", "unit_rps"))
    return [
        report_figures.Capacity(
            name=target.name,
            kind=target.kind,
            units=int(
                (target.now if target.refused else target.target).get(UNITS_KEY.get(target.kind, "desired")) or 0
            ),
            unit_rps=float(unit_rps[target.identifier]) if unit_rps.get(target.identifier) else None,
        )
        for target in plan.targets.all()
    ]


def _incidents(event: MediaEvent) -> list[dict]:
    start, end = event.air_start, event.tail_end
    incidents = Incident.objects.filter(page__organization=event.organization, kind=Incident.Kind.INCIDENT).filter(
        started_at__lt=end
    )
    incidents = incidents.exclude(resolved_at__lt=start).order_by("started_at")
    return [
        {
            "name": incident.name,
            "impact": incident.impact,
            "status": incident.status,
            "started_at": incident.started_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "minutes": (
                round((incident.resolved_at - incident.started_at).total_seconds() / 60)
                if incident.resolved_at
                else None
            ),
        }
        for incident in incidents
    ]


def _actions(event: MediaEvent) -> list[dict]:
    actions = ScalingAction.objects.filter(plan__event=event).select_related("actor").order_by("at", "pk")
    return [
        {
            "at": action.at.isoformat(),
            "operation": action.operation,
            "resource": action.resource,
            "result": action.result,
            "actor": action.actor.get_full_name() if action.actor else "",
            "message": action.message[:300],
        }
        for action in actions
    ]


def _executions(event: MediaEvent) -> list[dict] | None:
    """Return the runbook executions against the event, or None while the runbooks app has no such model."""
    try:
        model = apps.get_model(*RUNBOOK_EXECUTION)
    except LookupError:
        return None
    names = {field.name for field in model._meta.get_fields()}
    if "event" not in names:
        return None
    rows = []
    for execution in model.objects.filter(event=event).order_by("pk"):
        runbook = getattr(execution, "runbook", None) or getattr(getattr(execution, "version", None), "runbook", None)
        rows.append(
            {
                "title": str(getattr(runbook, "title", "") or execution),
                "status": str(getattr(execution, "status", "")),
                "started_at": _iso(getattr(execution, "started_at", None) or getattr(execution, "created_at", None)),
                "finished_at": _iso(
                    getattr(execution, "finished_at", None) or getattr(execution, "completed_at", None)
                ),
            }
        )
    return rows


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def report_figures_for(event: MediaEvent) -> dict:
    """Gather the event's observations, forecast, plan, incidents and actions, and compute the report's figures."""
    parameters = forecast_parameters_for(event.organization)
    forecast = forecast_for_event(event, parameters=parameters)
    plan = _plan(event)
    # An event completed before its air end (a short rehearsal, a segment cut) is judged up to its completion:
    # the minutes that never came are not "no data".
    air_end = event.air_end
    completed_at = (
        TimelineEntry.objects.filter(event=event, to_status=MediaEvent.Status.COMPLETED)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    if completed_at and event.air_start < completed_at < air_end:
        air_end = completed_at
    segment_minutes = max(1, math.ceil((air_end - event.air_start).total_seconds() / 60))
    computed = report_figures.compute(
        report_figures.ReportInput(
            minutes=_minutes(event),
            forecast=forecast,
            segment_minutes=min(event.segment_minutes, segment_minutes),
            visit_rate=parameters.visit_rate,
            capacities=_capacities(plan),
            plan=(
                {
                    "id": plan.pk,
                    "estimated_cost_eur": plan.totals.get("estimated_cost_eur"),
                    "instances": plan.totals.get("instances"),
                    "vcpus": plan.totals.get("vcpus"),
                    "safety_factor": plan.safety_factor,
                }
                if plan
                else None
            ),
            incidents=_incidents(event),
            actions=_actions(event),
            executions=_executions(event),
        )
    )
    computed["air_start"] = event.air_start.isoformat()
    computed["air_end"] = air_end.isoformat()
    return computed


def _default_summary(figures: dict) -> str:
    """Write the first draft of the summary from the figures; engineers rewrite it."""
    peak = figures["origin_peak"]
    lines = []
    if peak["observed"] is None:
        lines.append(_("No traffic was observed at the origin: the figures below are the forecast's only."))
    else:
        lines.append(
            _("The origin peaked at %(observed).0f requests/s against %(forecast).0f forecast.")
            % {"observed": peak["observed"], "forecast": peak["forecast"]}
        )
    availability = figures["availability"]
    if availability["availability"] is not None:
        lines.append(
            _("Availability during the air window: %(value).1f %% of the minutes with data.")
            % {"value": availability["availability"] * 100}
        )
    if availability["unknown"]:
        lines.append(_("%(count)d minutes of the air window have no data.") % {"count": availability["unknown"]})
    return "\n\n".join(lines)


def report_generate(event: MediaEvent, *, by: User | None = None, reset_summary: bool = False) -> EventReport:
    """Create or refresh the event's report and its calibration suggestions; safe to run twice.

    The figures are recomputed every time; the summary is rewritten only while no engineer edited it, or
    when ``reset_summary`` asks for it. ``by`` is None when the clock generates the report.
    """
    _require_engineer(by)
    computed = report_figures_for(event)
    now = timezone.now()
    with transaction.atomic():
        report, _created = EventReport.objects.select_for_update().get_or_create(event=event)
        report.figures = computed
        report.generated_at = now
        if reset_summary or not report.summary_edited:
            report.summary = _default_summary(computed)
            report.summary_edited = False
        report.save()
        for suggestion in computed["calibration"]:
            existing = CalibrationSuggestion.objects.filter(event=event, parameter=suggestion["parameter"]).first()
            if existing is None:
                CalibrationSuggestion.objects.create(
                    organization_id=event.organization_id,
                    event=event,
                    parameter=suggestion["parameter"],
                    observed=suggestion["observed"],
                    assumed=suggestion["assumed"],
                )
            elif existing.is_open():
                existing.observed, existing.assumed = suggestion["observed"], suggestion["assumed"]
                existing.save(update_fields=["observed", "assumed"])
        # A suggestion the new figures no longer support goes away unless someone already decided it.
        CalibrationSuggestion.objects.filter(event=event, status=CalibrationSuggestion.Status.SUGGESTED).exclude(
            parameter__in=[suggestion["parameter"] for suggestion in computed["calibration"]]
        ).delete()
    return report


def report_summary_update(*, report: EventReport, by: User, summary: str) -> EventReport:
    """Save the engineer's summary; regenerating keeps it from now on."""
    _require_engineer(by)
    report.summary = summary
    report.summary_edited = True
    report.save(update_fields=["summary", "summary_edited", "updated_at"])
    return report


def report_publish(*, report: EventReport, by: User) -> EventReport:
    """Publish the report to the organization's members; publishing twice changes nothing."""
    _require_engineer(by)
    updated = EventReport.objects.filter(pk=report.pk, status=EventReport.Status.DRAFT).update(
        status=EventReport.Status.PUBLISHED, published_at=timezone.now(), published_by=by
    )
    report.refresh_from_db()
    if not updated:
        raise Conflict(_("This report is already published."))
    return report


def calibration_decide(*, suggestion: CalibrationSuggestion, by: User, accept: bool) -> CalibrationSuggestion:
    """Accept (into the organization's forecast profile) or dismiss a suggestion; each is decided once."""
    _require_engineer(by)
    if by is None:
        raise PermissionDenied(_("A person decides calibrations."))
    with transaction.atomic():
        claimed = CalibrationSuggestion.objects.filter(
            pk=suggestion.pk, status=CalibrationSuggestion.Status.SUGGESTED
        ).update(
            status=CalibrationSuggestion.Status.ACCEPTED if accept else CalibrationSuggestion.Status.DISMISSED,
            decided_by=by,
            decided_at=timezone.now(),
        )
        if not claimed:
            raise Conflict(_("This suggestion was already decided."))
        if accept:
            profile = ForecastProfile.objects.filter(organization=suggestion.organization_id).first()
            values = profile.overrides() if profile else {}
            values[suggestion.parameter] = suggestion.observed
            # forecast_profile_update replaces every field: pass the current overrides with the new value.
            forecast_profile_update(organization=suggestion.organization, by=by, values=values)
    suggestion.refresh_from_db()
    return suggestion


def report_due(event: MediaEvent) -> bool:
    """Tell whether the event has aired long enough for a report (completed or reviewed)."""
    return event.status in {MediaEvent.Status.COMPLETED, MediaEvent.Status.REVIEWED} or (
        event.status == MediaEvent.Status.ON_AIR and timezone.now() >= event.air_end + timedelta(minutes=1)
    )
