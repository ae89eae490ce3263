"""Fault scenario 6, and applies interrupted: a plan applied while AWS throttles, fails or refuses, or while its
worker is killed mid-apply.

AWS is moto's server behind the fault proxy (tests/faults/aws_fault_proxy.py); what the account holds is read
from moto directly. Invariant 2: whatever happened, every scale-up on AWS has its revert. Invariant 3: the
apply ends with exactly the plan's scheduled actions (re-running creates no duplicate) and the audit says so.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import reverse

from cloud.client import provider_client, reset_sessions
from cloud.inventory import discover
from cloud.models import CloudAccount, StackResource
from cloud.resources import ResourceKind
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account
from events.models import MediaEvent
from scaling import executor, services
from scaling.models import PlanTarget, ScalingAction, ScalingPlan
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import ACCOUNT_ID, REGION, add_autoscaling_group, add_ecs_service
from tests.conftest import api_client_for, client_for
from tests.faults import aws_fault_proxy, workers
from tests.faults.aws_fault_proxy import (
    ACCESS_DENIED,
    EXPIRED_TOKEN,
    SERVICE_UNAVAILABLE,
    THROTTLING,
    AwsFaultProxy,
    Latency,
    always,
    combine,
    every_other,
    storm,
)
from tests.faults.scheduled_actions import (
    BATCH_PUT,
    MUTATING,
    PUT,
    all_expected,
    expected_names,
    names_audited,
    names_that_reached_aws,
    steps,
)
from tests.scaling import conftest as scaling_fixtures
from tests.tenancy_matrix import make_event

log = logging.getLogger(__name__)
aws = cloud_fixtures.aws
fault_proxy = aws_fault_proxy.fault_proxy
moto_endpoint = scaling_fixtures.moto_endpoint  # moto's server of this module's own

EXTRA_GROUPS = ("lumiere-shop-api", "lumiere-shop-jobs")
ECS_CLUSTER = "lumiere-shop"
ECS_SERVICES = ("checkout", "search")
# The Redis database of the worker test's broker (tests/faults/workers.py): each worker scenario has its own.
ISOLATED_BROKER_DB = 15


def _add_services() -> None:
    ecs = provider_client("ecs", REGION)
    ecs.create_cluster(clusterName=ECS_CLUSTER)
    ecs.register_task_definition(
        family="lumiere-shop", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 512}]
    )
    for name in ECS_SERVICES:
        add_ecs_service(ECS_CLUSTER, name, task_definition="lumiere-shop", size=3)


@pytest.fixture
def fleet_event(personas, stack, aws):
    """An accepted event whose stack holds three Auto Scaling groups and two ECS services, in a verified account."""
    seeded = seed_demo_account(region=REGION)
    for name in EXTRA_GROUPS:
        add_autoscaling_group(seeded, name)
    _add_services()
    account = CloudAccount.objects.create(
        organization=personas.organization,
        role_arn=seeded["role_arn"],
        external_id=DEMO_EXTERNAL_ID,
        status=CloudAccount.Status.VERIFIED,
        aws_account_id=ACCOUNT_ID,
        regions=[REGION],
    )
    kinds = [ResourceKind.autoscaling_group, ResourceKind.ecs_service]
    for found in discover(account.role_link(), REGION, kinds=kinds, include_global=False).resources:
        StackResource.objects.create(
            stack=stack,
            kind=found.kind,
            identifier=found.identifier,
            name=found.name,
            region=REGION,
            capacity=found.capacity,
            details=found.details,
            unit_rps=250 if found.kind == ResourceKind.autoscaling_group else 100,
        )
    return make_event(personas.organization, stack=stack, status=MediaEvent.Status.ACCEPTED, days_ahead=3)


@pytest.fixture
def proxy(fleet_event, fault_proxy) -> AwsFaultProxy:
    """The fault proxy in front of moto, taken once the fleet is seeded on moto directly."""
    fault_proxy.reset()  # counts start at the apply, whatever set the fleet up
    return fault_proxy


@pytest.fixture
def eager_retries():
    """Let an eager task retry in place, as a worker would; propagating eager errors would raise Celery's Retry."""
    from portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def _approved_plan(event, personas) -> ScalingPlan:
    plan = services.plan_create(event=event, by=personas.engineer)
    plan = services.plan_approve(plan=plan, by=personas.engineer)
    targets = list(plan.targets.all())
    assert [target.kind for target in targets] == ["autoscaling_group"] * 3 + ["ecs_service"] * 2
    assert all(target.is_automated() and target.revert_steps for target in targets)
    return plan


