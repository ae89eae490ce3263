"""Turn an approved plan into scheduled actions on AWS (scale-up and its revert together), and remove them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cloud import scaling as aws
from cloud.exceptions import CloudError, PermanentCloudError
from cloud.models import CloudAccount
from scaling import services
from scaling.models import RECONCILED_KINDS, PendingChange, PlanTarget, ScalingAction, ScalingPlan
from scaling.targets import UNITS_KEY

Status = ScalingPlan.Status
log = logging.getLogger(__name__)
APP_SCALING = {
    "ecs_service": ("ecs", "ecs:service:DesiredCount"),
    "dynamodb_table": ("dynamodb", "dynamodb:table:ReadCapacityUnits"),
}


def _changes(plan: ScalingPlan, target: PlanTarget, *, with_desired: bool) -> list[aws.ScheduledChange]:
    def change(step: str, at: datetime, capacity: dict) -> aws.ScheduledChange:
        return aws.ScheduledChange(
            name=aws.scheduled_action_name(plan.pk, target.identifier, step),
            at=at,
            min_size=capacity.get("min"),
            max_size=capacity.get("max"),
            desired=capacity.get("desired") if with_desired else None,
        )

    steps = [change("up", target.scale_up_at, target.target)]
    for index, (at, capacity) in enumerate(target.revert_steps, start=1):
        steps.append(change(f"down-{index}", datetime.fromisoformat(at), capacity))
    return steps


def _app_scaling_id(target: PlanTarget) -> tuple[str, str, str]:
    namespace, dimension = APP_SCALING[target.kind]
    if target.kind == "ecs_service":
        # arn:aws:ecs:<region>:<account>:service/<cluster>/<service>
        return namespace, "service/" + target.identifier.split(":service/", 1)[1], dimension
    return namespace, f"table/{target.name}", dimension


Result = ScalingAction.Result
SCHEDULING = ("BatchPutScheduledUpdateGroupAction", "PutScheduledAction")
UNSCHEDULING = ("BatchDeleteScheduledAction", "DeleteScheduledAction")


class _Audit:
    """Write each call's audit row before AWS has it ("sent"), and complete it from the answer (a CallLog)."""

    def __init__(self, plan: ScalingPlan, target: PlanTarget, actor_id: int | None, *, after: dict | None = None):
        self.plan, self.target, self.actor_id, self.after = plan, target, actor_id, after
        self.row: ScalingAction | None = None

    def sending(self, call: aws.AwsCall) -> None:
        self.row = services.record(
            plan=self.plan, target=self.target, actor_id=self.actor_id, call=call, result=Result.SENT,
            after=self.after, message=_("Sent to AWS, no answer yet."),
        )  # fmt: skip

    def answered(self, call: aws.AwsCall) -> None:
        services.action_settle(action=self.row, result=Result.OK, call=call)

    def refused(self, error: CloudError) -> None:
        services.action_settle(action=self.row, result=Result.NOT_APPLIED, message=error.message)


def _names(request: dict) -> set[str]:
    """Return the scheduled action names a scheduling or unscheduling request names."""
    if "ScheduledUpdateGroupActions" in request:
        return {action["ScheduledActionName"] for action in request["ScheduledUpdateGroupActions"]}
    if "ScheduledActionNames" in request:
        return set(request["ScheduledActionNames"])
    return {request["ScheduledActionName"]}


def _settle_sent(plan: ScalingPlan, target: PlanTarget, operations: tuple[str, ...], calls: list[aws.AwsCall]):
    """Settle the rows an earlier worker left "sent" (it died before AWS's answer), now that this run is done.

    This run read the account and sent only what it did not hold yet: a step it did not send again was found
    in place, so the earlier call took; a step it sent again was not on AWS, so the earlier call did not.
    """
    sent_now = set().union(*(_names(call.request) for call in calls))
    for row in ScalingAction.objects.filter(plan=plan, target=target, operation__in=operations, result=Result.SENT):
        if _names(row.request) & sent_now:
            services.action_settle(action=row, result=Result.NOT_APPLIED,
                                   message=_("Not on AWS after the worker stopped: sent again."))  # fmt: skip
        else:
            services.action_settle(action=row, result=Result.CONFIRMED,
                                   message=_("Found in place on AWS after the worker stopped."))  # fmt: skip


