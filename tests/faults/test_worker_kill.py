"""Fault scenario 1: the Celery worker is killed (``kill -9``) while 200 operations are in flight on Redis.

100 events of one client, each with a small stack of its own in the simulated account (an Auto Scaling group
and an ECS service; moto's server behind the fault proxy), get their approved scaling plan applied; 100 events
of another client, each with a landing page of its own on a local HTTP server, get a readiness run. All 200 are
enqueued on a Redis database of this test's own and one worker (prefork, 2 processes) takes them. Once a
quarter are done, and the worker holds a readiness batch and an apply whose last call AWS has just accepted
(after the group's batch call, or after one or two of the ECS service's calls, in turn by run), its whole
process group is killed with SIGKILL; once the visibility timeout has passed a new worker starts, finds the
dead worker's messages visible again, and finishes everything. About 50 s on 2 cores, setup included.

Figures (printed with ``-s``):

- lost operations: plans not applied, or applied without every scheduled action on AWS; readiness runs not
  completed, or with a finding missing;
- duplicate effects: scheduled actions that reached AWS twice (the fault proxy's log) or that the simulated
  account holds twice or beyond the plans'; readiness findings stored twice; a readiness batch run twice (more
  requests than one run makes, to the page of a run whose batch the dead worker did not hold);
- finished within the visibility window: the operations the dead worker held, finished within the visibility
  timeout plus the time a worker takes to start and do them (``WINDOW_MARGIN``); and when all were done.

CI runs it once. The benchmark mode runs it ``WORKER_KILL_RUNS`` times in one session (``bench/worker_kill.py``
sets it to 10 and tables the figures, which each run appends to the JSON-lines file ``WORKER_KILL_FIGURES``).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from cloud.client import provider_client
from cloud.inventory import discover
from cloud.models import StackResource
from cloud.resources import ResourceKind
from cloud.scaling import plan_prefix
from cloud.simulation import seed_demo_account
from events.models import MediaEvent
from readiness import services as readiness_services
from readiness.models import CheckResult, Outcome, ReadinessRun
from scaling import services as scaling_services
from scaling.models import PlanTarget, ScalingAction, ScalingPlan
from stacks.models import Stack
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import REGION, add_autoscaling_group, add_ecs_service, link_demo_account
from tests.faults import aws_fault_proxy, workers
from tests.faults.aws_fault_proxy import AwsFaultProxy, Latency, always
from tests.faults.scheduled_actions import (
    all_expected,
    names_audited,
    names_held,
    names_that_reached_aws,
    steps,
)
from tests.probes import Handler, respond, serve

aws = cloud_fixtures.aws
fault_proxy = aws_fault_proxy.fault_proxy

APPLIES = 100
READINESS_RUNS = 100
BROKER_DB = 14  # the Redis database of this scenario's broker (tests/faults/test_apply_faults.py's has 15)
CONCURRENCY = 2
KILL_AFTER = (APPLIES + READINESS_RUNS) // 4  # operations done before the kill
VISIBILITY_TIMEOUT = 2  # seconds: the new worker starts once the dead worker's messages are visible again
WINDOW_MARGIN = 15  # seconds after the visibility timeout for a worker to start and finish what was held
FINISH_SECONDS = 90  # the bound on the whole recovery
AWS_LATENCY = 0.02  # seconds per AWS call: applies spend their time waiting on AWS, as they do for real
PAGE_DELAY = 0.02  # seconds per landing-page answer
# What one readiness run sends to its landing page: one fetch shared by the checks, a burst of 10.
REQUESTS_PER_RUN = 11
CLUSTER = "shops"
NOTHING = {"unacked": 0, "queued": 0}  # what the broker holds once every message is acknowledged
REPEAT = int(os.environ.get("WORKER_KILL_RUNS") or 1)
FIGURES_FILE = os.environ.get("WORKER_KILL_FIGURES")
APPLY_TASK = "aws.apply_scaling_plan"
CHECK_TASKS = {"probes.readiness_checks", "aws.readiness_checks"}


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback for this module (see tests/scaling/test_plans.py)."""
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