def _apply(plan, personas, capture) -> tuple[ScalingPlan, float]:
    started = time.monotonic()
    with capture(execute=True):
        services.plan_apply(plan=plan, by=personas.engineer)
    plan.refresh_from_db()
    return plan, time.monotonic() - started


# --- What AWS holds, read from moto directly ----------------------------------------


def _resource_id(target: PlanTarget) -> str:
    return "service/" + target.identifier.split(":service/", 1)[1]


def _resource_key(target: PlanTarget) -> str:
    """Return how calls name the target's resource: the group's name, or the scalable target's resource id."""
    return target.name if target.kind == "autoscaling_group" else _resource_id(target)


def _held_by_aws(target: PlanTarget, moto_endpoint: str) -> list[tuple[str, datetime, int | None, int | None]]:
    """Return (name, at, min, max) of every scheduled action on the target's resource, earliest first."""
    with override_settings(AWS_ENDPOINT_URL=moto_endpoint):
        if target.kind == "autoscaling_group":
            actions = provider_client("autoscaling", REGION).describe_scheduled_actions(
                AutoScalingGroupName=target.name
            )["ScheduledUpdateGroupActions"]
            held = [
                (item["ScheduledActionName"], item["StartTime"], item.get("MinSize"), item.get("MaxSize"))
                for item in actions
            ]
        else:
            actions = provider_client("application-autoscaling", REGION).describe_scheduled_actions(
                ServiceNamespace="ecs", ResourceId=_resource_id(target), ScalableDimension="ecs:service:DesiredCount"
            )["ScheduledActions"]
            held = [
                (
                    item["ScheduledActionName"],
                    datetime.strptime(item["Schedule"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=UTC),
                    item["ScalableTargetAction"].get("MinCapacity"),
                    item["ScalableTargetAction"].get("MaxCapacity"),
                )
                for item in actions
                if item["ResourceId"] == _resource_id(target)
            ]
    return sorted(held, key=lambda action: (action[1], action[0]))


def _assert_complete_with_revert(target: PlanTarget, held: list) -> None:
    """Assert the resource holds exactly the plan's steps: the scale-up first, the last step back to now."""
    names = [name for name, *_ in held]
    assert sorted(names) == sorted(expected_names(target)), f"{target.name}: {names}"
    up_name, up_at, up_min, up_max = held[0]
    _last_name, last_at, last_min, last_max = held[-1]
    assert up_name.endswith("-up")
    assert (up_min, up_max) == (target.target["min"], target.target["max"])
    assert up_at == target.scale_up_at.replace(microsecond=0)
    assert last_at > up_at
    assert (last_min, last_max) == (target.now["min"], target.now["max"]), f"{target.name} is not reverted"


def _assert_every_target_scheduled(plan: ScalingPlan, moto_endpoint: str) -> None:
    for target in plan.targets.all():
        _assert_complete_with_revert(target, _held_by_aws(target, moto_endpoint))


# --- In-process applies (eager Celery: its retries run at once) -----------------------------


def test_throttling_on_every_other_call_still_schedules_every_step_once(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks
):
    # The baseline: the same plan for another event on the same fleet, applied without faults.
    other_event = make_event(
        personas.organization, stack=fleet_event.stack, status=MediaEvent.Status.ACCEPTED, days_ahead=5
    )
    baseline, normal_seconds = _apply(
        _approved_plan(other_event, personas), personas, django_capture_on_commit_callbacks
    )
    assert baseline.status == ScalingPlan.Status.APPLIED, baseline.message
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_cancel(plan=baseline, by=personas.engineer)  # takes its steps back off the fleet
    proxy.reset()
    reset_sessions()  # the throttled apply assumes the role again, as the baseline did
    plan = _approved_plan(fleet_event, personas)
    proxy.rule = every_other(THROTTLING)

    plan, seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.APPLIED, plan.message
    _assert_every_target_scheduled(plan, moto_endpoint)
    stats = proxy.stats
    # Every operation was throttled on half its calls, and the clients' retry (cloud/retries.py) got each through.
    assert {key for key, counts in stats.items() if counts.faulted} >= {"sts:AssumeRole", *MUTATING}
    assert all(counts.faulted == counts.forwarded == counts.requests / 2 for counts in stats.values()), stats
    # Each step reached AWS once, and the audit holds each once, with no error.
    assert names_that_reached_aws(proxy) == Counter(all_expected(plan))
    assert names_audited(plan) == Counter(all_expected(plan))
    assert not ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.ERROR).exists()
    throttled = sum(counts.faulted for counts in stats.values())
    print(
        f"\n[scenario 6] throttling on every other call: {throttled} of {throttled * 2} calls throttled, each of the "
        f"{len(all_expected(plan))} steps reached AWS once and is audited once; applied in {seconds:.2f}s against "
        f"{normal_seconds:.2f}s unthrottled: {seconds / normal_seconds:.1f}x (target: at most 3x)"
    )