def _schedule(link, plan: ScalingPlan, target: PlanTarget, actor_id: int | None) -> list[aws.AwsCall]:
    on_call = _Audit(plan, target, actor_id, after=target.target)
    if target.kind == "autoscaling_group":
        changes = _changes(plan, target, with_desired=True)
        calls = aws.asg_schedule(link, target.region, target.name, changes, on_call=on_call)
    else:
        namespace, resource_id, dimension = _app_scaling_id(target)
        changes = _changes(plan, target, with_desired=False)
        calls = aws.scalable_target_schedule(
            link, target.region, namespace, resource_id, dimension, changes, on_call=on_call
        )
    _settle_sent(plan, target, SCHEDULING, calls)
    return calls


def _unschedule(link, plan: ScalingPlan, target: PlanTarget, actor_id: int | None) -> list[aws.AwsCall]:
    names = [change.name for change in _changes(plan, target, with_desired=False)]
    on_call = _Audit(plan, target, actor_id)
    if target.kind == "autoscaling_group":
        calls = aws.asg_unschedule(link, target.region, target.name, names, on_call=on_call)
    else:
        namespace, resource_id, dimension = _app_scaling_id(target)
        calls = aws.scalable_target_unschedule(link, target.region, namespace, resource_id, dimension, names,
                                               on_call=on_call)  # fmt: skip
    _settle_sent(plan, target, UNSCHEDULING, calls)
    return calls


# The key space of the apply's advisory locks (PostgreSQL's two-integer form: this, then the plan's id).
APPLY_LOCK = 0x5C_A1E