# --- 100 approved plans, each on a stack of its own ----------------------------------------


def _shop(index: int) -> str:
    return f"shop-{index:03d}"


def _seed_shops(seeded: dict, count: int) -> None:
    """Create, per shop, an Auto Scaling group and an ECS service with its scalable target, in moto directly."""
    ecs = provider_client("ecs", REGION)
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(family="shop", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 512}])
    for index in range(count):
        add_autoscaling_group(seeded, f"{_shop(index)}-web")
        add_ecs_service(CLUSTER, f"{_shop(index)}-api", task_definition="shop", size=2)


@pytest.fixture
def began() -> float:
    """Return when the test began, setup included."""
    return time.monotonic()


@pytest.fixture
def plans(began, personas, aws) -> dict[int, ScalingPlan]:
    """Approved plans, one per shop, on the simulated account (seeded on moto directly, before the proxy)."""
    return {plan.pk: plan for plan in _approved_plans(personas, APPLIES)}


@pytest.fixture
def proxy(plans, fault_proxy) -> AwsFaultProxy:
    """The fault proxy in front of moto, counting from the applies on, each call a little slow."""
    fault_proxy.reset()
    fault_proxy.rule = always(Latency(AWS_LATENCY))
    return fault_proxy


def _approved_plans(personas, count: int) -> list[ScalingPlan]:
    """Link the account, give each shop a stack of its two resources (as discovered) and an event, plan, approve."""
    organization = personas.organization
    seeded = seed_demo_account(region=REGION)
    _seed_shops(seeded, count)
    account = link_demo_account(organization, seeded)
    kinds = [ResourceKind.autoscaling_group, ResourceKind.ecs_service]
    found = discover(account.role_link(), REGION, kinds=kinds, include_global=False).resources
    stacks = Stack.objects.bulk_create(
        Stack(organization=organization, name=_shop(index), landing_url=f"https://{_shop(index)}.example/",
              normal_peak_rps=40)
        for index in range(count)
    )  # fmt: skip
    by_shop = {stack.name: stack for stack in stacks}
    StackResource.objects.bulk_create(
        StackResource(
            stack=by_shop[resource.name.rsplit("-", 1)[0]], kind=resource.kind, identifier=resource.identifier,
            name=resource.name, region=REGION, capacity=resource.capacity, details=resource.details,
            unit_rps=250 if resource.kind == ResourceKind.autoscaling_group else 100,
        )
        for resource in found
        if resource.name.rsplit("-", 1)[0] in by_shop
    )  # fmt: skip
    events = _events(organization, stacks, [[stack.landing_url] for stack in stacks])
    plans = []
    for event in events:
        plan = scaling_services.plan_create(event=event, by=personas.engineer)
        plans.append(scaling_services.plan_approve(plan=plan, by=personas.engineer))
    assert all(plan.targets.count() == 2 for plan in plans)
    return plans


def _events(organization, stacks: list[Stack], landing_urls: list[list[str]]) -> list[MediaEvent]:
    """Create accepted events three days ahead (as tests/tenancy_matrix.make_event does), one per stack."""
    air_start = timezone.now() + timedelta(days=3)
    return MediaEvent.objects.bulk_create(
        MediaEvent(
            organization=organization, stack=stack, title=f"Segment of {stack.name}", air_start=air_start,
            air_end=air_start + timedelta(minutes=12), expected_audience=2_000_000,
            status=MediaEvent.Status.ACCEPTED, landing_urls=urls,
        )
        for stack, urls in zip(stacks, landing_urls, strict=True)
    )  # fmt: skip


# --- 100 readiness runs, each on a landing page of its own --------------------------------


def _landing_page(handler: Handler) -> None:
    handler.server.stop.wait(PAGE_DELAY)
    body = b"<!doctype html><html><head><title>Shop</title></head><body>" + b"<p>Bienvenue</p>" * 50 + b"</body></html>"
    respond(handler, 200, body, [("Content-Type", "text/html; charset=utf-8")])