def test_without_a_rule_the_proxy_passes_one_call_per_step_and_the_plan_applies_in_one_pass(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks
):
    plan, seconds = _apply(_approved_plan(fleet_event, personas), personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.APPLIED, plan.message
    _assert_every_target_scheduled(plan, moto_endpoint)
    stats = proxy.stats
    assert all(counts.forwarded == counts.requests and not counts.faulted for counts in stats.values())
    # One role, then per group a read and one batch, per ECS service a read and one call per step.
    assert stats["sts:AssumeRole"].requests == 1
    assert stats[BATCH_PUT].requests == 3
    assert stats[PUT].requests == sum(len(steps(target)) for target in plan.targets.filter(kind="ecs_service"))
    assert names_audited(plan) == Counter(all_expected(plan))
    log.info("applied in %.2fs with %d calls", seconds, sum(counts.requests for counts in stats.values()))


def test_a_5xx_storm_on_the_scheduling_calls_is_ridden_out_with_every_step_scheduled_once(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks
):
    plan = _approved_plan(fleet_event, personas)
    # The first group is scheduled; the second group's batch then meets 503 three times in a row.
    proxy.rule = storm(SERVICE_UNAVAILABLE, length=3, after=1, operations=MUTATING)

    plan, seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.APPLIED, plan.message
    _assert_every_target_scheduled(plan, moto_endpoint)
    assert proxy.stats[BATCH_PUT].faults == {"service unavailable": 3}
    assert proxy.stats[BATCH_PUT].forwarded == 3
    assert names_that_reached_aws(proxy) == Counter(all_expected(plan))
    assert names_audited(plan) == Counter(all_expected(plan))
    assert not ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.ERROR).exists()
    print(f"\n[scenario 6] a storm of 3 answers 503 on the scheduling calls: applied in {seconds:.2f}s, each step once")


def test_a_transient_error_mid_target_is_finished_by_the_task_retry_without_duplicates(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks, eager_retries
):
    plan = _approved_plan(fleet_event, personas)
    # botocore does not retry an expired token; the task does (eagerly here), from the start of the plan.
    proxy.rule = storm(EXPIRED_TOKEN, length=1, after=1, operations=[PUT])

    plan, _seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.APPLIED, plan.message
    _assert_every_target_scheduled(plan, moto_endpoint)
    assert proxy.stats[PUT].faulted == 1
    # The second run re-read the account: what the first had scheduled was not sent again.
    assert names_that_reached_aws(proxy) == Counter(all_expected(plan))
    assert proxy.stats[BATCH_PUT].forwarded == 3
    unchanged = ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.UNCHANGED)
    assert sorted(unchanged.values_list("target__name", flat=True)) == sorted(["lumiere-shop-web", *EXTRA_GROUPS])
    assert max(names_audited(plan).values()) == 1
    assert set(names_audited(plan)) <= all_expected(plan)
    assert not ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.ERROR).exists()


def _resource_of(params: dict) -> str:
    return params.get("AutoScalingGroupName") or params.get("ResourceId") or ""


