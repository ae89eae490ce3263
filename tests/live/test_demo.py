"""The demo's live room: a rehearsal on air when the demo starts, its simulated traffic, and last month's report.

The traffic is put into moto only (the simulated account on loopback); the collector then reads it back as observed
minutes, asking for "Maximum" instead of "p95" because the account is the simulated one.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from events.models import MediaEvent
from live import collector, simulation
from live.demo import PAST_TITLE, REHEARSAL_TITLE
from live.models import ObservedMinute
from live.tasks import simulate_demo_traffic_task
from reports.models import CalibrationSuggestion, EventReport
from tests.cloud import conftest as cloud_fixtures

aws = cloud_fixtures.aws


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback for this module."""
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


@pytest.fixture
def no_aws(settings):
    """The seed without any AWS endpoint: the moto fixture of this module is not taken."""
    settings.DEBUG = True
    settings.AWS_ENDPOINT_URL = None
    settings.AWS_SIMULATED_ACCOUNT = False
    return settings


def _seed():
    call_command("seed_demo", stdout=io.StringIO())


@pytest.mark.django_db
def test_seeding_twice_puts_one_rehearsal_on_air_with_a_lead_and_publishes_the_past_report(no_aws):
    _seed()
    counts = (MediaEvent.objects.count(), ObservedMinute.objects.count(), EventReport.objects.count())
    _seed()
    assert (MediaEvent.objects.count(), ObservedMinute.objects.count(), EventReport.objects.count()) == counts

    rehearsal = MediaEvent.objects.get(title=REHEARSAL_TITLE)
    now = timezone.now()
    assert rehearsal.status == MediaEvent.Status.ON_AIR
    assert rehearsal.air_start <= now < rehearsal.air_end
    assert rehearsal.assignee.email == "nadia@provider.example"
    assert rehearsal.stack.name == "Shop website"
    assert list(rehearsal.timeline.values_list("to_status", flat=True).exclude(to_status=""))[-1] == "on_air"
    assert collector.events_due_for_collection(now=now).filter(pk=rehearsal.pk).exists()

    past = MediaEvent.objects.get(title=PAST_TITLE)
    minutes = ObservedMinute.objects.filter(event=past)
    assert minutes.filter(missing=True).count() == 2
    report = EventReport.objects.get(event=past)
    assert report.is_published()
    assert report.figures["minutes_missing"] == 2
    assert 0.6 < report.figures["origin_peak"]["ratio"] < 0.95
    suggestion = CalibrationSuggestion.objects.get(event=past)
    assert suggestion.is_open()
    assert suggestion.parameter == "visit_rate"
    assert suggestion.observed < suggestion.assumed


@pytest.mark.django_db
def test_the_traffic_task_does_nothing_outside_the_simulated_account(settings, linked_on_air_event):
    # moto's endpoint is on loopback, but the portal was not told it is the simulated account.
    settings.AWS_SIMULATED_ACCOUNT = False
    assert simulate_demo_traffic_task() == {"skipped": "not the simulated AWS account"}
    with pytest.raises(simulation.NotSimulated):
        simulation.demo_traffic_put(event=linked_on_air_event, now=timezone.now())
    # The flag alone is not enough: the endpoint must be on loopback.
    with override_settings(AWS_SIMULATED_ACCOUNT=True, AWS_ENDPOINT_URL="https://monitoring.eu-west-3.amazonaws.com"):
        assert simulate_demo_traffic_task() == {"skipped": "not the simulated AWS account"}
        with pytest.raises(simulation.NotSimulated):
            simulation.demo_traffic_tick(now=timezone.now())
        assert collector.latency_stat() == "p95"


@pytest.mark.django_db
def test_the_traffic_task_puts_minutes_that_the_collector_reads_as_observed(settings, linked_on_air_event):
    settings.AWS_SIMULATED_ACCOUNT = True  # the endpoint is moto's, on loopback
    event = linked_on_air_event
    now = collector.floor_minute(timezone.now()) + timedelta(seconds=20)
    assert collector.latency_stat() == "Maximum"

    assert simulate_demo_traffic_task()["events"] == 1
    assert simulation.demo_traffic_put(event=event, now=now) == 0  # every minute already has its point
    simulation.collect_since(event=event, start=event.air_start - timedelta(minutes=simulation.LEAD_MINUTES), now=now)

    rows = list(ObservedMinute.objects.filter(event=event, missing=False).order_by("minute"))
    expected = simulation.minutes_to_simulate(event, now=now)
    assert [row.minute for row in rows] == expected
    from events.forecasting import forecast_for_event

    likely = {point.minute: point.origin_rps.likely for point in forecast_for_event(event).points}
    for row in rows:
        offset = int((row.minute - collector.floor_minute(event.air_start)).total_seconds() // 60)
        assert row.requests == pytest.approx(likely[offset] * 60, rel=0.11)
        assert row.p95_ms is not None
        assert row.p95_ms > 0
        assert row.errors_5xx < row.requests * 0.01

    # Putting and collecting again changes nothing: CloudWatch sums points, so a minute is never put twice.
    before = [(row.minute, row.requests) for row in rows]
    simulate_demo_traffic_task()
    collector.event_metrics_collect(event=event, now=now)
    after = list(
        ObservedMinute.objects.filter(event=event, missing=False).order_by("minute").values_list("minute", "requests")
    )
    assert after == before