def _landing_path(index: int) -> str:
    return f"/landing/{index:03d}"


def _readiness_events(personas, base_url: str, count: int) -> list[MediaEvent]:
    """Events of the other client (no AWS account: the HTTP checks, the account and capacity checks)."""
    stack = Stack.objects.create(
        organization=personas.other_organization, name="Website", landing_url=f"{base_url}/", normal_peak_rps=40
    )
    return _events(
        personas.other_organization, [stack] * count, [[f"{base_url}{_landing_path(index)}"] for index in range(count)]
    )


# --- What happened ---------------------------------------------------------------------------


def _finished(plan_ids: list[int], run_ids: list[int]) -> int:
    """Count the operations finished: plans no longer applying (applied, or failed), runs completed."""
    applied = ScalingPlan.objects.filter(pk__in=plan_ids).exclude(status=ScalingPlan.Status.APPLYING).count()
    completed = ReadinessRun.objects.filter(pk__in=run_ids, status=ReadinessRun.Status.COMPLETED).count()
    return applied + completed


def _kill_point(plans: dict[int, ScalingPlan], run: int) -> int:
    """Return how many of the held plan's steps should be on AWS when the worker dies, taking turns by run.

    After the group's one batch call, or after one, two, ... of the ECS service's calls (one per step, the
    last revert first): each a moment where AWS has acted and the worker is about to read the answer.
    """
    targets = next(iter(plans.values())).targets.order_by("kind")  # autoscaling_group, then ecs_service
    group, service = (len(steps(target)) for target in targets)
    return group + (run - 1) % service


