"""report_generate: figures from the seeded minutes, idempotence, the summary kept, calibration decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from cloud.models import StackResource
from events.forecasting import forecast_for_event
from events.models import ForecastProfile
from portal.exceptions import Conflict
from reports.models import CalibrationSuggestion, EventReport
from reports.services import (
    calibration_decide,
    report_figures_for,
    report_generate,
    report_publish,
    report_summary_update,
)
from scaling.models import PlanTarget, ScalingAction, ScalingPlan
from status.models import Incident, StatusPage


def _applied_plan(event):
    StackResource.objects.create(
        stack=event.stack, kind="autoscaling_group", identifier="asg-web", name="web", region="eu-west-3", unit_rps=80
    )
    plan = ScalingPlan.objects.create(
        event=event, status=ScalingPlan.Status.APPLIED, fingerprint="x", totals={"estimated_cost_eur": 18.4}
    )
    PlanTarget.objects.create(
        plan=plan,
        kind="autoscaling_group",
        identifier="asg-web",
        name="web",
        region="eu-west-3",
        now={"min": 2, "desired": 2, "max": 4},
        target={"min": 12, "desired": 12, "max": 14},
        scale_up_at=event.air_start,
    )
    ScalingAction.objects.create(
        organization=event.organization, plan=plan, operation="PutScheduledUpdateGroupAction", result="ok"
    )
    return plan


def test_figures_match_the_hand_computation(personas, aired_event):
    _applied_plan(aired_event)
    page = StatusPage.objects.create(organization=personas.organization, name="Status", slug="lumiere-status")
    Incident.objects.create(
        page=page,
        name="Checkout slow",
        status="resolved",
        started_at=aired_event.air_start,
        resolved_at=aired_event.air_start.replace(second=0) + (aired_event.air_end - aired_event.air_start),
    )
    report = report_generate(aired_event)
    figures = report.figures
    forecast = forecast_for_event(aired_event)

    # Peak: minute 1, 42,000 requests / 60 = 700 req/s.
    assert figures["origin_peak"]["observed"] == pytest.approx(700)
    assert figures["time_to_peak"]["observed"] == 1
    assert figures["origin_peak"]["forecast"] == pytest.approx(forecast.peak_origin_rps.value.likely)
    # Air window of 12 minutes: 0,1,2,3 up; 5 down (10 % 5xx); 4 missing and 6..11 without rows: unknown.
    availability = figures["availability"]
    assert (availability["up"], availability["down"], availability["unknown"]) == (4, 1, 7)
    assert availability["availability"] == pytest.approx(4 / 5)
    assert availability["error_rate"] == pytest.approx(
        (6 + 84 + 36 + 0 + 2_400) / (6_000 + 42_000 + 36_000 + 30_000 + 24_000)
    )
    # 12 instances × 80 req/s = 960 req/s reserved; 700 used.
    assert figures["capacity"]["reserved_rps"] == 960
    assert figures["capacity"]["used"] == pytest.approx(700 / 960)
    assert figures["plan"]["estimated_cost_eur"] == 18.4
    assert [incident["name"] for incident in figures["incidents"]] == ["Checkout slow"]
    assert [action["operation"] for action in figures["actions"]] == ["PutScheduledUpdateGroupAction"]
    # Visit rate: 0.02 × (700 − baseline) / (forecast peak − baseline).
    baseline = forecast.baseline_rps
    expected = 0.02 * (700 - baseline) / (forecast.peak_origin_rps.value.likely - baseline)
    suggestion = CalibrationSuggestion.objects.get(event=aired_event)
    assert suggestion.observed == pytest.approx(expected, rel=1e-5)
    assert suggestion.assumed == 0.02


def test_generate_is_idempotent_and_keeps_the_edited_summary(personas, aired_event):
    first = report_generate(aired_event)
    report_summary_update(report=first, by=personas.engineer, summary="**Held** at the peak.")
    second = report_generate(aired_event)
    assert EventReport.objects.filter(event=aired_event).count() == 1
    assert CalibrationSuggestion.objects.filter(event=aired_event).count() == 1
    assert second.pk == first.pk
    assert second.summary == "**Held** at the peak."
    assert "<strong>Held</strong>" in second.summary_html()

    reset = report_generate(aired_event, by=personas.engineer, reset_summary=True)
    assert reset.summary != "**Held** at the peak."
    assert not reset.summary_edited


def test_summary_markdown_is_sanitized(personas, aired_event):
    report = report_generate(aired_event)
    report_summary_update(
        report=report, by=personas.engineer, summary="<script>alert(1)</script> [x](javascript:alert(1))"
    )
    html = report.summary_html()
    assert "<script" not in html
    assert "href" not in html  # the javascript: link stays text


def test_regenerating_keeps_a_decided_calibration(personas, aired_event):
    report_generate(aired_event)
    suggestion = CalibrationSuggestion.objects.get(event=aired_event)
    calibration_decide(suggestion=suggestion, by=personas.engineer, accept=False)
    report_generate(aired_event)
    assert CalibrationSuggestion.objects.get(event=aired_event).status == CalibrationSuggestion.Status.DISMISSED


def test_calibration_updates_the_profile_only_when_accepted(personas, aired_event):
    ForecastProfile.objects.create(organization=personas.organization, pages_per_visit=4.0)
    report_generate(aired_event)
    suggestion = CalibrationSuggestion.objects.get(event=aired_event)

    calibration_decide(suggestion=suggestion, by=personas.engineer, accept=False)
    profile = ForecastProfile.objects.get(organization=personas.organization)
    assert profile.visit_rate is None
    with pytest.raises(Conflict):
        calibration_decide(suggestion=suggestion, by=personas.engineer, accept=True)
    assert ForecastProfile.objects.get(organization=personas.organization).visit_rate is None

    suggestion.status = CalibrationSuggestion.Status.SUGGESTED
    suggestion.save()
    calibration_decide(suggestion=suggestion, by=personas.engineer, accept=True)
    profile.refresh_from_db()
    assert profile.visit_rate == pytest.approx(suggestion.observed)
    assert profile.pages_per_visit == 4.0  # the other overrides stay
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == (CalibrationSuggestion.Status.ACCEPTED, personas.engineer)


def test_clients_cannot_generate_publish_or_calibrate(personas, aired_event):
    report = report_generate(aired_event)
    suggestion = CalibrationSuggestion.objects.get(event=aired_event)
    with pytest.raises(PermissionDenied):
        report_generate(aired_event, by=personas.owner)
    with pytest.raises(PermissionDenied):
        report_publish(report=report, by=personas.owner)
    with pytest.raises(PermissionDenied):
        calibration_decide(suggestion=suggestion, by=personas.owner, accept=True)
    assert not ForecastProfile.objects.filter(organization=personas.organization, visit_rate__isnull=False).exists()


def test_publish_once(personas, aired_event):
    report = report_generate(aired_event)
    report_publish(report=report, by=personas.engineer)
    assert report.is_published()
    assert report.published_by == personas.engineer
    with pytest.raises(Conflict):
        report_publish(report=report, by=personas.engineer)


def test_an_event_completed_before_its_air_end_is_judged_up_to_its_completion(personas, aired_event):
    """Minutes after an early completion never came: they are not counted as "no data"."""
    from events.models import TimelineEntry

    completed = aired_event.air_start + timedelta(minutes=5)
    entry = TimelineEntry.objects.create(
        event=aired_event, kind=TimelineEntry.Kind.TRANSITION, from_status="on_air", to_status="completed",
        message="Completed early.",
    )  # fmt: skip
    TimelineEntry.objects.filter(pk=entry.pk).update(at=completed)
    figures = report_figures_for(aired_event)
    assert figures["air_end"] == completed.isoformat()
    assert figures["availability"]["window_minutes"] == 5
