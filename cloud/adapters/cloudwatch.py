"""CloudWatch alarms, as plain dicts: what the client already watches, and what it is saying now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloud.adapters._common import iso
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.exceptions import TransientCloudError


def _alarm(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": item["AlarmName"],
        "arn": item.get("AlarmArn"),
        "description": item.get("AlarmDescription"),
        "state": item.get("StateValue"),
        "state_reason": item.get("StateReason"),
        "state_updated_at": iso(item.get("StateUpdatedTimestamp")),
        "namespace": item.get("Namespace"),
        "metric": item.get("MetricName"),
        "dimensions": {dimension["Name"]: dimension["Value"] for dimension in item.get("Dimensions", [])},
        "statistic": item.get("Statistic") or item.get("ExtendedStatistic"),
        "period": item.get("Period"),
        "evaluation_periods": item.get("EvaluationPeriods"),
        "threshold": item.get("Threshold"),
        "comparison": item.get("ComparisonOperator"),
        "actions_enabled": item.get("ActionsEnabled"),
        "alarm_actions": item.get("AlarmActions", []),
    }


@translate_errors("cloudwatch")
def alarms(link: RoleLink, region: str) -> list[dict[str, Any]]:
    """Return every metric alarm in the region as plain JSON."""
    paginator = aws_client(link, "cloudwatch", region).get_paginator("describe_alarms")
    return [_alarm(item) for page in paginator.paginate(AlarmTypes=["MetricAlarm"]) for item in page["MetricAlarms"]]


# --- Load balancer traffic, minute by minute (the live room) -------------------------------------------------------

ALB_NAMESPACE = "AWS/ApplicationELB"
MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit
LATENCY_STAT = "p95"


@dataclass(frozen=True)
class LoadBalancerMinute:
    """Give one load balancer's traffic in one minute; a figure is None when CloudWatch has no point for it."""

    arn_suffix: str
    minute: datetime
    requests: float | None
    errors_5xx: float | None
    latency_seconds: float | None


def _query(query_id: str, arn_suffix: str, metric: str, stat: str, period: int) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": ALB_NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": "LoadBalancer", "Value": arn_suffix}],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


@translate_errors("cloudwatch", "GetMetricData")
def load_balancer_minutes(
    link: RoleLink,
    region: str,
    arn_suffixes: list[str],
    *,
    start: datetime,
    end: datetime,
    period: int = 60,
    latency_stat: str = LATENCY_STAT,
) -> list[LoadBalancerMinute]:
    """Return RequestCount, HTTPCode_ELB_5XX_Count and TargetResponseTime of the load balancers, per period.

    One GetMetricData call (paginated) asks for every load balancer of the region at once. Only periods with at
    least one point are returned: an ALB publishes nothing in a minute without requests. A query CloudWatch could
    not complete raises, so the caller never mistakes an unanswered minute for a quiet one.
    """
    queries: list[dict[str, Any]] = []
    names: dict[str, tuple[str, str]] = {}
    for index, suffix in enumerate(arn_suffixes):
        for prefix, metric, stat in (
            ("r", "RequestCount", "Sum"),
            ("e", "HTTPCode_ELB_5XX_Count", "Sum"),
            ("l", "TargetResponseTime", latency_stat),
        ):
            query_id = f"{prefix}{index}"
            names[query_id] = (suffix, prefix)
            queries.append(_query(query_id, suffix, metric, stat, period))
    if len(queries) > MAX_QUERIES_PER_CALL:
        raise ValueError(f"at most {MAX_QUERIES_PER_CALL // 3} load balancers per call")
    if not queries:
        return []
    client = aws_client(link, "cloudwatch", region)
    params: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    found: dict[tuple[str, datetime], dict[str, float]] = {}
    while True:
        answer = client.get_metric_data(**params)
        for result in answer.get("MetricDataResults", []):
            if result.get("StatusCode") in {"InternalError", "Forbidden"}:
                raise TransientCloudError(
                    f"CloudWatch could not answer for {result.get('Label') or result['Id']} ({result['StatusCode']}).",
                    code=result["StatusCode"],
                )
            suffix, prefix = names[result["Id"]]
            for timestamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                minute = timestamp.astimezone(UTC).replace(second=0, microsecond=0)
                found.setdefault((suffix, minute), {})[prefix] = float(value)
        token = answer.get("NextToken")
        if not token:
            break
        params["NextToken"] = token
    return [
        LoadBalancerMinute(
            arn_suffix=suffix,
            minute=minute,
            requests=values.get("r"),
            errors_5xx=values.get("e"),
            latency_seconds=values.get("l"),
        )
        for (suffix, minute), values in sorted(found.items(), key=lambda item: (item[0][1], item[0][0]))
    ]