def _wait_for_the_worst_moment(
    broker_url: str, proxy: AwsFaultProxy, expected: dict[int, set[str]], kill_point: int
) -> None:
    """Wait (a few seconds at most) until the worker holds a readiness batch and an apply ``kill_point`` steps in.

    The proxy counts a call as soon as moto has answered it, before the worker reads the answer: killed
    then, the worker dies with a call AWS accepted and whose answer it never read.
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        held = workers.unacknowledged(broker_url)
        if any(message.task in CHECK_TASKS for message in held):
            reached = set(names_that_reached_aws(proxy))
            applies = [message.args[0] for message in held if message.task == APPLY_TASK]
            if any(len(expected[plan_id] & reached) == kill_point for plan_id in applies):
                return
        time.sleep(0.005)
    # Not this time: kill with whatever the worker holds.
    deadline = time.monotonic() + 5
    while not workers.unacknowledged(broker_url) and time.monotonic() < deadline:
        time.sleep(0.005)


@dataclass
class AtTheKill:
    """What the dead worker held (the messages it took and never acknowledged), and how far it had got."""

    at: datetime
    done: int  # operations finished
    messages: int
    plans: set[int]  # the plans whose apply it held
    batches: dict[int, list[int]]  # the check results of the readiness batches it held, by run
    progress: str

    @classmethod
    def read(cls, broker_url, plan_ids, run_ids, expected, moto_endpoint) -> AtTheKill:
        at, done = timezone.now(), _finished(plan_ids, run_ids)
        held = workers.unacknowledged(broker_url)
        plans = {message.args[0] for message in held if message.task == APPLY_TASK}
        batches: dict[int, list[int]] = {}
        for message in held:
            if message.task in CHECK_TASKS:
                result_ids = message.args[0]
                batches.setdefault(CheckResult.objects.get(pk=result_ids[0]).run_id, []).extend(result_ids)
        on_aws = names_held(moto_endpoint)
        progress = [
            f"plan {plan_id}: {sum(name in on_aws for name in expected[plan_id])}/{len(expected[plan_id])} steps on AWS"
            for plan_id in sorted(plans)
        ]
        for run_id, result_ids in sorted(batches.items()):
            results = CheckResult.objects.filter(pk__in=result_ids)
            done_checks = results.exclude(outcome=Outcome.PENDING).count()
            under_way = results.filter(outcome=Outcome.PENDING, started_at__isnull=False).count()
            progress.append(f"run {run_id}: {done_checks}/{len(result_ids)} checks done, {under_way} under way")
        return cls(at, done, len(held), plans, batches, ", ".join(progress) or "nothing")

    def finished_at(self) -> list[datetime | None]:
        """Return when each held message's work was done: the plan applied, the batch's last check finished.

        A run's other batch waits its turn in its own queue, behind the rest: the held batch is what the
        dead worker had, and what the visibility timeout is about.
        """
        plans = ScalingPlan.objects.filter(pk__in=self.plans).values_list("applied_at", flat=True)
        finished = CheckResult.objects.values_list("finished_at", flat=True)
        checks = [list(finished.filter(pk__in=result_ids)) for result_ids in self.batches.values()]
        return [*plans, *(None if None in times else max(times) for times in checks)]


def _finish_times(plan_ids: list[int], run_ids: list[int]) -> list[datetime | None]:
    """Return when each operation finished: a plan applied, a run completed (None: not finished)."""
    applied = ScalingPlan.objects.filter(pk__in=plan_ids).values_list("applied_at", flat=True)
    completed = ReadinessRun.objects.filter(pk__in=run_ids).values_list("finished_at", flat=True)
    return [*applied, *completed]


def _lost(expected: dict[int, set[str]], run_ids: list[int], on_aws: Counter[str]) -> tuple[list[int], list[int]]:
    """Return the plans not applied, or applied without every step on AWS, and the runs not completed."""
    statuses = dict(ScalingPlan.objects.filter(pk__in=expected).values_list("pk", "status"))
    plans = [pk for pk, names in expected.items() if statuses[pk] != ScalingPlan.Status.APPLIED or names - set(on_aws)]
    unfinished = CheckResult.objects.filter(run__in=run_ids, outcome=Outcome.PENDING).values_list("run_id", flat=True)
    completed = ReadinessRun.objects.filter(pk__in=run_ids, status=ReadinessRun.Status.COMPLETED)
    runs = sorted(set(run_ids) - set(completed.values_list("pk", flat=True)) | set(unfinished))
    return plans, runs


def _aws_duplicates(expected: dict[int, set[str]], reached: Counter[str], on_aws: Counter[str]) -> Counter[str]:
    """Count the plans' actions done twice: accepted by AWS twice, held twice, or held and not one of the steps."""
    ours = tuple(plan_prefix(plan_id) for plan_id in expected)
    steps = set().union(*expected.values())
    twice = Counter({name: count - 1 for name, count in reached.items() if count > 1})
    twice.update({name: count - 1 for name, count in on_aws.items() if name.startswith(ours) and count > 1})
    twice.update(name for name in on_aws if name.startswith(ours) and name not in steps)
    return twice


def _readiness_duplicates(run_ids: list[int], held_runs: set[int], hits: Counter[str]) -> tuple[int, list[int]]:
    """Return the findings stored beyond the checks planned, and the runs whose page had more requests than one
    run sends although the dead worker held none of their checks (a batch run twice)."""
    findings = Counter(CheckResult.objects.filter(run__in=run_ids).values_list("run_id", flat=True))
    planned = dict(ReadinessRun.objects.filter(pk__in=run_ids).values_list("pk", "total_checks"))
    extra = sum(max(0, findings[run_id] - planned[run_id]) for run_id in run_ids)
    paths = {run_id: _landing_path(index) for index, run_id in enumerate(run_ids)}
    twice = [run_id for run_id in run_ids if run_id not in held_runs and hits[paths[run_id]] > REQUESTS_PER_RUN]
    return extra, twice


