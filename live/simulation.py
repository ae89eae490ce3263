"""Demo traffic for the simulated AWS account: the load balancers of events on air publish their minutes to moto.

Only ever against the local simulator (``cloud.verification.simulated_account``: ``AWS_SIMULATED_ACCOUNT`` on and
a loopback ``AWS_ENDPOINT_URL``); :func:`demo_traffic_put` refuses anything else. For each event whose live room is
open, every whole minute from ``LEAD_MINUTES`` before air start to the last whole minute (at most
``BACKFILL_LIMIT`` back, never after the tail) that CloudWatch holds no RequestCount for gets, per load balancer:

- ``RequestCount``: the event's forecast likely origin curve (``events.forecasting``), ±10 % noise;
- ``HTTPCode_ELB_5XX_Count``: about 0.2 % of the requests, nothing when that rounds to zero (as an ALB does);
- ``TargetResponseTime`` as a statistic set (SampleCount, Sum, Minimum, Maximum): its Average rises with the load,
  and its Maximum stands for the p95 the collector reads on AWS (moto computes no percentiles, see
  ``live.collector.latency_stat``).

A minute that already has a point is never put again (CloudWatch sums them), so the beat task and the seed's
backfill can both run, any number of times, and a restarted simulator is filled again. The noise is seeded by the
event and the minute, so the same minute always gets the same figures.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from cloud.client import aws_client
from cloud.exceptions import CloudError
from cloud.models import CloudAccount, StackResource
from cloud.verification import simulated_account
from events.forecasting import forecast_for_event
from events.models import MediaEvent
from live import collector

logger = logging.getLogger(__name__)

NAMESPACE = "AWS/ApplicationELB"
LEAD_MINUTES = 10  # the normal traffic drawn before air start
BACKFILL_LIMIT = timedelta(minutes=90)
NOISE = 0.10
ERROR_RATE = 0.002
BASE_LATENCY_S = 0.12
PUT_BATCH = 500  # PutMetricData takes at most 1000 items per call


class NotSimulated(RuntimeError):
    """Raised when asked to fake traffic while the portal does not talk to the local simulator."""


def _require_simulator() -> None:
    if not simulated_account():
        raise NotSimulated("Demo traffic is only ever put into the simulated AWS account (loopback endpoint).")


def _balancers(event: MediaEvent) -> dict[str, list[str]]:
    by_region: dict[str, list[str]] = defaultdict(list)
    resources = StackResource.objects.filter(stack=event.stack_id, kind=StackResource.Kind.LOAD_BALANCER)
    for resource in resources.order_by("pk"):
        suffix = (resource.details or {}).get("arn_suffix") or resource.identifier.split(":loadbalancer/", 1)[-1]
        by_region[resource.region].append(suffix)
    return dict(by_region)


def minutes_to_simulate(event: MediaEvent, *, now: datetime) -> list[datetime]:
    """Return the whole minutes the demo traffic covers for the event at ``now`` (oldest first)."""
    first = max(
        collector.floor_minute(event.air_start) - timedelta(minutes=LEAD_MINUTES),
        collector.floor_minute(now - BACKFILL_LIMIT),
    )
    last = min(collector.floor_minute(now) - timedelta(minutes=1), collector.floor_minute(event.tail_end))
    minutes = []
    minute = first
    while minute <= last:
        minutes.append(minute)
        minute += timedelta(minutes=1)
    return minutes


def minute_figures(event: MediaEvent, minute: datetime, likely_rps: dict[int, float], baseline: float) -> dict:
    """Return one minute's simulated figures for the whole stack: requests, 5xx, average and 'p95' latency (s)."""
    offset = int((minute - collector.floor_minute(event.air_start)).total_seconds() // 60)
    rps = likely_rps.get(offset, baseline)
    noise = random.Random(f"{event.pk}:{minute.isoformat()}")  # noqa: S311 - demo figures, not security
    requests = max(0, round(rps * 60 * noise.uniform(1 - NOISE, 1 + NOISE)))
    errors = round(requests * ERROR_RATE * noise.uniform(0.5, 1.5))
    load = rps / max(baseline, 1.0)
    average = BASE_LATENCY_S * (1 + 0.08 * min(load, 20)) * noise.uniform(0.9, 1.1)
    return {"requests": requests, "errors": errors, "average_s": average, "p95_s": average * 2.4}


def _minutes_with_points(client, suffixes: list[str], start: datetime, end: datetime) -> set[tuple[str, datetime]]:
    queries = [
        {
            "Id": f"r{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": "RequestCount",
                    "Dimensions": [{"Name": "LoadBalancer", "Value": suffix}],
                },
                "Period": 60,
                "Stat": "SampleCount",
            },
        }
        for index, suffix in enumerate(suffixes)
    ]
    found: set[tuple[str, datetime]] = set()
    params = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    while True:
        answer = client.get_metric_data(**params)
        for result in answer.get("MetricDataResults", []):
            suffix = suffixes[int(result["Id"][1:])]
            for timestamp in result.get("Timestamps", []):
                found.add((suffix, collector.floor_minute(timestamp.astimezone(UTC))))
        if not answer.get("NextToken"):
            return found
        params["NextToken"] = answer["NextToken"]


