"""The live room's collector against the simulated account (moto's CloudWatch on loopback).

moto's GetMetricData computes Sum, Average, Minimum, Maximum and SampleCount but not percentiles: asked for "p95"
its server fails (a 500). These tests read the latency through "Maximum" (``collector.LATENCY_STAT``); the real
call asks for "p95", which ``test_the_real_call_asks_for_p95`` checks on the request itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cloud.adapters import cloudwatch
from cloud.client import provider_client
from cloud.exceptions import AccessDenied
from cloud.models import StackResource
from live import collector
from live.models import ObservedMinute
from live.tasks import collect_live_metrics_task
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import REGION

aws = cloud_fixtures.aws


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback for this module."""
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


@pytest.fixture(autouse=True)
def _moto_latency(monkeypatch):
    monkeypatch.setattr(collector, "LATENCY_STAT", "Maximum")


def _suffix(event) -> str:
    resource = StackResource.objects.get(stack=event.stack, kind=StackResource.Kind.LOAD_BALANCER)
    return resource.details["arn_suffix"]


def _put(suffix: str, minute: datetime, *, requests: float, errors: float | None = None, latency: float = 0.2):
    dimensions = [{"Name": "LoadBalancer", "Value": suffix}]
    data = [
        {"MetricName": "RequestCount", "Dimensions": dimensions, "Timestamp": minute + timedelta(seconds=5),
         "Value": requests, "Unit": "Count"},
        {"MetricName": "TargetResponseTime", "Dimensions": dimensions, "Timestamp": minute + timedelta(seconds=5),
         "Value": latency, "Unit": "Seconds"},
    ]  # fmt: skip
    if errors is not None:
        data.append(
            {"MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": dimensions,
             "Timestamp": minute + timedelta(seconds=5), "Value": errors, "Unit": "Count"}
        )  # fmt: skip
    provider_client("cloudwatch", REGION).put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def _now() -> datetime:
    return collector.floor_minute(datetime.now(UTC)) + timedelta(seconds=20)


def test_observed_points_appear_with_missing_5xx_as_zero(linked_on_air_event):
    event = linked_on_air_event
    now = _now()
    suffix = _suffix(event)
    minute = collector.floor_minute(now) - timedelta(minutes=4)
    _put(suffix, minute, requests=6000, errors=12, latency=0.25)
    _put(suffix, minute + timedelta(minutes=1), requests=9000, latency=0.4)

    result = collector.event_metrics_collect(event=event, now=now)

    rows = {row.minute: row for row in ObservedMinute.objects.filter(event=event)}
    assert rows[minute].requests == 6000
    assert rows[minute].errors_5xx == 12
    assert rows[minute].p95_ms == pytest.approx(250)
    assert rows[minute].requests_per_second == 100
    assert rows[minute + timedelta(minutes=1)].errors_5xx == 0  # an ALB publishes no 5xx point without errors
    assert not any(row.missing for row in rows.values())
    # The last two minutes had no point yet: CloudWatch may still publish them, so nothing is stored.
    assert collector.floor_minute(now) - timedelta(minutes=1) not in rows
    # The minute before, settled and without a point, had no requests at all.
    assert rows[minute - timedelta(minutes=1)].requests == 0
    assert result.errors == []


def test_collecting_again_updates_the_minutes_without_duplicates(linked_on_air_event):
    event = linked_on_air_event
    now = _now()
    suffix = _suffix(event)
    minute = collector.floor_minute(now) - timedelta(minutes=2)
    _put(suffix, minute, requests=600)
    collector.event_metrics_collect(event=event, now=now)
    assert ObservedMinute.objects.get(event=event, minute=minute).requests == 600

    # A late point of the same minute arrives; the next run adds it up.
    _put(suffix, minute, requests=300)
    collector.event_metrics_collect(event=event, now=now)
    collector.event_metrics_collect(event=event, now=now)
    assert ObservedMinute.objects.filter(event=event, minute=minute).count() == 1
    assert ObservedMinute.objects.get(event=event, minute=minute).requests == 900


