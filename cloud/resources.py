"""What the adapters return: one resource of a client's stack, as plain JSON-ready data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ResourceKind(StrEnum):
    """Name the kinds of resource Primetime reads and scales (same values as cloud.models.StackResource.Kind)."""

    autoscaling_group = "autoscaling_group"
    ecs_service = "ecs_service"
    load_balancer = "load_balancer"
    target_group = "target_group"
    rds_instance = "rds_instance"
    rds_cluster = "rds_cluster"
    elasticache_replication_group = "elasticache_replication_group"
    cloudfront_distribution = "cloudfront_distribution"
    dynamodb_table = "dynamodb_table"


@dataclass(frozen=True)
class Resource:
    """Describe one resource: its identity, its capacity now, what checks need to know, and its tags.

    ``capacity`` and ``details`` hold plain JSON (numbers, strings, lists,
    dicts, None), so a Resource round-trips through a JSONField unchanged.
    """

    kind: ResourceKind
    identifier: str  # the ARN, or the name where AWS gives none
    name: str
    region: str
    capacity: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the resource as a dict of plain JSON values."""
        return {
            "kind": str(self.kind),
            "identifier": self.identifier,
            "name": self.name,
            "region": self.region,
            "capacity": self.capacity,
            "details": self.details,
            "tags": self.tags,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Resource:
        """Rebuild a resource from ``to_json``'s output; an unknown kind raises ValueError."""
        return cls(
            kind=ResourceKind(data["kind"]),
            identifier=data["identifier"],
            name=data["name"],
            region=data["region"],
            capacity=dict(data.get("capacity") or {}),
            details=dict(data.get("details") or {}),
            tags={str(key): str(value) for key, value in (data.get("tags") or {}).items()},
        )