def _items(suffix: str, minute: datetime, figures: dict, share: int) -> list[dict]:
    dimensions = [{"Name": "LoadBalancer", "Value": suffix}]
    at = minute + timedelta(seconds=30)
    requests = figures["requests"] // share
    errors = figures["errors"] // share
    items = [
        {"MetricName": "RequestCount", "Dimensions": dimensions, "Timestamp": at, "Value": requests, "Unit": "Count"}
    ]
    if errors:
        items.append(
            {"MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": dimensions, "Timestamp": at, "Value": errors,
             "Unit": "Count"}
        )  # fmt: skip
    if requests:
        items.append(
            {
                "MetricName": "TargetResponseTime",
                "Dimensions": dimensions,
                "Timestamp": at,
                "StatisticValues": {
                    "SampleCount": requests,
                    "Sum": figures["average_s"] * requests,
                    "Minimum": BASE_LATENCY_S / 3,
                    "Maximum": figures["p95_s"],
                },
                "Unit": "Seconds",
            }
        )
    return items


def demo_traffic_put(*, event: MediaEvent, now: datetime) -> int:
    """Put the event's missing minutes of demo traffic into the simulated account; return how many minutes."""
    _require_simulator()
    minutes = minutes_to_simulate(event, now=now)
    balancers = _balancers(event)
    if not minutes or not balancers:
        return 0
    account = CloudAccount.objects.filter(organization=event.organization_id).first()
    if account is None or not account.is_usable():
        return 0
    forecast = forecast_for_event(event)
    likely = {point.minute: point.origin_rps.likely for point in forecast.points}
    count = 0
    for region, suffixes in sorted(balancers.items()):
        client = aws_client(account.role_link(), "cloudwatch", region)
        known = _minutes_with_points(client, suffixes, minutes[0], minutes[-1] + timedelta(minutes=1))
        items: list[dict] = []
        put: set[datetime] = set()
        for minute in minutes:
            figures = minute_figures(event, minute, likely, forecast.baseline_rps)
            for suffix in suffixes:
                if (suffix, minute) not in known:
                    items += _items(suffix, minute, figures, share=len(suffixes))
                    put.add(minute)
        for start in range(0, len(items), PUT_BATCH):
            client.put_metric_data(Namespace=NAMESPACE, MetricData=items[start : start + PUT_BATCH])
        count = max(count, len(put))
    return count


def demo_traffic_tick(*, now: datetime) -> dict[str, int]:
    """Put the missing minutes of every open live room; a failing event is logged and the others go on."""
    _require_simulator()
    counts = {"events": 0, "minutes": 0, "failed": 0}
    for event in collector.events_due_for_collection(now=now).select_related("organization", "stack"):
        try:
            minutes = demo_traffic_put(event=event, now=now)
        except CloudError as error:
            logger.warning("Demo traffic for event %s failed: %s", event.pk, error)
            counts["failed"] += 1
            continue
        counts["events"] += 1
        counts["minutes"] += minutes
    return counts


def collect_since(*, event: MediaEvent, start: datetime, now: datetime) -> int:
    """Run the live collector over every minute from ``start`` to ``now`` (it reads a few minutes per run)."""
    observed = 0
    moment = collector.floor_minute(start) + timedelta(minutes=collector.LOOKBACK_MINUTES, seconds=20)
    while moment < now:
        observed += collector.event_metrics_collect(event=event, now=moment).observed
        moment += timedelta(minutes=collector.LOOKBACK_MINUTES)
    observed += collector.event_metrics_collect(event=event, now=now).observed
    return observed