@pytest.mark.parametrize(
    ("operation", "scheduled_targets", "taken_back"),
    [
        (BATCH_PUT, 1, 0),  # the first group is scheduled, the second refused at once (one batch: all or nothing)
        (PUT, 3, 1),  # every group is; the first ECS service's last revert is (latest first), then the next refused
    ],
)
def test_access_denied_on_the_scheduling_call_fails_the_plan_at_once_leaving_no_scale_up_alone(
    personas,
    fleet_event,
    proxy,
    moto_endpoint,
    django_capture_on_commit_callbacks,
    operation,
    scheduled_targets,
    taken_back,
):
    plan = _approved_plan(fleet_event, personas)
    # The first target of the kind is scheduled; the role's policy refuses every later call.
    proxy.rule = storm(ACCESS_DENIED, length=1_000, after=1, operations=[operation])

    plan, _seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.FAILED
    assert operation in plan.message
    assert "policy" in plan.message
    # At once: one refusal, retried neither by botocore nor by Celery, and no target after it was touched.
    assert proxy.stats[operation].faulted == 1
    denied_at = next(index for index, exchange in enumerate(proxy.exchanges) if exchange.fault)
    failing = _resource_of(proxy.exchanges[denied_at].request.params)
    assert {_resource_of(exchange.request.params) for exchange in proxy.exchanges[denied_at:]} == {failing}
    # Every target holds its complete schedule, or nothing: a scale-up scheduled before the refusal was taken back.
    held = {_resource_key(target): _held_by_aws(target, moto_endpoint) for target in plan.targets.all()}
    assert held[failing] == []
    for target in plan.targets.all():
        if held[_resource_key(target)]:
            _assert_complete_with_revert(target, held[_resource_key(target)])
    assert sum(bool(actions) for actions in held.values()) == scheduled_targets
    # The audit names the refusal once, and the step taken back (a revert: scale-ups are scheduled last).
    errors = ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.ERROR)
    assert list(errors.values_list("message", flat=True)) == [plan.message]
    deleted = ScalingAction.objects.filter(plan=plan, operation="DeleteScheduledAction", result=ScalingAction.Result.OK)
    assert [row.request["ScheduledActionName"].endswith("-down-2") for row in deleted] == [True] * taken_back
    print(f"\n[scenario 6] AccessDenied on {operation}: failed after 1 refused call, {plan.message}")


def test_every_scheduled_action_on_aws_is_in_the_audit_after_an_interrupted_apply(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks, eager_retries
):
    plan = _approved_plan(fleet_event, personas)
    proxy.rule = storm(EXPIRED_TOKEN, length=1, after=1, operations=[PUT])

    plan, _seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.APPLIED
    on_aws = {name for target in plan.targets.all() for name, *_ in _held_by_aws(target, moto_endpoint)}
    # The first ECS service's step accepted before the error is audited as soon as AWS took it.
    assert on_aws == set(names_audited(plan))


def test_when_the_task_retries_run_out_the_plan_fails_and_no_scale_up_is_left_without_its_revert(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks, eager_retries
):
    from scaling.tasks import apply_plan_task

    plan = _approved_plan(fleet_event, personas)
    # The first ECS service's scale-up is accepted; every later call for it fails transiently, on every run.
    proxy.rule = storm(EXPIRED_TOKEN, length=1_000, after=1, operations=[PUT])

    plan, _seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert proxy.stats[PUT].faulted == apply_plan_task.max_retries + 1  # the task ran out of retries
    assert plan.status == ScalingPlan.Status.FAILED
    for target in plan.targets.all():
        held = _held_by_aws(target, moto_endpoint)
        if held:
            _assert_complete_with_revert(target, held)


class WorkerKilled(BaseException):
    """Stand for a worker's death inside a test: nothing after it runs, as after ``kill -9``."""


def _apply_dying_once(plan, personas, capture, monkeypatch, method: str, *, after: bool) -> ScalingAction:
    """Apply ``plan`` with a worker that dies once in ``_Audit.<method>``; return the row it left "sent"."""
    with capture(execute=False):
        services.plan_apply(plan=plan, by=personas.engineer)
    _die_once(monkeypatch, method, after=after)
    with pytest.raises(WorkerKilled):
        executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    return ScalingAction.objects.get(plan=plan, result=ScalingAction.Result.SENT)