def test_a_cloudwatch_failure_is_missing_data_not_zero_traffic(linked_on_air_event, monkeypatch):
    event = linked_on_air_event
    now = _now()
    known = collector.floor_minute(now) - timedelta(minutes=3)
    _put(_suffix(event), known, requests=1200)
    collector.event_metrics_collect(event=event, now=now)

    def refuse(*args, **kwargs):
        raise AccessDenied("The role may not call cloudwatch GetMetricData.", code="AccessDenied")

    monkeypatch.setattr(cloudwatch, "load_balancer_minutes", refuse)
    later = now + timedelta(minutes=2)
    result = collector.event_metrics_collect(event=event, now=later)

    assert result.errors == ["The role may not call cloudwatch GetMetricData."]
    rows = {row.minute: row for row in ObservedMinute.objects.filter(event=event)}
    # Known minutes keep their figures; the four not yet known are missing.
    assert rows[known].requests == 1200
    assert not rows[known].missing
    missing = [row for row in rows.values() if row.missing]
    assert result.missing == len(missing) == 4
    assert [row.minute for row in missing] == [known + timedelta(minutes=step) for step in range(1, 5)]
    assert all(row.requests is None and row.errors_5xx is None and row.p95_ms is None for row in missing)

    # CloudWatch answers again: the missing minutes get their figures.
    monkeypatch.undo()
    monkeypatch.setattr(collector, "LATENCY_STAT", "Maximum")
    gap = missing[0].minute
    _put(_suffix(event), gap, requests=60)
    collector.event_metrics_collect(event=event, now=later)
    row = ObservedMinute.objects.get(event=event, minute=gap)
    assert not row.missing
    assert row.requests == 60


def test_an_unlinked_account_gives_missing_minutes(on_air_event, stack):
    StackResource.objects.create(
        stack=stack, kind=StackResource.Kind.LOAD_BALANCER, identifier="arn:aws:elasticloadbalancing:eu-west-3:"
        "123456789012:loadbalancer/app/shop/abc", name="shop", region=REGION, details={"arn_suffix": "app/shop/abc"},
    )  # fmt: skip
    result = collector.event_metrics_collect(event=on_air_event, now=_now())
    assert result.missing == collector.LOOKBACK_MINUTES
    assert ObservedMinute.objects.filter(event=on_air_event, missing=True).count() == collector.LOOKBACK_MINUTES


def test_the_beat_task_collects_only_open_rooms(linked_on_air_event, event_factory):
    far = event_factory(days_ahead=3)
    suffix = _suffix(linked_on_air_event)
    now = _now()
    _put(suffix, collector.floor_minute(now) - timedelta(minutes=3), requests=120)
    with time_machine.travel(now, tick=False):
        assert collect_live_metrics_task.delay().get() == 1
    assert ObservedMinute.objects.filter(event=linked_on_air_event, requests=120).exists()
    assert not ObservedMinute.objects.filter(event=far).exists()


def test_rooms_open_an_hour_before_air_and_close_after_the_tail(on_air_event, settings):
    now = on_air_event.air_start - timedelta(minutes=61)
    assert not collector.events_due_for_collection(now=now).exists()
    assert collector.events_due_for_collection(now=now + timedelta(minutes=2)).exists()
    after_tail = on_air_event.air_end + settings.EVENT_TAIL + timedelta(minutes=1)
    assert not collector.events_due_for_collection(now=after_tail).exists()


def test_the_real_call_asks_for_p95_of_every_balancer_in_one_batch(monkeypatch):
    captured = {}

    class Client:
        def get_metric_data(self, **params):
            captured.update(params)
            return {"MetricDataResults": []}

    monkeypatch.setattr(cloudwatch, "aws_client", lambda *args, **kwargs: Client())
    start = datetime(2026, 6, 5, 21, 0, tzinfo=UTC)
    link = cloudwatch.RoleLink(role_arn="arn:aws:iam::123456789012:role/x", external_id="x")
    cloudwatch.load_balancer_minutes(
        link, REGION, ["app/a/1", "app/b/2"], start=start, end=start + timedelta(minutes=5)
    )
    queries = captured["MetricDataQueries"]
    assert len(queries) == 6
    assert {query["MetricStat"]["Stat"] for query in queries} == {"Sum", "p95"}
    assert {query["MetricStat"]["Period"] for query in queries} == {60}
