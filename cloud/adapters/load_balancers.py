"""Application and Network Load Balancers: type, scheme, zones, listeners, and the LCU capacity reservation.

Pre-warming a load balancer before air is now a capacity reservation
(``ModifyCapacityReservation``); reading it back is DescribeCapacityReservation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cloud.adapters._common import elbv2_tags, iso, last_part
from cloud.client import RoleLink, aws_client, translate_errors
from cloud.resources import Resource, ResourceKind

RESERVABLE_TYPES = {"application", "network"}
# The worst state across zones is the reservation's state.
STATE_ORDER = ["failed", "pending", "rebalancing", "provisioned"]


@dataclass(frozen=True)
class CapacityReservation:
    """Say how many LCUs are reserved for a load balancer, and where the reservation stands per zone."""

    minimum_lcu: int | None
    state: str | None
    zones: list[dict[str, Any]] = field(default_factory=list)
    decrease_requests_remaining: int | None = None
    last_modified: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the reservation as plain JSON."""
        return asdict(self)


@translate_errors("elbv2")
def load_balancer_capacity_reservation(link: RoleLink, region: str, arn: str) -> CapacityReservation:
    """Return the load balancer's LCU capacity reservation (minimum_lcu None when nothing is reserved)."""
    answer = aws_client(link, "elbv2", region).describe_capacity_reservation(LoadBalancerArn=arn)
    zones = [
        {
            "zone": item.get("AvailabilityZone"),
            "effective_lcu": item.get("EffectiveCapacityUnits"),
            "state": item.get("State", {}).get("Code"),
            "reason": item.get("State", {}).get("Reason"),
        }
        for item in answer.get("CapacityReservationState", [])
    ]
    states = {zone["state"] for zone in zones if zone["state"]}
    return CapacityReservation(
        minimum_lcu=answer.get("MinimumLoadBalancerCapacity", {}).get("CapacityUnits"),
        state=next((state for state in STATE_ORDER if state in states), next(iter(states), None)),
        zones=zones,
        decrease_requests_remaining=answer.get("DecreaseRequestsRemaining"),
        last_modified=iso(answer.get("LastModifiedTime")),
    )


def _listeners(link: RoleLink, region: str, arn: str) -> list[dict[str, Any]]:
    paginator = aws_client(link, "elbv2", region).get_paginator("describe_listeners")
    listeners = []
    for page in paginator.paginate(LoadBalancerArn=arn):
        for listener in page["Listeners"]:
            actions = []
            for action in listener.get("DefaultActions", []):
                groups = [item["TargetGroupArn"] for item in action.get("ForwardConfig", {}).get("TargetGroups", [])]
                if action.get("TargetGroupArn") and action["TargetGroupArn"] not in groups:
                    groups.insert(0, action["TargetGroupArn"])
                actions.append({"type": action["Type"], "target_group_arns": groups})
            listeners.append(
                {
                    "arn": listener["ListenerArn"],
                    "protocol": listener.get("Protocol"),
                    "port": listener.get("Port"),
                    "default_actions": actions,
                }
            )
    return listeners


def _resource(link: RoleLink, region: str, balancer: dict[str, Any], tags: dict[str, str]) -> Resource:
    arn = balancer["LoadBalancerArn"]
    client = aws_client(link, "elbv2", region)
    attributes = {
        item["Key"]: item["Value"]
        for item in client.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    }
    kind = balancer.get("Type", "application")
    # An ALB always balances across zones at the load balancer level (it can only
    # be turned off per target group); NLBs and GWLBs follow the attribute.
    cross_zone = kind == "application" or attributes.get("load_balancing.cross_zone.enabled") == "true"
    reservation = load_balancer_capacity_reservation(link, region, arn) if kind in RESERVABLE_TYPES else None
    listeners = _listeners(link, region, arn)
    return Resource(
        kind=ResourceKind.load_balancer,
        identifier=arn,
        name=balancer["LoadBalancerName"],
        region=region,
        capacity={
            "type": kind,
            "scheme": balancer.get("Scheme"),
            "cross_zone": cross_zone,
            "capacity_reservation_lcu": reservation.minimum_lcu if reservation else None,
        },
        details={
            "dns_name": balancer.get("DNSName"),
            "canonical_hosted_zone_id": balancer.get("CanonicalHostedZoneId"),
            "arn_suffix": arn.split(":loadbalancer/", 1)[-1],  # the CloudWatch dimension
            "state": balancer.get("State", {}).get("Code"),
            "vpc_id": balancer.get("VpcId"),
            "availability_zones": [
                {"zone": zone["ZoneName"], "subnet_id": zone.get("SubnetId")}
                for zone in balancer.get("AvailabilityZones", [])
            ],
            "security_groups": balancer.get("SecurityGroups", []),
            "ip_address_type": balancer.get("IpAddressType"),
            "listeners": listeners,
            "target_group_arns": sorted(
                {
                    group
                    for item in listeners
                    for action in item["default_actions"]
                    for group in action["target_group_arns"]
                }
            ),
            "idle_timeout_seconds": int(attributes["idle_timeout.timeout_seconds"])
            if attributes.get("idle_timeout.timeout_seconds", "").isdigit()
            else None,
            "deletion_protection": attributes.get("deletion_protection.enabled") == "true",
            "capacity_reservation": reservation.to_json() if reservation else None,
        },
        tags=tags,
    )


@translate_errors("elbv2")
def list_load_balancers(link: RoleLink, region: str) -> list[Resource]:
    """Return every Application, Network and Gateway Load Balancer in the region."""
    paginator = aws_client(link, "elbv2", region).get_paginator("describe_load_balancers")
    balancers = [balancer for page in paginator.paginate() for balancer in page["LoadBalancers"]]
    tags = elbv2_tags(link, region, [balancer["LoadBalancerArn"] for balancer in balancers])
    return [_resource(link, region, item, tags.get(item["LoadBalancerArn"], {})) for item in balancers]


@translate_errors("elbv2")
def describe_load_balancer(link: RoleLink, region: str, identifier: str) -> Resource:
    """Return one load balancer by ARN or name; raise NotFound when it is gone."""
    client = aws_client(link, "elbv2", region)
    if identifier.startswith("arn:"):
        balancer = client.describe_load_balancers(LoadBalancerArns=[identifier])["LoadBalancers"][0]
    else:
        balancer = client.describe_load_balancers(Names=[last_part(identifier)])["LoadBalancers"][0]
    arn = balancer["LoadBalancerArn"]
    return _resource(link, region, balancer, elbv2_tags(link, region, [arn]).get(arn, {}))
