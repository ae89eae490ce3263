"""Plan, approve, apply and cancel pre-scaling: every AWS change audited, every scale-up with its revert."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cloud.models import CloudAccount, StackResource
from events.forecasting import forecast_for_event
from events.models import MediaEvent
from portal.exceptions import Conflict
from scaling.models import PlanTarget, ScalingAction, ScalingPlan, ScalingPolicy
from scaling.targets import Caps, PlanInput, ResourceCapacity, plan_targets

Status = ScalingPlan.Status
# A request's bytes at the origin, to size the load balancer's bandwidth dimension.
ORIGIN_BYTES_PER_REQUEST = 60_000


def _require_engineer(user: User) -> None:
    if not user.is_engineer:
        raise PermissionDenied(_("Only provider engineers plan, approve and apply scaling."))


def _capacities(event: MediaEvent) -> list[ResourceCapacity]:
    capacities = []
    for row in StackResource.objects.filter(stack=event.stack_id).order_by("kind", "name"):
        current = dict(row.capacity)
        if row.kind == StackResource.Kind.LOAD_BALANCER:
            current = {"reserved_lcu": row.capacity.get("capacity_reservation_lcu") or 0}
        types = row.capacity.get("instance_types") or []
        capacities.append(
            ResourceCapacity(
                kind=row.kind,
                identifier=row.identifier,
                name=row.name,
                current=current,
                unit_rps=row.unit_rps,
                instance_type=types[0] if types else None,
            )
        )
    return capacities


def vcpu_quota_left(event: MediaEvent) -> dict | None:
    """Return the EC2 vCPU quota the stack's Auto Scaling groups may use, as read with the last inventory.

    That is the region's on-demand standard quota less the vCPUs running outside the stack's groups (they
    stay in use during the spike). None when the stack has no group; ``error`` says why when unknown.
    """
    groups = list(
        StackResource.objects.filter(stack=event.stack_id, kind=StackResource.Kind.AUTOSCALING_GROUP).values_list(
            "name", "region"
        )
    )
    if not groups:
        return None
    account = CloudAccount.objects.filter(organization=event.organization_id).first()
    quotas = account.quotas if account else {}
    names = {name for name, _region in groups}
    tightest = None
    for region in sorted({region for _name, region in groups}):
        read = quotas.get(region)
        if not read:
            return {"region": region, "error": _("Not read yet: discover the account's resources again.")}
        if "ec2_vcpus" not in read:
            return {"region": region, "error": read.get("error", ""), "read_at": read.get("read_at")}
        elsewhere = sum(vcpus for group, vcpus in (read.get("running_vcpus") or {}).items() if group not in names)
        left = {
            "region": region,
            "quota": read["ec2_vcpus"],
            "elsewhere": elsewhere,
            "available": max(0.0, read["ec2_vcpus"] - elsewhere),
            "read_at": read.get("read_at"),
        }
        if tightest is None or left["available"] < tightest["available"]:
            tightest = left
    return tightest


def _plan_input(event: MediaEvent, safety_factor: float, *, vcpu_quota: float | None = None) -> PlanInput:
    forecast = forecast_for_event(event)
    high_origin = forecast.peak_origin_rps.value.high
    return PlanInput(
        likely_origin_rps=forecast.peak_origin_rps.value.likely,
        high_origin_rps=high_origin,
        new_connections_per_s=forecast.peak_visits_per_s.value.high,
        active_connections=forecast.peak_sessions.value.high,
        bandwidth_mbps=high_origin * ORIGIN_BYTES_PER_REQUEST * 8 / 1_000_000,
        safety_factor=safety_factor,
        vcpu_quota=vcpu_quota,
        air_end_minute=round(event.segment_minutes),
        tail_minutes=60,
        step_down=True,
    )


def plan_fingerprint(event: MediaEvent, safety_factor: float) -> str:
    """Hash what a plan is made from (the forecast and the inventory), so drift can be detected."""
    material = {
        "input": _plan_input(event, safety_factor).__dict__,
        "resources": [capacity.__dict__ for capacity in _capacities(event)],
        "air_start": event.air_start.isoformat(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _at(event: MediaEvent, minute: int) -> datetime:
    return event.air_start + timedelta(minutes=minute)


def policy_for(organization) -> ScalingPolicy:
    policy, _created = ScalingPolicy.objects.get_or_create(organization=organization)
    return policy


def plan_create(*, event: MediaEvent, by: User, safety_factor: float | None = None) -> ScalingPlan:
    """Compute targets from the forecast's peaks and the stack's inventory within the organization's caps;
    supersede the event's open plans."""
    _require_engineer(by)
    if event.is_locked():
        raise Conflict(
            _("This event is %(status)s: there is nothing to plan.") % {"status": event.get_status_display()}
        )
    policy = policy_for(event.organization)
    safety_factor = safety_factor or policy.safety_factor
    caps = Caps(
        max_instances=policy.max_instances,
        max_vcpus=policy.max_vcpus,
        max_hourly_cost_eur=float(policy.max_hourly_cost_eur) if policy.max_hourly_cost_eur is not None else None,
    )
    quota = vcpu_quota_left(event)
    available = quota.get("available") if quota else None
    planned = plan_targets(_capacities(event), _plan_input(event, safety_factor, vcpu_quota=available), caps)
    regions = dict(StackResource.objects.filter(stack=event.stack_id).values_list("identifier", "region"))
    with transaction.atomic():
        for stale in ScalingPlan.objects.filter(event=event, status__in=[Status.PLANNED, Status.APPROVED]):
            stale.status = Status.CANCELLED
            stale.cancelled_at = timezone.now()
            stale.message = _("Superseded by a new plan.")
            stale.save(update_fields=["status", "cancelled_at", "message"])
        plan = ScalingPlan.objects.create(
            event=event,
            safety_factor=safety_factor,
            fingerprint=plan_fingerprint(event, safety_factor),
            totals={
                "instances": planned.totals.instances,
                "vcpus": planned.totals.vcpus,
                "estimated_cost_eur": round(planned.totals.estimated_cost_eur, 2),
                "vcpu_quota": quota,
            },
            created_by=by,
        )
        PlanTarget.objects.bulk_create(
            PlanTarget(
                plan=plan,
                kind=target.kind,
                identifier=target.identifier,
                name=target.name,
                region=regions.get(target.identifier, ""),
                now=target.now,
                target=target.target,
                scale_up_at=_at(event, target.scale_up_at_minute),
                revert_steps=[[_at(event, minute).isoformat(), capacity] for minute, capacity in target.revert_steps],
                reason=target.reason,
                refused=target.refused or "",
                needs_separate_approval=target.needs_separate_approval,
                outage_note=target.outage_note or "",
            )
            for target in planned.targets
        )
    return plan