def _apply_again_after_the_death(plan, proxy, moto_endpoint: str) -> ScalingPlan:
    """Apply again, as the next worker: the same calls as an apply without a death, each step once on AWS and
    with its row once."""
    plan = executor.plan_apply_now(plan_id=plan.pk, actor_id=None)
    assert plan.status == ScalingPlan.Status.APPLIED, plan.message
    _assert_every_target_scheduled(plan, moto_endpoint)
    assert names_that_reached_aws(proxy) == Counter(all_expected(plan))
    assert names_audited(plan) == Counter(all_expected(plan))
    return plan


def _die_once(monkeypatch, method: str, *, after: bool) -> None:
    """Make the worker die once in ``_Audit.<method>`` of the first ECS call: after it ran, or instead of it."""
    from scaling.executor import _Audit

    original = getattr(_Audit, method)
    state = {"died": False}

    def dying(self, call):
        if state["died"] or self.target.kind != "ecs_service":
            return original(self, call)
        state["died"] = True
        if after:
            original(self, call)
        raise WorkerKilled

    monkeypatch.setattr(_Audit, method, dying)


def test_a_call_aws_accepted_before_the_worker_died_keeps_its_row_and_the_next_apply_confirms_it(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks, monkeypatch
):
    plan = _approved_plan(fleet_event, personas)
    # AWS accepts the first ECS call; the worker dies before it reads the answer.
    sent = _apply_dying_once(plan, personas, django_capture_on_commit_callbacks, monkeypatch, "answered", after=False)
    assert sent.operation == "PutScheduledAction"
    assert sent.request["ScheduledActionName"] in set(names_that_reached_aws(proxy))
    assert sent.message == "Sent to AWS, no answer yet."
    assert not sent.request_id

    plan = _apply_again_after_the_death(plan, proxy, moto_endpoint)
    sent.refresh_from_db()
    assert sent.result == ScalingAction.Result.CONFIRMED
    assert sent.message == "Found in place on AWS after the worker stopped."
    assert not ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.SENT).exists()
    # The client reads it in the plan's audit, through the API and on the event's page.
    audit = api_client_for(personas.owner).get(reverse("api:scaling-plan-audit", args=[plan.pk])).json()
    assert [row["message"] for row in audit if row["result"] == "confirmed"] == [sent.message]
    page = (
        client_for(personas.owner)
        .get(reverse("event-detail", args=[personas.organization.slug, fleet_event.pk]))
        .content.decode()
    )
    assert "Found in place on AWS</span>" in page
    assert "Found in place on AWS after the worker stopped." in page


def test_a_call_the_worker_died_before_sending_is_marked_not_applied_and_sent_again(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks, monkeypatch
):
    plan = _approved_plan(fleet_event, personas)
    # The row is written, then the worker dies before the call leaves: AWS never has it.
    sent = _apply_dying_once(plan, personas, django_capture_on_commit_callbacks, monkeypatch, "sending", after=True)
    assert sent.request["ScheduledActionName"] not in set(names_that_reached_aws(proxy))

    plan = _apply_again_after_the_death(plan, proxy, moto_endpoint)
    sent.refresh_from_db()
    assert sent.result == ScalingAction.Result.NOT_APPLIED
    assert sent.message == "Not on AWS after the worker stopped: sent again."
    again = ScalingAction.objects.get(
        plan=plan, result=ScalingAction.Result.OK, request__ScheduledActionName=sent.request["ScheduledActionName"]
    )
    assert again.pk > sent.pk


def test_a_refused_call_keeps_its_row_as_not_applied_with_the_reason(
    personas, fleet_event, proxy, moto_endpoint, django_capture_on_commit_callbacks
):
    plan = _approved_plan(fleet_event, personas)
    proxy.rule = storm(ACCESS_DENIED, length=1_000, after=1, operations=[BATCH_PUT])

    plan, _seconds = _apply(plan, personas, django_capture_on_commit_callbacks)

    assert plan.status == ScalingPlan.Status.FAILED
    refused = ScalingAction.objects.get(plan=plan, result=ScalingAction.Result.NOT_APPLIED)
    assert refused.operation == "BatchPutScheduledUpdateGroupAction"
    assert refused.message == plan.message
    assert not ScalingAction.objects.filter(plan=plan, result=ScalingAction.Result.SENT).exists()


# --- A real worker killed mid-apply (another process, PostgreSQL and Redis) ---------------------