@contextmanager
def _apply_claim(plan_id: int) -> Iterator[bool]:
    """Hold the plan for one try of its apply, or yield False when another try holds it now.

    A session-level advisory lock, not a transaction: the audit rows are committed as AWS accepts each call.
    PostgreSQL drops the lock with the connection, so a worker killed mid-apply (or cut by its hard time limit)
    holds nothing, and its redelivered message or the reconciler's resend may go on at once; a lease in a
    column would hold the plan for the lease's length. SQLite (the embedded default) has no such lock.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [APPLY_LOCK, plan_id])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [APPLY_LOCK, plan_id])


def plan_apply_now(*, plan_id: int, actor_id: int | None) -> ScalingPlan:
    """Schedule every automated target's scale-up with its revert; safe to run twice (names derive from the plan).

    Two copies of the apply (a redelivered message and the reconciler's resend) never act at the same moment:
    the one that finds the plan held by the other returns without a call.
    """
    plan = ScalingPlan.objects.select_related("event").get(pk=plan_id)
    if plan.status != Status.APPLYING:
        return plan
    with _apply_claim(plan.pk) as held:
        if not held:
            log.info("plan %s: another worker is applying it; this copy leaves it", plan.pk)
            return plan
        # A sign of life for the reconciler; and the plan may have been finished while this copy waited.
        if not ScalingPlan.objects.filter(pk=plan.pk, status=Status.APPLYING).update(apply_sent_at=timezone.now()):
            plan.refresh_from_db()
            return plan
        return _apply(plan, actor_id)


def _apply(plan: ScalingPlan, actor_id: int | None) -> ScalingPlan:
    account = CloudAccount.objects.get(organization=plan.event.organization_id)
    if account.automation_paused:
        message = _("Not applied: automated changes are paused (%(why)s).") % {"why": account.automation_note}
        services.record(plan=plan, target=None, actor_id=actor_id, operation="apply", result=ScalingAction.Result.ERROR,
                        message=message)  # fmt: skip
        ScalingPlan.objects.filter(pk=plan.pk).update(status=Status.FAILED, message=message)
        plan.refresh_from_db()
        return plan
    link = account.role_link()
    for target in plan.targets.all():
        if not target.is_automated():
            continue
        if target.kind in RECONCILED_KINDS:
            queue_reconciled_steps(plan, target, actor_id)
            continue
        try:
            calls = _schedule(link, plan, target, actor_id)
        except PermanentCloudError as error:
            # Never leave a scale-up without its revert: take back what this target got.
            _unschedule(link, plan, target, actor_id)
            services.record(
                plan=plan, target=target, actor_id=actor_id, operation="apply", result=ScalingAction.Result.ERROR,
                message=error.message,
            )  # fmt: skip
            ScalingPlan.objects.filter(pk=plan.pk).update(status=Status.FAILED, message=error.message)
            plan.refresh_from_db()
            return plan
        if not calls:
            services.record(
                plan=plan, target=target, actor_id=actor_id, operation="schedule",
                result=ScalingAction.Result.UNCHANGED, after=target.target,
                message=_("The scheduled actions were already in place."),
            )  # fmt: skip
    ScalingPlan.objects.filter(pk=plan.pk, status=Status.APPLYING).update(
        status=Status.APPLIED, applied_at=timezone.now()
    )
    plan.refresh_from_db()
    return plan


def plan_unschedule_now(*, plan_id: int, actor_id: int | None) -> ScalingPlan:
    """Remove every scheduled action of a cancelled plan; safe to run twice.

    Steps the reconciler keeps are cancelled; a load balancer reservation already
    raised is set back to what it was, now.
    """
    plan = ScalingPlan.objects.select_related("event").get(pk=plan_id)
    account = CloudAccount.objects.get(organization=plan.event.organization_id)
    link = account.role_link()
    for target in plan.targets.all():
        if not target.is_automated():
            continue
        if target.kind in RECONCILED_KINDS:
            raised = target.pending_changes.filter(step="up", status=PendingChange.Status.DONE).exists()
            target.pending_changes.filter(status=PendingChange.Status.PENDING).update(
                status=PendingChange.Status.CANCELLED, message=_("The plan was cancelled.")
            )
            if raised and not target.pending_changes.filter(step__startswith="down", status="done").exists():
                _apply_step(link, plan, target, target.now, actor_id, _("Set back: the plan was cancelled."))
            continue
        _unschedule(link, plan, target, actor_id)
    return plan


def plan_apply_gave_up(*, plan_id: int, actor_id: int | None, message: str) -> ScalingPlan | None:
    """After the apply task's last try (or its time limit): mark the plan failed and take its actions back.

    A half-applied plan could hold a scale-up whose revert never got scheduled; removing the plan's actions
    restores the invariant, and the engineer can apply it again (applying is idempotent).
    """
    moved = ScalingPlan.objects.filter(pk=plan_id, status=Status.APPLYING).update(status=Status.FAILED, message=message)
    if not moved:
        return None
    plan = ScalingPlan.objects.select_related("event").get(pk=plan_id)
    services.record(plan=plan, target=None, actor_id=actor_id, operation="apply", result=ScalingAction.Result.ERROR,
                    message=message)  # fmt: skip
    link = CloudAccount.objects.get(organization=plan.event.organization_id).role_link()
    for target in plan.targets.all():
        if not target.is_automated() or target.kind in RECONCILED_KINDS:
            continue
        try:
            _unschedule(link, plan, target, actor_id)
        except CloudError as error:
            services.record(plan=plan, target=target, actor_id=actor_id, operation="take back",
                            result=ScalingAction.Result.ERROR, message=error.message)  # fmt: skip
    return plan


# How many times the reconciler sends a stuck apply again before it fails the plan.
MAX_RESENDS = 3


def plans_resend_stuck(*, stuck_after: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Send again the apply of each plan applying with no sign of its worker for ``stuck_after``; once per window.

    The broker gives a dead worker's message back only after its visibility timeout (an hour in production):
    too late for a plan applied shortly before air. Each resend is claimed with a conditional update on the
    plan's ``apply_sent_at``, so two beats send it once; after ``MAX_RESENDS`` the plan fails cleanly.
    """
    now = now or timezone.now()
    counts = {"resent": 0, "gave_up": 0}
    stuck = ScalingPlan.objects.filter(status=Status.APPLYING).filter(
        Q(apply_sent_at__lt=now - stuck_after) | Q(apply_sent_at__isnull=True)
    )
    for plan in stuck.select_related("event"):
        since = plan.apply_sent_at or plan.approved_at or plan.created_at
        minutes = max(1, round((now - since).total_seconds() / 60))
        if plan.apply_resends >= MAX_RESENDS:
            message = _(
                "The apply gave up: no worker answered for %(minutes)d minutes after it was sent again %(count)d times."
            ) % {"minutes": minutes, "count": plan.apply_resends}
            if plan_apply_gave_up(plan_id=plan.pk, actor_id=None, message=message):
                counts["gave_up"] += 1
            continue
        claimed = ScalingPlan.objects.filter(
            pk=plan.pk, status=Status.APPLYING, apply_resends=plan.apply_resends, apply_sent_at=plan.apply_sent_at
        ).update(apply_sent_at=now, apply_resends=F("apply_resends") + 1)
        if not claimed:
            continue
        services.record(
            plan=plan, target=None, actor_id=None, operation="send apply again", result=ScalingAction.Result.OK,
            message=_("Sent again after %(minutes)d minutes without an answer from its worker (%(count)d of "
                      "%(most)d).") % {"minutes": minutes, "count": plan.apply_resends + 1, "most": MAX_RESENDS},
        )  # fmt: skip
        transaction.on_commit(lambda plan_id=plan.pk: services.plan_task_enqueue("apply", plan_id, None))
        counts["resent"] += 1
    return counts


def plan_scheduled_on_aws(plan: ScalingPlan) -> dict[str, list[aws.ScheduledChange]]:
    """Return, per automated target, the plan's actions AWS holds now (to show and to test the invariant)."""
    account = CloudAccount.objects.get(organization=plan.event.organization_id)
    link = account.role_link()
    prefix = aws.plan_prefix(plan.pk)
    found = {}
    for target in plan.targets.all():
        if not target.is_automated() or target.kind in RECONCILED_KINDS:
            continue
        try:
            if target.kind == "autoscaling_group":
                found[target.name] = aws.asg_scheduled_actions(link, target.region, target.name, prefix)
            else:
                namespace, resource_id, dimension = _app_scaling_id(target)
                found[target.name] = aws.scalable_target_scheduled_actions(
                    link, target.region, namespace, resource_id, dimension, prefix
                )
        except CloudError:
            found[target.name] = []
    return found


def set_capacity_now(*, plan: ScalingPlan, actor_id: int | None, revert: bool) -> None:
    """Set the Auto Scaling groups of a plan to their target (or back to now) at once, audited."""
    account = CloudAccount.objects.get(organization=plan.event.organization_id)
    link = account.role_link()
    for target in plan.targets.filter(kind="autoscaling_group"):
        if target.refused:
            continue
        capacity = target.now if revert else target.target
        call = aws.asg_set_capacity(
            link,
            target.region,
            target.name,
            min_size=capacity["min"],
            max_size=capacity["max"],
            desired=capacity["desired"],
        )
        services.record(
            plan=plan, target=target, actor_id=actor_id, call=call, result=ScalingAction.Result.OK,
            before=target.target if revert else target.now, after=capacity,
            message=_("Reverted now.") if revert else _("Scaled now."),
        )  # fmt: skip


# What the T-10 check reads per kind: (the capacity key read now, the target key, what it counts).
VERIFIED = {
    "autoscaling_group": ("in_service", "desired", gettext_lazy("instances in service")),
    "elasticache_replication_group": ("replicas", "replicas", gettext_lazy("replicas per shard")),
    "rds_instance": ("read_replicas", "read_replicas", gettext_lazy("read replicas")),
}


def _verify_target(link, target: PlanTarget) -> dict | None:
    """Return the target's shortfall at T-10 (what is there against what the plan put there), or None."""
    from cloud.adapters.load_balancers import load_balancer_capacity_reservation
    from cloud.inventory import refresh
    from cloud.resources import Resource, ResourceKind

    if target.kind == "load_balancer":
        wanted = int(target.target.get("reserved_lcu") or 0)
        reservation = load_balancer_capacity_reservation(link, target.region, target.identifier)
        reserved = reservation.minimum_lcu or 0
        if reservation.state == "provisioned" and reserved >= wanted:
            return None
        return {
            "resource": target.name,
            "what": _("LCUs reserved and provisioned"),
            "in_service": reserved if reservation.state == "provisioned" else 0,
            "target": wanted,
            "state": reservation.state or "none",
        }
    if target.kind not in VERIFIED:
        return None  # ECS, DynamoDB, Aurora: Application Auto Scaling enforces MinCapacity itself
    have_key, want_key, what = VERIFIED[target.kind]
    current = refresh(
        link,
        Resource(kind=ResourceKind(target.kind), identifier=target.identifier, name=target.name, region=target.region),
    )
    have, wanted = int(current.capacity.get(have_key) or 0), int(target.target.get(want_key) or 0)
    if have >= wanted:
        return None
    return {"resource": target.name, "what": str(what), "in_service": have, "target": wanted}


def plans_verify_due(*, now=None) -> list[ScalingPlan]:
    """At T-10 minutes, compare what is in service with each applied plan's targets; warn on a shortfall.

    Instances in service, LCU reservations provisioned, cache and database replicas in place. A target that
    cannot be read counts as short: at T-10 an engineer should look rather than trust it.
    """
    from datetime import timedelta

    now = now or timezone.now()
    due = ScalingPlan.objects.filter(
        status=Status.APPLIED,
        verified_at__isnull=True,
        event__air_start__lte=now + timedelta(minutes=10),
        event__air_start__gt=now,
    ).select_related("event", "event__assignee", "event__organization")
    verified = []
    for plan in due:
        link = CloudAccount.objects.get(organization=plan.event.organization_id).role_link()
        shortfall = []
        for target in plan.targets.all():
            if not target.is_automated():
                continue
            try:
                short = _verify_target(link, target)
            except CloudError as error:
                wanted = target.target.get(UNITS_KEY.get(target.kind, ""), 0)
                short = {"resource": target.name, "what": _("could not be read: %(why)s") % {"why": error.message},
                         "in_service": 0, "target": wanted}  # fmt: skip
            if short:
                shortfall.append(short)
        claimed = ScalingPlan.objects.filter(pk=plan.pk, verified_at__isnull=True).update(
            verified_at=now, shortfall=shortfall
        )
        if claimed and shortfall:
            _alert_shortfall(plan, shortfall)
        verified.append(plan)
    return verified


def _alert_shortfall(plan: ScalingPlan, shortfall: list[dict]) -> None:
    from django.conf import settings
    from django.urls import reverse

    from notifications.services import email_send

    event = plan.event
    recipients = [event.assignee.email] if event.assignee else []
    url = settings.SITE_URL + reverse("event-detail", args=[event.organization.slug, event.pk])
    for recipient in recipients:
        email_send(
            to=[recipient],
            template="emails/capacity_shortfall",
            context={"event": event, "shortfall": shortfall, "url": url},
        )


# --- What AWS cannot schedule: kept in the database, applied by the reconciler ---


def queue_reconciled_steps(plan: ScalingPlan, target: PlanTarget, actor_id: int | None) -> None:
    """Keep the target's scale-up and revert as pending rows (once: the unique step makes a re-apply a no-op)."""
    steps = [("up", target.scale_up_at, target.target)]
    steps += [(f"down-{index}", datetime.fromisoformat(at), capacity) for index, (at, capacity) in
              enumerate(target.revert_steps, start=1)]  # fmt: skip
    created = 0
    for step, due_at, capacity in steps:
        _row, was_created = PendingChange.objects.get_or_create(
            target=target, step=step, defaults={"due_at": due_at, "capacity": capacity}
        )
        created += was_created
    services.record(
        plan=plan, target=target, actor_id=actor_id, operation="queue reservation steps",
        result=ScalingAction.Result.OK if created else ScalingAction.Result.UNCHANGED, after=target.target,
        message=_("The change and its revert will be applied by the portal when due (AWS cannot schedule them)."),
    )  # fmt: skip


def _apply_step(link, plan: ScalingPlan, target: PlanTarget, capacity: dict, actor_id: int | None, message: str):
    """Set a reconciled target to ``capacity`` now (absolute, so a repeat changes nothing), audited."""
    if target.kind == "load_balancer":
        lcu = capacity.get("reserved_lcu") or None
        calls = [aws.load_balancer_reserve_capacity(link, target.region, target.identifier, lcu)]
    elif target.kind == "elasticache_replication_group":
        call = aws.elasticache_set_replicas(link, target.region, target.name, int(capacity.get("replicas") or 0))
        calls = [call] if call else []
    else:  # rds_instance: the plan's own read replicas, on top of the client's
        added = int(capacity.get("read_replicas") or 0) - int(target.now.get("read_replicas") or 0)
        calls = aws.rds_set_read_replicas(link, target.region, target.identifier, plan.pk, max(0, added))
    for call in calls:
        services.record(
            plan=plan, target=target, actor_id=actor_id, call=call, result=ScalingAction.Result.OK,
            after=capacity, message=message,
        )  # fmt: skip
    if not calls:
        services.record(
            plan=plan, target=target, actor_id=actor_id, operation=_("set capacity"),
            result=ScalingAction.Result.UNCHANGED, after=capacity, message=_("Already in place."),
        )  # fmt: skip
    return calls


def pending_changes_apply_due(*, now=None) -> int:
    """Apply the due steps AWS cannot schedule; each is claimed once, so two beats never apply one twice."""
    now = now or timezone.now()
    applied = 0
    due = PendingChange.objects.filter(status=PendingChange.Status.PENDING, due_at__lte=now).select_related(
        "target__plan__event"
    )
    for change in due:
        plan = change.target.plan
        account = CloudAccount.objects.get(organization=plan.event.organization_id)
        if account.automation_paused:
            continue  # stays pending until automation resumes
        claimed = PendingChange.objects.filter(pk=change.pk, status=PendingChange.Status.PENDING).update(
            status=PendingChange.Status.APPLYING
        )
        if claimed != 1:
            continue
        try:
            _apply_step(
                account.role_link(), plan, change.target, change.capacity, None, _("Applied by the reconciler.")
            )
        except PermanentCloudError as error:
            PendingChange.objects.filter(pk=change.pk).update(status=PendingChange.Status.FAILED, message=error.message)
            services.record(plan=plan, target=change.target, actor_id=None, operation=_("set capacity"),
                            result=ScalingAction.Result.ERROR, message=error.message)  # fmt: skip
            continue
        except CloudError:
            # Transient: give it back to the next minute's run.
            PendingChange.objects.filter(pk=change.pk).update(status=PendingChange.Status.PENDING)
            continue
        PendingChange.objects.filter(pk=change.pk).update(status=PendingChange.Status.DONE, done_at=timezone.now())
        applied += 1
    return applied


# --- After the revert: is the account back to normal? ---------------------------------------

# AWS runs a scheduled action within a minute or two of its time; look after this grace.
REVERT_GRACE = timedelta(minutes=5)
# Kinds whose bounds the revert sets absolutely and the inventory reads back.
REVERT_CHECKED = {"autoscaling_group": ("min", "max"), "ecs_service": ("min", "max")}


def _last_revert_at(plan: ScalingPlan) -> datetime | None:
    times = [datetime.fromisoformat(steps[-1][0]) for steps in plan.targets.values_list("revert_steps", flat=True)
             if steps]  # fmt: skip
    return max(times) if times else None


def _not_reverted(link, target: PlanTarget) -> str | None:
    """Say how the target differs from where the plan found it, or None when it is back (or cannot tell)."""
    from cloud.inventory import refresh
    from cloud.resources import Resource, ResourceKind

    if target.kind in RECONCILED_KINDS:
        left = target.pending_changes.exclude(step="up").exclude(status=PendingChange.Status.DONE)
        left = left.exclude(status=PendingChange.Status.CANCELLED)
        return _("%(count)d revert step(s) not applied") % {"count": left.count()} if left.exists() else None
    keys = REVERT_CHECKED.get(target.kind)
    if keys is None:
        return None  # DynamoDB, Aurora: Application Auto Scaling runs the revert; nothing here reads it back
    current = refresh(
        link,
        Resource(kind=ResourceKind(target.kind), identifier=target.identifier, name=target.name, region=target.region),
    ).capacity
    wrong = [f"{key} {current.get(key)} (was {target.now.get(key)})" for key in keys
             if current.get(key) != target.now.get(key)]  # fmt: skip
    return ", ".join(wrong) or None


def plans_check_reverted(*, now: datetime | None = None) -> dict[str, int]:
    """After each applied plan's last revert step, confirm the account is back where the plan found it.

    The reverts are AWS's own scheduled actions, so they happen even while the portal's workers are down;
    this records that they did (the plan becomes reverted), or alerts the engineer once when they did not.
    """
    now = now or timezone.now()
    counts = {"reverted": 0, "not_reverted": 0}
    for plan in ScalingPlan.objects.filter(status=Status.APPLIED, reverted_at__isnull=True).select_related(
        "event", "event__assignee", "event__organization"
    ):
        last = _last_revert_at(plan)
        if last is None or now < last + REVERT_GRACE:
            continue
        link = CloudAccount.objects.get(organization=plan.event.organization_id).role_link()
        problems = []
        for target in plan.targets.all():
            if not target.is_automated():
                continue
            try:
                wrong = _not_reverted(link, target)
            except CloudError as error:
                wrong = _("could not be read: %(why)s") % {"why": error.message}
            if wrong:
                problems.append(f"{target.name}: {wrong}")
        if not problems:
            claimed = ScalingPlan.objects.filter(pk=plan.pk, status=Status.APPLIED).update(
                status=Status.REVERTED, reverted_at=now
            )
            if claimed:
                services.record(
                    plan=plan, target=None, actor_id=None, operation="check revert",
                    result=ScalingAction.Result.UNCHANGED,
                    message=_("Back to normal: every resource holds the capacity it had before the plan."),
                )  # fmt: skip
                counts["reverted"] += 1
            continue
        counts["not_reverted"] += 1
        claimed = ScalingPlan.objects.filter(pk=plan.pk, revert_alerted_at__isnull=True).update(revert_alerted_at=now)
        if claimed:
            message = _("Not back to normal after the revert: %(what)s") % {"what": "; ".join(problems)}
            services.record(plan=plan, target=None, actor_id=None, operation="check revert",
                            result=ScalingAction.Result.ERROR, message=message)  # fmt: skip
            _alert_not_reverted(plan, problems)
    return counts


def _alert_not_reverted(plan: ScalingPlan, problems: list[str]) -> None:
    from django.conf import settings
    from django.urls import reverse

    from notifications.services import email_send

    event = plan.event
    if not event.assignee:
        return
    email_send(
        to=[event.assignee.email],
        template="emails/capacity_not_reverted",
        context={
            "event": event,
            "problems": problems,
            "url": settings.SITE_URL + reverse("event-detail", args=[event.organization.slug, event.pk]),
        },
    )