def _check_drift(plan: ScalingPlan) -> None:
    if plan_fingerprint(plan.event, plan.safety_factor) != plan.fingerprint:
        raise Conflict(
            _("The forecast or the inventory changed since this plan was made; plan again before applying."),
            allowed_next_statuses=[],
        )


def plan_approve(*, plan: ScalingPlan, by: User) -> ScalingPlan:
    """Approve as the engineer, or co-approve as an owner when the organization asks for it.

    The plan becomes approved when every approval it needs is in.
    """
    organization = plan.event.organization
    co_approval = policy_for(organization).client_co_approval
    if by.is_engineer:
        fields = {"approved_by": by, "approved_at": timezone.now()}
    elif co_approval and organization.role_of(by) == "owner":
        fields = {"client_approved_by": by, "client_approved_at": timezone.now()}
    else:
        raise PermissionDenied(_("Only provider engineers approve plans (and owners, when co-approval is on)."))
    _check_drift(plan)
    with transaction.atomic():
        moved = ScalingPlan.objects.filter(pk=plan.pk, status=Status.PLANNED).update(**fields)
        if moved != 1:
            raise Conflict(_("Only a planned plan can be approved."))
        plan.refresh_from_db()
        if plan.approved_by_id and (plan.client_approved_by_id or not co_approval):
            ScalingPlan.objects.filter(pk=plan.pk, status=Status.PLANNED).update(status=Status.APPROVED)
            plan.refresh_from_db()
    return plan


def recommendation_approve(*, target: PlanTarget, by: User) -> PlanTarget:
    """Approve one ElastiCache or RDS recommendation on its own, after reading its outage note (engineers).

    An approved recommendation is applied with its plan, by the reconciler (AWS cannot schedule it); when
    the plan is already applied, its steps are queued at once.
    """
    from scaling.executor import queue_reconciled_steps

    _require_engineer(by)
    plan = target.plan
    if not target.awaits_separate_approval():
        raise Conflict(_("Only a recommendation waiting for its own approval can be approved."))
    if plan.status not in {Status.PLANNED, Status.APPROVED, Status.APPLYING, Status.APPLIED}:
        raise Conflict(_("This plan is %(status)s: plan again first.") % {"status": plan.get_status_display()})
    _check_drift(plan)
    with transaction.atomic():
        moved = PlanTarget.objects.filter(pk=target.pk, separately_approved_at__isnull=True).update(
            separately_approved_by=by, separately_approved_at=timezone.now()
        )
        if moved != 1:
            raise Conflict(_("This recommendation is already approved."))
        target.refresh_from_db()
        record(
            plan=plan, target=target, actor_id=by.pk, operation="approve recommendation",
            result=ScalingAction.Result.OK, after=target.target, message=target.outage_note,
        )  # fmt: skip
        if ScalingPlan.objects.filter(pk=plan.pk, status=Status.APPLIED).exists():
            queue_reconciled_steps(plan, target, by.pk)
    return target


def policy_update(*, organization, by: User, **fields) -> ScalingPolicy:
    """Change the organization's safety factor, caps or co-approval (owners and engineers)."""
    if not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers change the scaling policy."))
    policy = policy_for(organization)
    for field, value in fields.items():
        setattr(policy, field, value)
    policy.full_clean()
    policy.save()
    return policy


