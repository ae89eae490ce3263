"""AWS readiness checks: each reads the client's account live (through cloud/, the one AWS package)
and says what to change before air."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cloud.instance_types import size_vcpus
from cloud.models import StackResource
from cloud.resources import Resource, ResourceKind
from readiness.models import Severity
from readiness.registry import Finding, register

Kind = StackResource.Kind
# CloudFront's default request-rate quota per distribution (requests per second).
CLOUDFRONT_RPS_QUOTA = 250_000


def vcpus_of(instance_type: str | None) -> int:
    # An unknown size counts as the smallest (2 vCPUs): the check then errs towards "enough".
    return size_vcpus(instance_type) or 2


def _linked(context) -> bool:
    return context.account is not None and context.account.is_usable()


def _targets(*kinds: str):
    def targets(context) -> list[str]:
        if not _linked(context):
            return []
        return [resource.identifier for resource in context.resources_of(*kinds)]

    return targets


def _stack_wide(context) -> list[str]:
    return [""] if _linked(context) else []


def _live(context, identifier: str) -> tuple[StackResource, Resource]:
    """Return the attached row and the resource as AWS describes it now."""
    from cloud.inventory import refresh

    row = next(resource for resource in context.resources if resource.identifier == identifier)
    current = Resource(kind=ResourceKind(row.kind), identifier=row.identifier, name=row.name, region=row.region)
    return row, refresh(context.account.role_link(), current)


def _needed_units(context, row: StackResource) -> int | None:
    if not row.unit_rps:
        return None
    return math.ceil(context.forecast.peak_origin_rps.value.high / row.unit_rps)


@register(
    id="aws.account_linked",
    title=gettext_lazy("The AWS account is linked and verified"),
    category="aws",
    severity=Severity.CRITICAL,
    queue="aws",
    timeout=10,
)
def account_linked(context, target: str) -> Finding:
    account = context.account
    if account is not None and account.is_usable():
        return Finding.passed(
            _("The portal assumes the role in account %(id)s with the external id.") % {"id": account.aws_account_id},
            account=account.aws_account_id,
            role_arn=account.role_arn,
        )
    status = account.get_status_display() if account else _("Not linked")
    return Finding.failed(
        _("The AWS account is not usable (%(status)s): the AWS checks cannot run and nothing can be pre-scaled.")
        % {"status": status},
        _("Create the role from the AWS page's CloudFormation template and paste its ARN there."),
        status=status,
    )


def _landing_hosts(context) -> list[str]:
    if not _linked(context):
        return []
    return sorted({urlsplit(url).hostname or "" for url in context.landing_urls} - {""})


def _answers_for(names: list[str | None], host: str) -> bool:
    """Tell whether a distribution with these names serves the host: by name, or by a wildcard alias
    (*.example.com covers www.example.com, one label, as its certificate does)."""
    return host in names or ("." in host and "*." + host.partition(".")[2] in names)


@register(
    id="aws.cloudfront_serves_landing",
    title=gettext_lazy("CloudFront serves the landing host"),
    category="aws",
    severity=Severity.CRITICAL,
    queue="aws",
    timeout=30,
    targets=_landing_hosts,
)
def cloudfront_serves_landing(context, target: str) -> Finding:
    from cloud.adapters.cloudfront import list_cloudfront_distributions

    distributions = list_cloudfront_distributions(context.account.role_link())
    for distribution in distributions:
        names = [*distribution.details.get("aliases", []), distribution.details.get("domain_name")]
        if _answers_for(names, target):
            return Finding.passed(
                _("Distribution %(id)s answers for %(host)s.") % {"id": distribution.name, "host": target},
                distribution=distribution.name,
                aliases=distribution.details.get("aliases", []),
                enabled=distribution.capacity.get("enabled"),
            )
    return Finding.failed(
        _("No CloudFront distribution in the account answers for %(host)s: every viewer would reach the origin.")
        % {"host": target},
        _("Put %(host)s behind a CloudFront distribution (alias and certificate) before the load balancer.")
        % {"host": target},
        distributions_seen=[distribution.name for distribution in distributions],
    )


@register(
    id="aws.asg_health_check",
    title=gettext_lazy("Auto Scaling group replaces instances the load balancer finds unhealthy"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=30,
    targets=_targets(Kind.AUTOSCALING_GROUP),
)
def asg_health_check(context, target: str) -> Finding:
    row, live = _live(context, target)
    kind = live.details.get("health_check_type")
    if kind == "ELB":
        return Finding.passed(_("%(name)s uses ELB health checks.") % {"name": row.name}, health_check_type=kind)
    return Finding.warn(
        _("%(name)s uses %(kind)s health checks: an instance that stops answering stays in service.")
        % {"name": row.name, "kind": kind or "EC2"},
        _("Set the group's health check type to ELB, with a grace period that covers the boot time."),
        health_check_type=kind,
    )


@register(
    id="aws.asg_zones",
    title=gettext_lazy("Auto Scaling group spans at least two availability zones"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=30,
    targets=_targets(Kind.AUTOSCALING_GROUP),
)
def asg_zones(context, target: str) -> Finding:
    row, live = _live(context, target)
    zones = live.details.get("availability_zones", [])
    if len(zones) >= 2:
        return Finding.passed(
            _("%(name)s runs in %(count)d zones.") % {"name": row.name, "count": len(zones)}, zones=zones
        )
    return Finding.warn(
        _("%(name)s runs in one zone: losing it loses the site on the night.") % {"name": row.name},
        _("Add subnets in a second availability zone to the group."),
        zones=zones,
    )


@register(
    id="aws.asg_max_size",
    title=gettext_lazy("Auto Scaling group's maximum size can reach the planned capacity"),
    category="aws",
    severity=Severity.CRITICAL,
    queue="aws",
    timeout=30,
    targets=_targets(Kind.AUTOSCALING_GROUP),
)
def asg_max_size(context, target: str) -> Finding:
    row, live = _live(context, target)
    maximum = live.capacity.get("max") or 0
    needed = _needed_units(context, row)
    evidence = {"max": maximum, "desired": live.capacity.get("desired"), "needed_for_high": needed}
    if needed is None:
        return Finding.warn(
            _("The throughput of one %(name)s instance is not stated, so the size needed is unknown.")
            % {"name": row.name},
            _("State the requests/s one instance serves on the stack's resources page."),
            **evidence,
        )
    if maximum >= needed:
        return Finding.passed(
            _("Maximum %(max)d covers the %(needed)d instances the high band needs.")
            % {"max": maximum, "needed": needed},
            **evidence,
        )
    return Finding.failed(
        _("Maximum %(max)d is below the %(needed)d instances the high band needs.")
        % {"max": maximum, "needed": needed},
        _("Raise the group's maximum size to at least %(needed)d before the scaling plan is applied.")
        % {"needed": needed},
        **evidence,
    )


@register(
    id="aws.load_balancer",
    title=gettext_lazy("Load balancer is cross-zone and has its capacity reserved"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=30,
    targets=_targets(Kind.LOAD_BALANCER),
)
def load_balancer(context, target: str) -> Finding:
    row, live = _live(context, target)
    cross_zone = live.capacity.get("cross_zone")
    reserved = live.capacity.get("capacity_reservation_lcu")
    evidence = {"type": live.capacity.get("type"), "cross_zone": cross_zone, "reserved_lcu": reserved}
    if cross_zone is False:
        return Finding.failed(
            _("%(name)s is not cross-zone: one zone's targets take that zone's whole share.") % {"name": row.name},
            _("Turn on cross-zone load balancing for the load balancer."),
            **evidence,
        )
    if not reserved:
        return Finding.warn(
            _("%(name)s has no capacity reservation: it scales up only as traffic arrives, minutes behind a TV spike.")
            % {"name": row.name},
            _("Reserve LCUs ahead of air (it can take hours): the scaling plan schedules it; otherwise say why not."),
            **evidence,
        )
    return Finding.passed(
        _("%(name)s is cross-zone with %(lcu)s LCU reserved.") % {"name": row.name, "lcu": reserved}, **evidence
    )


@register(
    id="aws.rds_multi_az",
    title=gettext_lazy("Database is Multi-AZ"),
    category="aws",
    severity=Severity.CRITICAL,
    queue="aws",
    timeout=30,
    targets=_targets(Kind.RDS_INSTANCE),
)
def rds_multi_az(context, target: str) -> Finding:
    row, live = _live(context, target)
    if live.capacity.get("multi_az"):
        return Finding.passed(_("%(name)s has a standby in another zone.") % {"name": row.name}, multi_az=True)
    return Finding.failed(
        _("%(name)s has no standby: a failure on the night means minutes of downtime.") % {"name": row.name},
        _("Turn on Multi-AZ (it causes no downtime on RDS, but do it days before air)."),
        multi_az=False,
        instance_class=live.capacity.get("instance_class"),
    )


@register(
    id="aws.rds_headroom",
    title=gettext_lazy("Database class and connections leave headroom"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=30,
    targets=_targets(Kind.RDS_INSTANCE),
)
def rds_headroom(context, target: str) -> Finding:
    row, live = _live(context, target)
    instance_class = live.capacity.get("instance_class") or ""
    max_connections = live.capacity.get("max_connections")
    evidence = {"instance_class": instance_class, "max_connections": max_connections}
    if instance_class.startswith("db.t"):
        return Finding.warn(
            _("%(name)s is a burstable %(class)s: its CPU credits run out under a sustained spike.")
            % {"name": row.name, "class": instance_class},
            _("Move to a fixed-performance class (db.m or db.r) before air; it restarts the instance: plan a window."),
            **evidence,
        )
    if max_connections is not None and max_connections < 500:
        return Finding.warn(
            _("%(name)s accepts %(max)d connections: a scaled-out fleet can exhaust them.")
            % {"name": row.name, "max": max_connections},
            _("Use a connection pool (RDS Proxy) or a larger class."),
            **evidence,
        )
    return Finding.passed(_("%(name)s is a %(class)s.") % {"name": row.name, "class": instance_class}, **evidence)


@register(
    id="aws.cache_replicas",
    title=gettext_lazy("A cache with replicas sits in front of the database"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=30,
    targets=_stack_wide,
)
def cache_replicas(context, target: str) -> Finding:
    groups = context.resources_of(Kind.ELASTICACHE)
    if not groups:
        return Finding.failed(
            _("No ElastiCache replication group is attached to the stack: every page view reaches the database."),
            _("Cache sessions and hot queries in ElastiCache (Redis or Valkey) with at least one replica."),
        )
    details = []
    for row in groups:
        _row, live = _live(context, row.identifier)
        details.append({"name": row.name, "replicas": live.capacity.get("replicas", 0)})
    if all(item["replicas"] >= 1 for item in details):
        return Finding.passed(_("Every cache has a replica."), caches=details)
    return Finding.warn(
        _("A cache has no replica: losing its node empties the cache at the worst moment."),
        _("Add at least one replica to each replication group, with automatic failover."),
        caches=details,
    )


ERROR_METRICS = {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "5xxErrorRate", "5XXError"}
LATENCY_METRICS = {"TargetResponseTime", "Latency", "OriginLatency"}


@register(
    id="aws.cloudwatch_alarms",
    title=gettext_lazy("CloudWatch alarms watch 5xx errors and latency"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=30,
    targets=_stack_wide,
)
def cloudwatch_alarms(context, target: str) -> Finding:
    from cloud.adapters.cloudwatch import alarms

    regions = sorted({row.region for row in context.resources if row.region != "us-east-1"}) or context.account.regions
    found = [alarm for region in regions for alarm in alarms(context.account.role_link(), region)]
    metrics = {alarm["metric"] for alarm in found}
    has_errors, has_latency = bool(metrics & ERROR_METRICS), bool(metrics & LATENCY_METRICS)
    evidence = {"alarms": sorted(alarm["name"] for alarm in found)[:20], "metrics": sorted(m for m in metrics if m)}
    if has_errors and has_latency:
        return Finding.passed(_("Alarms watch both 5xx errors and latency."), **evidence)
    missing = [name for name, present in (("5xx", has_errors), (_("latency"), has_latency)) if not present]
    return Finding.warn(
        _("No alarm watches %(what)s.") % {"what": _(" and ").join(missing)},
        _("Create CloudWatch alarms on HTTPCode_ELB_5XX_Count and TargetResponseTime (p95) of the load balancer."),
        **evidence,
    )


@register(
    id="aws.vcpu_quota",
    title=gettext_lazy("The EC2 on-demand vCPU quota covers the scale-up"),
    category="aws",
    severity=Severity.CRITICAL,
    queue="aws",
    timeout=30,
    targets=_stack_wide,
)
def vcpu_quota(context, target: str) -> Finding:
    from cloud.adapters.quotas import ec2_on_demand_vcpu_quota

    groups = context.resources_of(Kind.AUTOSCALING_GROUP)
    if not groups:
        return Finding.passed(_("No Auto Scaling group to scale, so no vCPU is needed."))
    needed, region = 0, groups[0].region
    for row in groups:
        units = _needed_units(context, row) or row.capacity.get("max") or 0
        types = row.capacity.get("instance_types") or [None]
        needed += units * max(vcpus_of(kind) for kind in types)
    quota = ec2_on_demand_vcpu_quota(context.account.role_link(), region)
    evidence = {"quota_vcpus": quota, "needed_vcpus": needed, "quota_code": "L-1216C47A", "region": region}
    if quota >= 1.2 * needed:
        return Finding.passed(
            _("%(quota)g vCPUs allowed, %(needed)d needed.") % {"quota": quota, "needed": needed}, **evidence
        )
    if quota >= needed:
        return Finding.warn(
            _("%(quota)g vCPUs allowed for %(needed)d needed: no margin.") % {"quota": quota, "needed": needed},
            _("Ask AWS Service Quotas for more on-demand standard vCPUs (L-1216C47A); it can take days."),
            **evidence,
        )
    return Finding.failed(
        _("The account may run %(quota)g on-demand vCPUs; the scale-up needs %(needed)d.")
        % {"quota": quota, "needed": needed},
        _("Request an increase of L-1216C47A to at least %(want)d vCPUs now; approval can take days.")
        % {"want": math.ceil(1.2 * needed)},
        **evidence,
    )


@register(
    id="aws.cloudfront_rate_quota",
    title=gettext_lazy("CloudFront's request-rate quota covers the edge peak"),
    category="aws",
    severity=Severity.MAJOR,
    queue="aws",
    timeout=10,
    targets=_stack_wide,
)
def cloudfront_rate_quota(context, target: str) -> Finding:
    high = context.forecast.peak_edge_rps.value.high
    evidence = {"edge_peak_high_rps": round(high), "quota_rps": CLOUDFRONT_RPS_QUOTA}
    if high <= 0.8 * CLOUDFRONT_RPS_QUOTA:
        return Finding.passed(
            _("The high edge peak (%(high)s req/s) is well within CloudFront's %(quota)s req/s per distribution.")
            % {"high": round(high), "quota": CLOUDFRONT_RPS_QUOTA},
            **evidence,
        )
    return Finding.warn(
        _("The high edge peak (%(high)s req/s) comes close to CloudFront's %(quota)s req/s per distribution.")
        % {"high": round(high), "quota": CLOUDFRONT_RPS_QUOTA},
        _("Ask AWS for a higher request-rate quota for the distribution, weeks ahead."),
        **evidence,
    )