# --- Figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    run: int
    operations: int
    done_at_kill: int
    held_applies: int  # messages the dead worker held: applies ...
    held_batches: int  # ... and readiness batches (one target's checks)
    held_progress: str  # what the held operations had done at the kill
    lost: int
    aws_duplicates: int  # scheduled actions that reached AWS twice, or held twice or beyond the plans'
    readiness_duplicates: int  # findings stored twice, batches run twice
    held_done_after_s: float | None  # from the kill to the last held operation finished (None: one never did)
    window_s: float  # the visibility timeout plus WINDOW_MARGIN
    held_within_window: int
    all_done_after_s: float | None  # from the kill to the last operation finished (None: one never did)
    redone_page_requests: int  # requests sent again for the runs whose batch the dead worker held
    unaudited_steps: int  # plan steps on AWS without an audit row of the call that made them (invariant 3)
    seconds: float  # the whole test, setup included

    @property
    def duplicates(self) -> int:
        return self.aws_duplicates + self.readiness_duplicates

    def line(self) -> str:
        held = self.held_applies + self.held_batches
        held_done = "not all" if self.held_done_after_s is None else f"{self.held_done_after_s:.1f}s"
        all_done = "not all" if self.all_done_after_s is None else f"{self.all_done_after_s:.1f}s"
        return (
            f"[scenario 1, run {self.run}/{REPEAT}] {self.operations} operations ({APPLIES} plan applies, "
            f"{READINESS_RUNS} readiness runs); killed after {self.done_at_kill} done, holding {self.held_applies} "
            f"apply(ies) and {self.held_batches} readiness batch(es) ({self.held_progress}); lost {self.lost}; "
            f"duplicate effects {self.duplicates} (AWS {self.aws_duplicates}, readiness {self.readiness_duplicates}); "
            f"held operations finished {held_done} after the kill, {self.held_within_window} of {held} within the "
            f"window of {self.window_s:g}s (visibility timeout {VISIBILITY_TIMEOUT}s + {WINDOW_MARGIN}s); all "
            f"{self.operations} done {all_done} after the kill; {self.redone_page_requests} page requests redone; "
            f"{self.unaudited_steps} steps on AWS without their audit row; {self.seconds:.1f}s in all"
        )


def _after(killed_at: datetime, times: list[datetime | None]) -> float | None:
    return None if None in times else round(max((at - killed_at).total_seconds() for at in times), 2)


def _write(figures: Figures) -> None:
    print("\n" + figures.line())
    if FIGURES_FILE:
        with Path(FIGURES_FILE).open("a") as out:
            out.write(json.dumps(asdict(figures)) + "\n")


# --- The scenario -------------------------------------------------------------------------------