def plan_apply(*, plan: ScalingPlan, by: User) -> ScalingPlan:
    """Start applying an approved plan in the background (refused when its inputs drifted)."""
    _require_engineer(by)
    _check_drift(plan)
    account = CloudAccount.objects.filter(organization=plan.event.organization_id).first()
    if account is None or not account.is_usable():
        raise Conflict(_("Link and verify the AWS account first."))
    if account.automation_paused:
        raise Conflict(
            _("Automated changes are paused for this organization: %(why)s") % {"why": account.automation_note}
        )
    with transaction.atomic():
        moved = ScalingPlan.objects.filter(pk=plan.pk, status__in=[Status.APPROVED, Status.FAILED]).update(
            status=Status.APPLYING, message="", apply_sent_at=timezone.now(), apply_resends=0
        )
        if moved != 1:
            raise Conflict(_("Only an approved plan can be applied."))
        transaction.on_commit(lambda: plan_task_enqueue("apply", plan.pk, by.pk))
    plan.refresh_from_db()
    return plan


def plan_cancel(*, plan: ScalingPlan, by: User | None) -> ScalingPlan:
    """Cancel a plan; once applied, its scheduled actions are removed from AWS in the background."""
    if by is not None:
        _require_engineer(by)
    with transaction.atomic():
        was_applied = plan.status in {Status.APPLYING, Status.APPLIED, Status.FAILED}
        moved = ScalingPlan.objects.filter(
            pk=plan.pk, status__in=[s for s in Status.values if s != Status.CANCELLED]
        ).update(status=Status.CANCELLED, cancelled_at=timezone.now())
        if moved != 1:
            raise Conflict(_("This plan is already cancelled."))
        if was_applied:
            transaction.on_commit(lambda: plan_task_enqueue("cancel", plan.pk, by.pk if by else None))
    plan.refresh_from_db()
    return plan


def plan_task_enqueue(what: str, plan_id: int, actor_id: int | None) -> None:
    """Hand a plan's apply (``what="apply"``) or its unschedule to the aws queue; call it on commit."""
    from scaling.tasks import apply_plan_task, unschedule_plan_task

    (apply_plan_task if what == "apply" else unschedule_plan_task).delay(plan_id, actor_id)


def record(
    *, plan: ScalingPlan | None, target: PlanTarget | None, actor_id: int | None, call=None, organization=None, **fields
) -> ScalingAction:
    """Write one audit row for an AWS call (or a refusal, or a switch), from cloud.scaling's AwsCall."""
    values = dict(fields)
    if call is not None:
        values.update(
            service=call.service,
            operation=call.operation,
            request=call.request,
            response=call.response,
            request_id=call.request_id,
            before=call.before,
        )
    return ScalingAction.objects.create(
        organization_id=organization.pk if organization else plan.event.organization_id,
        plan=plan,
        target=target,
        actor_id=actor_id,
        resource=target.identifier if target else "",
        **values,
    )


def action_settle(*, action: ScalingAction, result: str, call=None, message: str = "") -> bool:
    """Complete an audit row written "sent" before its call: from the answer, or from what AWS was found to hold.

    Only a row still "sent" changes, and only its result, answer and message: the one edit of an append-only
    table, so the row of a call AWS accepted exists even when the worker died before the answer.
    """
    values = {"result": result, "message": message}
    if call is not None:
        values.update(response=call.response, request_id=call.request_id)
    return bool(ScalingAction.objects.filter(pk=action.pk, result=ScalingAction.Result.SENT).update(**values))


# --- Emergency controls -----------------------------------------------------


def automation_pause(*, organization, by: User, paused: bool, reason: str) -> CloudAccount:
    """Turn the organization's kill switch on or off: while on, the portal changes nothing in the account."""
    from cloud.services import account_for

    _require_engineer(by)
    if paused and not reason.strip():
        from django.core.exceptions import ValidationError

        raise ValidationError({"reason": _("Say why, for the audit log.")})
    account = account_for(organization=organization)
    account.automation_paused = paused
    account.automation_note = reason.strip() if paused else ""
    account.save(update_fields=["automation_paused", "automation_note", "updated_at"])
    record(
        plan=None,
        target=None,
        organization=organization,
        actor_id=by.pk,
        operation="pause automation" if paused else "resume automation",
        result=ScalingAction.Result.OK,
        message=reason.strip(),
    )
    return account


def plan_scale_now(*, plan: ScalingPlan, by: User, revert: bool = False) -> ScalingPlan:
    """Set each automated target's capacity now (the target, or back to now when reverting), audited."""
    from scaling.executor import set_capacity_now

    _require_engineer(by)
    if plan.status not in {Status.APPROVED, Status.APPLYING, Status.APPLIED, Status.FAILED}:
        raise Conflict(_("Only an approved or applied plan can be used to scale now."))
    account = CloudAccount.objects.filter(organization=plan.event.organization_id).first()
    if account is None or not account.is_usable():
        raise Conflict(_("Link and verify the AWS account first."))
    if account.automation_paused:
        raise Conflict(
            _("Automated changes are paused for this organization: %(why)s") % {"why": account.automation_note}
        )
    set_capacity_now(plan=plan, actor_id=by.pk, revert=revert)
    return plan