@pytest.mark.integration
@workers.needs_postgres_and_redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_apply_leaves_the_plan_to_the_next_worker_without_duplicates(
    personas, fleet_event, proxy, moto_endpoint, tmp_path
):
    plan = _approved_plan(fleet_event, personas)
    broker_url = workers.isolated_broker(ISOLATED_BROKER_DB)
    # Slow AWS: a little latency on every call, and the ECS scale-up's answer held back for a second,
    # long after moto accepted it, so the worker dies in the worst place: AWS acted, the worker never heard.
    proxy.rule = combine(always(Latency(0.2)), storm(Latency(1.0, after_forwarding=True), length=1, operations=[PUT]))
    # Short, so the message of the killed worker is visible again when the next worker starts.
    env = workers.worker_env(broker_url=broker_url, aws_endpoint=proxy.url, visibility_timeout=1)
    output_path = tmp_path / "workers.log"
    started: list[subprocess.Popen] = []
    with output_path.open("w") as output:
        try:
            started.append(workers.start_worker("faults-first", env, output))
            with workers.publishing_to(broker_url):
                services.plan_apply(plan=plan, by=personas.engineer)  # enqueued at once: the test commits as it goes
            workers.wait_for(
                lambda: proxy.stats[PUT].forwarded >= 1, "an ECS scale-up to reach AWS", started, output_path
            )
            workers.kill(started[0])
            killed_at = time.monotonic()
            audited_before = list(ScalingAction.objects.filter(plan=plan).values_list("pk", "target__kind", "result"))
            held_at_kill = {target.name: len(_held_by_aws(target, moto_endpoint)) for target in plan.targets.all()}

            started.append(workers.start_worker("faults-second", env, output))
            workers.wait_for(
                lambda: ScalingPlan.objects.get(pk=plan.pk).status != ScalingPlan.Status.APPLYING,
                "the second worker to finish the plan",
                started[1:],
                output_path,
            )
            recovered = time.monotonic() - killed_at
        finally:
            for worker in started:
                workers.kill(worker)

    # Some but not all of the work was done and audited when the first worker died: the groups' calls answered,
    # and the ECS scale-up's call AWS accepted but the worker never heard back from, on record as "sent".
    assert audited_before
    assert [(kind, result) for _pk, kind, result in audited_before] == [
        *[("autoscaling_group", ScalingAction.Result.OK)] * 3,
        ("ecs_service", ScalingAction.Result.SENT),
    ]
    plan.refresh_from_db()
    assert plan.status == ScalingPlan.Status.APPLIED, plan.message
    _assert_every_target_scheduled(plan, moto_endpoint)
    # The second worker re-read the account: each step reached AWS once over both workers, no duplicate.
    assert names_that_reached_aws(proxy) == Counter(all_expected(plan))
    assert proxy.stats["sts:AssumeRole"].forwarded == 2  # two processes did the work
    # The audit keeps what the first worker did, and shows the second found those groups already in place.
    rows = ScalingAction.objects.filter(plan=plan)
    assert set(rows.values_list("pk", flat=True)) >= {pk for pk, *_ in audited_before}
    assert not rows.filter(result=ScalingAction.Result.ERROR).exists()
    unchanged = rows.filter(result=ScalingAction.Result.UNCHANGED)
    assert sorted(unchanged.values_list("target__name", flat=True)) == sorted(["lumiere-shop-web", *EXTRA_GROUPS])
    assert set(rows.values_list("target", flat=True)) == set(plan.targets.values_list("pk", flat=True))
    assert max(names_audited(plan).values()) == 1
    # Invariant 3: every step on AWS has the row of the call that made it, the dead worker's call included,
    # confirmed by the second worker from what AWS held; nothing is left "sent".
    assert names_audited(plan) == Counter(all_expected(plan))
    orphan = rows.get(pk=audited_before[-1][0])
    assert orphan.result == ScalingAction.Result.CONFIRMED
    assert orphan.message == "Found in place on AWS after the worker stopped."
    assert orphan.operation == "PutScheduledAction"
    assert not rows.filter(result=ScalingAction.Result.SENT).exists()
    resumed_at = min(exchange.at for exchange in proxy.exchanges if exchange.at > killed_at)
    log.info(
        "second worker called AWS %.2fs after the kill, plan applied after %.2fs; actions held at the kill: %s",
        resumed_at - killed_at, recovered, held_at_kill,
    )  # fmt: skip
