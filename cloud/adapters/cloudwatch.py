"""CloudWatch alarms, as plain dicts: what the client already watches, and what it is saying now."""

from __future__ import annotations

from typing import Any

from cloud.adapters._common import iso
from cloud.client import RoleLink, aws_client, translate_errors


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
