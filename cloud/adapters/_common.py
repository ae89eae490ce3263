"""Small helpers the adapters share: tags, ARNs, JSON-safe values, batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from cloud.client import RoleLink, aws_client

T = TypeVar("T")
ELBV2_TAGS_BATCH = 20  # DescribeTags takes at most 20 ARNs


def tags_from(items: Iterable[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """Return AWS's list of {"Key", "Value"} pairs as a plain dict."""
    return {str(item[key]): str(item.get(value, "")) for item in items or []}


def last_part(identifier: str, separator: str = "/") -> str:
    """Return the name at the end of an ARN (or the identifier itself when it is already a name)."""
    return identifier.rsplit(separator, 1)[-1] if identifier.startswith("arn:") else identifier


def iso(value: datetime | None) -> str | None:
    """Return a datetime as ISO 8601 text, so details stay plain JSON."""
    return value.isoformat() if value is not None else None


def batches(items: list[T], size: int) -> Iterator[list[T]]:
    """Yield consecutive slices of at most ``size`` items (for APIs that take a bounded list)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def elbv2_tags(link: RoleLink, region: str, arns: list[str]) -> dict[str, dict[str, str]]:
    """Return the tags of load balancers or target groups, by ARN (call inside translate_errors)."""
    client = aws_client(link, "elbv2", region)
    found: dict[str, dict[str, str]] = {}
    for batch in batches(arns, ELBV2_TAGS_BATCH):
        for item in client.describe_tags(ResourceArns=batch)["TagDescriptions"]:
            found[item["ResourceArn"]] = tags_from(item.get("Tags"))
    return found
