"""Read a client's account: every resource of every kind in a region, or one resource again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cloud.adapters import ADAPTERS
from cloud.client import RoleLink
from cloud.exceptions import PermanentCloudError, RoleNotAssumable
from cloud.resources import Resource, ResourceKind

GLOBAL_KINDS = frozenset({ResourceKind.cloudfront_distribution})


@dataclass(frozen=True)
class DiscoveryError:
    """Say which kind could not be read, and why, in words a person can act on."""

    kind: ResourceKind
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """Return the error as plain JSON."""
        return {"kind": str(self.kind), "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Discovery:
    """Hold what one discovery found, and the kinds it could not read."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[DiscoveryError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the discovery as plain JSON."""
        return {
            "resources": [resource.to_json() for resource in self.resources],
            "errors": [error.to_json() for error in self.errors],
        }


def discover(
    link: RoleLink, region: str, *, kinds: Iterable[ResourceKind] | None = None, include_global: bool = True
) -> Discovery:
    """Return every resource of the given kinds (all by default) in the region, and the kinds that failed.

    A kind the role may not read (AccessDenied) or that fails for good is
    reported in ``errors`` and the others are still returned. A role that
    cannot be assumed, or a transient error, raises: the first fails every
    kind alike, the second is worth retrying whole. ``include_global=False``
    leaves out CloudFront when discovering a second region.
    """
    resources: list[Resource] = []
    errors: list[DiscoveryError] = []
    for kind in kinds or list(ResourceKind):
        if kind in GLOBAL_KINDS and not include_global:
            continue
        try:
            resources.extend(ADAPTERS[kind].list(link, region))
        except RoleNotAssumable:
            raise
        except PermanentCloudError as error:
            errors.append(DiscoveryError(kind=kind, code=error.code, message=error.message))
    return Discovery(resources=resources, errors=errors)


def refresh(link: RoleLink, resource: Resource) -> Resource:
    """Read one resource again (its capacity, details and tags now); raise NotFound when it is gone."""
    return ADAPTERS[resource.kind].describe(link, resource.region, resource.identifier)