@pytest.mark.integration
@workers.needs_postgres_and_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(1, REPEAT + 1))
def test_a_worker_killed_with_200_operations_in_flight_loses_none_and_does_none_twice(
    run, began, personas, plans, proxy, moto_endpoint, tmp_path
):
    broker_url = workers.isolated_broker(BROKER_DB)
    env = workers.worker_env(
        broker_url=broker_url,
        aws_endpoint=proxy.url,
        visibility_timeout=VISIBILITY_TIMEOUT,
        NETGUARD_ALLOW_LOOPBACK="true",  # the landing pages are on loopback (invariant 5's explicit test setting)
    )
    output_path = tmp_path / "workers.log"
    started: list[subprocess.Popen] = []
    expected = {plan_id: all_expected(plan) for plan_id, plan in plans.items()}
    plan_ids, run_ids = list(plans), []
    routes = {_landing_path(index): _landing_page for index in range(READINESS_RUNS)}
    with serve(routes) as pages, output_path.open("w") as output:
        try:
            # The worker starts while the operations are enqueued, and takes them as they come.
            started.append(workers.start_worker("faults-kill-first", env, output, concurrency=CONCURRENCY))
            events = _readiness_events(personas, pages.url, READINESS_RUNS)
            with workers.publishing_to(broker_url):
                # Interleaved, as an engineer's applies and the milestones' runs would come.
                for plan, event in zip(plans.values(), events, strict=True):
                    scaling_services.plan_apply(plan=plan, by=personas.engineer)
                    run_ids.append(readiness_services.run_start(event=event, by=personas.engineer).pk)
            operations = len(plan_ids) + len(run_ids)
            workers.wait_for(
                lambda: _finished(plan_ids, run_ids) >= KILL_AFTER,
                f"{KILL_AFTER} operations done",
                started,
                output_path,
                interval=0.05,
            )
            _wait_for_the_worst_moment(broker_url, proxy, expected, _kill_point(plans, run))
            workers.kill(started[0])
            killed = AtTheKill.read(broker_url, plan_ids, run_ids, expected, moto_endpoint)

            time.sleep(max(0.0, (killed.at - timezone.now()).total_seconds() + VISIBILITY_TIMEOUT))
            started.append(workers.start_worker("faults-kill-second", env, output, concurrency=CONCURRENCY))
            # Bounded: what is not done by then is counted lost below, and the figures still printed.
            workers.settle(
                lambda: _finished(plan_ids, run_ids) == operations and workers.messages_left(broker_url) == NOTHING,
                started[1:],
                output_path,
                timeout=FINISH_SECONDS,
                interval=0.1,
            )
            left = workers.messages_left(broker_url)
        finally:
            for worker in started:
                workers.kill(worker)
            redis.Redis.from_url(broker_url).flushdb()
        hits = Counter(seen.path.split("?")[0] for seen in pages.seen)

    on_aws, reached = names_held(moto_endpoint), names_that_reached_aws(proxy)
    lost_plans, lost_runs = _lost(expected, run_ids, on_aws)
    aws_twice = _aws_duplicates(expected, reached, on_aws)
    extra_findings, batches_twice = _readiness_duplicates(run_ids, set(killed.batches), hits)
    held_finished = killed.finished_at()
    window = VISIBILITY_TIMEOUT + WINDOW_MARGIN
    figures = Figures(
        run=run,
        operations=operations,
        done_at_kill=killed.done,
        held_applies=len(killed.plans),
        held_batches=killed.messages - len(killed.plans),
        held_progress=killed.progress,
        lost=len(lost_plans) + len(lost_runs),
        aws_duplicates=sum(aws_twice.values()),
        readiness_duplicates=extra_findings + len(batches_twice),
        held_done_after_s=_after(killed.at, held_finished),
        window_s=window,
        held_within_window=sum(at is not None and (at - killed.at).total_seconds() <= window for at in held_finished),
        all_done_after_s=_after(killed.at, _finish_times(plan_ids, run_ids)),
        redone_page_requests=sum(hits[_landing_path(run_ids.index(pk))] - REQUESTS_PER_RUN for pk in killed.batches),
        unaudited_steps=len(set().union(*expected.values()) - set(names_audited(*plan_ids))),
        seconds=round(time.monotonic() - began, 1),
    )
    _write(figures)

    assert killed.messages, "the worker held nothing when it was killed: nothing was in flight"
    assert killed.done < operations, "everything was done before the kill"
    assert (lost_plans, lost_runs) == ([], []), "lost"
    assert sum(reached.values()) >= len(set().union(*expected.values())), "fewer steps reached AWS than planned"
    assert aws_twice == Counter(), "done twice on AWS"
    assert extra_findings == 0
    assert batches_twice == [], {run_id: hits[_landing_path(run_ids.index(run_id))] for run_id in batches_twice}
    assert figures.held_within_window == len(held_finished), "not within the visibility window"
    assert left == NOTHING
    # Invariant 3 under kill -9: the call the dead worker never heard back from has its row, written "sent"
    # before the call, and the next worker confirmed it from what AWS holds; no row is left "sent".
    assert figures.unaudited_steps == 0, "steps on AWS without their audit row"
    actions = ScalingAction.objects.filter(plan__in=plan_ids)
    assert not actions.filter(result=ScalingAction.Result.SENT).exists()
    assert not actions.filter(result=ScalingAction.Result.ERROR).exists()
    recorded = (*ScalingAction.ON_AWS, ScalingAction.Result.UNCHANGED)
    assert not PlanTarget.objects.filter(plan__in=plan_ids).exclude(actions__result__in=recorded).exists()
