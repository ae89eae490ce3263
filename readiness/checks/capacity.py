"""Capacity against the forecast: what the compute can serve versus the origin peak."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from cloud.models import StackResource
from readiness.models import Severity
from readiness.registry import Finding, register

COMPUTE_KINDS = (StackResource.Kind.AUTOSCALING_GROUP, StackResource.Kind.ECS_SERVICE)


def _compute_targets(context) -> list[str]:
    return [resource.identifier for resource in context.resources_of(*COMPUTE_KINDS)] or [""]


@register(
    id="capacity.compute_vs_forecast",
    title=_("Compute capacity covers the forecast origin peak"),
    category="capacity",
    severity=Severity.CRITICAL,
    queue="aws",
    timeout=10,
    targets=_compute_targets,
)
def compute_vs_forecast(context, target: str) -> Finding:
    peak = context.forecast.peak_origin_rps.value
    if not target:
        return Finding.warn(
            _("No Auto Scaling group or ECS service is attached to the stack, so capacity cannot be compared."),
            _("Attach the stack's compute from its AWS resources page, with what one instance serves."),
            likely_peak_rps=round(peak.likely),
        )
    resource = next(resource for resource in context.resources if resource.identifier == target)
    units = resource.capacity.get("desired") or 0
    most = resource.capacity.get("max") or units
    evidence = {
        "resource": resource.name,
        "desired": units,
        "max": most,
        "unit_rps": resource.unit_rps,
        "likely_peak_rps": round(peak.likely),
        "high_peak_rps": round(peak.high),
    }
    if not resource.unit_rps:
        return Finding.warn(
            _("%(name)s has no stated throughput per instance, so its capacity is unknown.") % {"name": resource.name},
            _("State what one instance or task serves (requests/s), e.g. from a load test, on the resources page."),
            **evidence,
        )
    needed_likely = math.ceil(peak.likely / resource.unit_rps)
    needed_high = math.ceil(peak.high / resource.unit_rps)
    evidence.update(needed_for_likely=needed_likely, needed_for_high=needed_high)
    if units >= needed_high:
        return Finding.passed(
            _("%(units)d units serve %(capacity)s req/s, above the high peak of %(high)s req/s.")
            % {"units": units, "capacity": units * resource.unit_rps, "high": round(peak.high)},
            **evidence,
        )
    if most < needed_likely:
        return Finding.failed(
            _("At its maximum of %(most)d, %(name)s serves %(capacity)s req/s, below the likely peak of %(likely)s.")
            % {"most": most, "name": resource.name, "capacity": most * resource.unit_rps, "likely": round(peak.likely)},
            _("Raise the maximum size to at least %(needed)d (the high band needs %(high)d) and check the vCPU quota.")
            % {"needed": needed_likely, "high": needed_high},
            **evidence,
        )
    return Finding.warn(
        _("%(units)d units now; %(needed)d are needed for the high peak.") % {"units": units, "needed": needed_high},
        _("Pre-scale to %(needed)d before air: raise the minimum and desired capacity, not only desired.")
        % {"needed": needed_high},
        **evidence,
    )
