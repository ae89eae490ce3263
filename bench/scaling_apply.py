"""Plan and apply a scaling plan of N resources against moto's server; count the AWS calls and time the apply.

Run from the project root (SQLite in memory: everything runs in this one process):

    DEBUG=false SECRET_KEY=bench .venv/bin/python bench/scaling_apply.py [--resources 100] [--repeat 3]

It starts moto's server on a free loopback port (dummy credentials, ``AWS_ENDPOINT_URL`` pointing at it), seeds
the demo account plus N Auto Scaling groups and DynamoDB tables (with scalable targets), builds a stack of N
resources in a throwaway test database, then, ``--repeat`` times on a fresh plan: ``plan_create`` +
``plan_approve``, then times ``scaling.executor.plan_apply_now`` (called directly, no Celery), applies again (it
must make no mutating call), and times ``plan_unschedule_now``. Every AWS call the project's clients make is
counted with a botocore ``before-call`` hook. Target from the issue: at most resources x 3 calls, apply under 30 s.
It prints figures and always exits 0: it is a benchmark, not a test.

``--throttle`` adds fault scenario 6 (issue 8): the same apply through the fault proxy of
``tests/faults/aws_fault_proxy.py``, first as is, then with every other call of each operation answered
ThrottlingException, at each ``--latency`` (seconds added to every call), and prints the throttled time as a ratio of
the unthrottled one measured in the same run (target: at most 3x). Each throttled call costs a second round trip
and the wait before its retry (``cloud/retries.py``: 25 ms on average), so the ratio is about
``2 + 0.025 s / latency``; a small plan is enough, for example ``--resources 5 --throttle --latency 0 0.1 0.25``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from events.models import MediaEvent

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-3"
ACCOUNT_ID = "123456789012"  # moto's default account
TARGET_CALLS_PER_RESOURCE = 3
TARGET_APPLY_S = 30.0
ASG_UNIT_RPS = 250  # requests/s one instance serves, as in tests/scaling/test_plans.py
TABLE_UNIT_RPS = 20  # requests/s per read capacity unit
READ_PREFIXES = ("Describe", "List", "Get")
AWS_ENV = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL")


@dataclass
class CallCounter:
    """Count the AWS operations every project client makes (``before-call``) and the time spent inside them."""

    enabled: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    inside_ns: int = 0
    _started: threading.local = field(default_factory=threading.local)

    def before(self, model: Any, **_: Any) -> None:
        if self.enabled:
            self.calls[model.name] += 1
            self._started.at = time.perf_counter_ns()

    def after(self, model: Any, **_: Any) -> None:
        started = getattr(self._started, "at", None)
        if self.enabled and started is not None:
            self.inside_ns += time.perf_counter_ns() - started
            self._started.at = None

    @contextmanager
    def counting(self) -> Iterator[CallCounter]:
        """Count from a clean slate for the duration of the block; yield a snapshot holder (self)."""
        self.calls, self.inside_ns, self.enabled = Counter(), 0, True
        try:
            yield self
        finally:
            self.enabled = False


@dataclass
class Phase:
    """One measured call: its wall time, the AWS operations it made and the time spent waiting on them."""

    wall_s: float
    calls: Counter[str]
    inside_s: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def mutating(self) -> int:
        return sum(n for op, n in self.calls.items() if not op.startswith(READ_PREFIXES) and op != "AssumeRole")

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op.startswith(READ_PREFIXES))


@dataclass
class Round:
    automated: int
    scheduled_actions: int
    minimum: int
    on_aws: int
    apply: Phase
    again: Phase
    cancel: Phase
    audit_rows: int


def configure_django() -> None:
    """Point Django at the project with settings fit for a benchmark, before anything imports a model."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-throwaway-secret-key")
    os.environ.update(SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="testserver,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for name in AWS_ENV:
        os.environ.pop(name, None)
    # Dummy credentials; a developer's ~/.aws and an instance role must not leak in.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto accepts any
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def hook_clients(counter: CallCounter) -> Callable[[], None]:
    """Wrap ``cloud.client._new_client`` (where every client is made) so each new client reports its calls."""
    from cloud import client as cloud_client

    original = cloud_client._new_client

    def counted(session: Any, service: str, region: str) -> Any:
        new = original(session, service, region)
        new.meta.events.register("before-call", counter.before)
        new.meta.events.register("after-call", counter.after)
        return new

    cloud_client._new_client = counted
    cloud_client.reset_sessions()  # no client made before the hook survives

    def undo() -> None:
        cloud_client._new_client = original
        cloud_client.reset_sessions()

    return undo


def seed_aws(groups: int, tables: int) -> dict[str, Any]:
    """Seed the demo account, then ``groups`` Auto Scaling groups and ``tables`` tables with scalable targets."""
    from cloud.client import provider_client
    from cloud.simulation import seed_demo_account

    seeded = seed_demo_account(region=REGION)
    autoscaling = provider_client("autoscaling", REGION)
    for i in range(groups):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"bench-web-{i:03d}",
            MinSize=2,
            DesiredCapacity=2,
            MaxSize=6,
            LaunchTemplate={"LaunchTemplateId": seeded["launch_template_id"], "Version": "$Latest"},
            VPCZoneIdentifier=",".join(seeded["subnet_ids"]),
        )
    dynamodb = provider_client("dynamodb", REGION)
    app_scaling = provider_client("application-autoscaling", REGION)
    for i in range(tables):
        dynamodb.create_table(
            TableName=f"bench-table-{i:03d}",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        )
        app_scaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/bench-table-{i:03d}",
            ScalableDimension="dynamodb:table:ReadCapacityUnits",
            MinCapacity=5,
            MaxCapacity=100,
        )
    return seeded


def seed_django(seeded: dict[str, Any], groups: int, tables: int) -> tuple[User, MediaEvent]:
    """Create the organization, its verified account, the stack of resources (capacity read from AWS), the event."""
    from accounts.models import Organization, User
    from accounts.services import engineer_grant
    from cloud.client import provider_client
    from cloud.models import CloudAccount, StackResource
    from events.models import MediaEvent
    from stacks.models import Stack

    organization = Organization.objects.create(name="Bench", slug="bench", contact_email="ops@bench.example")
    CloudAccount.objects.create(
        organization=organization,
        role_arn=seeded["role_arn"],
        external_id=seeded["external_id"],
        status=CloudAccount.Status.VERIFIED,
        aws_account_id=ACCOUNT_ID,
        regions=[REGION],
    )
    stack = Stack.objects.create(
        organization=organization, name="Website", landing_url="https://www.bench.example/", normal_peak_rps=40
    )
    rows = []
    paginator = provider_client("autoscaling", REGION).get_paginator("describe_auto_scaling_groups")
    for page in paginator.paginate():
        for group in page["AutoScalingGroups"]:
            if not group["AutoScalingGroupName"].startswith("bench-web-"):
                continue
            rows.append(
                StackResource(
                    stack=stack,
                    kind=StackResource.Kind.AUTOSCALING_GROUP,
                    identifier=group["AutoScalingGroupARN"],
                    name=group["AutoScalingGroupName"],
                    region=REGION,
                    capacity={
                        "min": group["MinSize"],
                        "desired": group["DesiredCapacity"],
                        "max": group["MaxSize"],
                        "instance_types": ["t3.medium"],
                    },
                    unit_rps=ASG_UNIT_RPS,
                )
            )
    dynamodb = provider_client("dynamodb", REGION)
    for i in range(tables):
        table = dynamodb.describe_table(TableName=f"bench-table-{i:03d}")["Table"]
        rows.append(
            StackResource(
                stack=stack,
                kind=StackResource.Kind.DYNAMODB,
                identifier=table["TableArn"],
                name=table["TableName"],
                region=REGION,
                capacity={"min": 5, "desired": table["ProvisionedThroughput"]["ReadCapacityUnits"], "max": 100},
                unit_rps=TABLE_UNIT_RPS,
            )
        )
    if len(rows) != groups + tables:
        raise RuntimeError(f"expected {groups + tables} resources in the simulated account, found {len(rows)}")
    StackResource.objects.bulk_create(rows)
    engineer = engineer_grant(user=User.objects.create_user(email="engineer@provider.example", password=None))
    air_start = (time_now() + timedelta(days=3)).replace(second=0, microsecond=0)
    event = MediaEvent.objects.create(
        organization=organization,
        stack=stack,
        title="TV segment",
        air_start=air_start,
        air_end=air_start + timedelta(minutes=12),
        expected_audience=2_000_000,
        status=MediaEvent.Status.ACCEPTED,
        landing_urls=[stack.landing_url],
    )
    return engineer, event


def time_now() -> Any:
    from django.utils import timezone

    return timezone.now()


def measure(counter: CallCounter, call: Callable[[], object]) -> Phase:
    with counter.counting():
        started = time.perf_counter_ns()
        call()
        wall_ns = time.perf_counter_ns() - started
    return Phase(wall_ns / 1e9, Counter(counter.calls), counter.inside_ns / 1e9)


def one_round(counter: CallCounter, engineer: User, event: MediaEvent) -> Round:
    """Plan, approve, apply (timed), apply again (timed) and unschedule (timed) one fresh plan."""
    from cloud.client import reset_sessions
    from scaling import executor, services
    from scaling.models import ScalingAction, ScalingPlan

    Status = ScalingPlan.Status
    plan = services.plan_create(event=event, by=engineer)
    plan = services.plan_approve(plan=plan, by=engineer)
    automated = [target for target in plan.targets.all() if target.is_automated()]
    actions = sum(1 + len(target.revert_steps) for target in automated)
    # What plan_apply does before it enqueues the task (without Celery).
    ScalingPlan.objects.filter(pk=plan.pk).update(status=Status.APPLYING, message="")
    reset_sessions()  # every round starts as a fresh worker: one AssumeRole, new clients
    apply = measure(counter, lambda: executor.plan_apply_now(plan_id=plan.pk, actor_id=engineer.pk))
    plan.refresh_from_db()
    if plan.status != Status.APPLIED:
        print(f"! plan {plan.pk} ended {plan.status}: {plan.message}")
    on_aws = sum(len(changes) for changes in executor.plan_scheduled_on_aws(plan).values())
    ScalingPlan.objects.filter(pk=plan.pk).update(status=Status.APPLYING)
    again = measure(counter, lambda: executor.plan_apply_now(plan_id=plan.pk, actor_id=engineer.pk))
    # What plan_cancel does before it enqueues the task.
    ScalingPlan.objects.filter(pk=plan.pk).update(status=Status.CANCELLED, cancelled_at=time_now())
    cancel = measure(counter, lambda: executor.plan_unschedule_now(plan_id=plan.pk, actor_id=engineer.pk))
    left = sum(len(changes) for changes in executor.plan_scheduled_on_aws(plan).values())
    if left:
        print(f"! plan {plan.pk}: {left} scheduled actions left on AWS after plan_unschedule_now")
    return Round(
        automated=len(automated),
        scheduled_actions=actions,
        # One Describe per target, then one batch Put per Auto Scaling group (up to 50 actions)
        # and one Put per action on Application Auto Scaling, which has no batch call.
        minimum=len(automated)
        + sum(1 if target.kind == "autoscaling_group" else len(target.revert_steps) + 1 for target in automated),
        on_aws=on_aws,
        apply=apply,
        again=again,
        cancel=cancel,
        audit_rows=ScalingAction.objects.filter(plan=plan).count(),
    )


def throttled_rounds(args: argparse.Namespace, counter: CallCounter, engineer: User, event: MediaEvent) -> None:
    """Fault scenario 6: the apply with every other call throttled against the same apply, per added latency."""
    from django.conf import settings
    from django.test.utils import override_settings

    from tests.faults.aws_fault_proxy import THROTTLING, AwsFaultProxy, Latency, always, combine, every_other

    target = 3.0
    print("\nthrottling (fault scenario 6): every other call of each operation answered ThrottlingException")
    header = f"{'latency':>8}{'normal s':>10}{'throttled s':>13}{'throttled calls':>17}{'ratio':>8}"
    print(f"{header}  target <= {target:g}x")
    with AwsFaultProxy(settings.AWS_ENDPOINT_URL) as proxy, override_settings(AWS_ENDPOINT_URL=proxy.url):
        for latency in args.latency:
            slow = always(Latency(latency)) if latency else None
            walls: dict[str, list[float]] = {"normal": [], "throttled": []}
            throttled_calls = 0
            for name in ("normal", "throttled"):
                for _ in range(args.repeat):
                    proxy.reset()
                    rules = [rule for rule in (slow, every_other(THROTTLING) if name == "throttled" else None) if rule]
                    proxy.rule = combine(*rules) if rules else None
                    walls[name].append(one_round(counter, engineer, event).apply.wall_s)
                    throttled_calls = sum(stats.faulted for stats in proxy.stats.values()) if name == "throttled" else 0
            normal, throttled = statistics.median(walls["normal"]), statistics.median(walls["throttled"])
            ratio = throttled / normal
            verdict = "meets" if ratio <= target else "misses"
            figures = f"{latency * 1000:>6.0f}ms{normal:>10.2f}{throttled:>13.2f}{throttled_calls:>17}{ratio:>7.1f}x"
            print(f"{figures}  {verdict}")
    print("throttled calls: those of the last round (apply, apply again, unschedule); times are the apply's median")


def by_operation(calls: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(calls.items(), key=lambda item: (-item[1], item[0]))) or "none"


def print_rounds(rounds: list[Round], resources: int) -> None:
    """Print each round's phases, the median line and the verdicts against the issue's targets."""
    header = f"{'round':<8}{'phase':<10}{'wall s':>8}{'in AWS s':>10}{'calls':>7}{'mutating':>10}{'reads':>7}"
    print(f"\n{header}  by operation")
    for index, item in enumerate(rounds, start=1):
        for name, phase in (("apply", item.apply), ("again", item.again), ("cancel", item.cancel)):
            print(
                f"{index:<8}{name:<10}{phase.wall_s:>8.2f}{phase.inside_s:>10.2f}{phase.total:>7}"
                f"{phase.mutating:>10}{phase.reads:>7}  {by_operation(phase.calls)}"
            )
    first = rounds[0]
    print(
        f"\nper plan: {first.automated} automated targets of {resources} resources, {first.scheduled_actions} "
        f"scheduled actions planned, {first.on_aws} found on AWS after apply, {first.audit_rows} audit rows"
    )
    print(f"minimum calls the plan needs: {first.minimum} (one Describe per target; one batch Put per group)")
    print(f"\nmedian of {len(rounds)}{'':<8}{'wall s':>8}{'in AWS s':>10}{'calls':>7}{'mutating':>10}  target")
    limit = resources * TARGET_CALLS_PER_RESOURCE
    for name in ("apply", "again", "cancel"):
        phases: list[Phase] = [getattr(item, name) for item in rounds]
        wall = statistics.median(p.wall_s for p in phases)
        inside = statistics.median(p.inside_s for p in phases)
        calls = statistics.median(p.total for p in phases)
        mutating = statistics.median(p.mutating for p in phases)
        line = f"{name:<18}{wall:>8.2f}{inside:>10.2f}{calls:>7g}{mutating:>10g}"
        if name == "apply":
            ratio = calls / resources
            calls_verdict = "meets" if calls <= limit else "misses"
            wall_verdict = "meets" if wall < TARGET_APPLY_S else "misses"
            line += (
                f"  calls/resources {ratio:.2f} vs <= {TARGET_CALLS_PER_RESOURCE}: {calls_verdict} "
                f"({calls:g} vs {limit}; minimum {first.minimum} = {first.minimum / resources:.2f}x); "
                f"wall < {TARGET_APPLY_S:g} s: {wall_verdict}"
            )
        elif name == "again":
            line += f"  idempotent: {'0 mutating, meets' if mutating == 0 else 'mutating calls, misses'}"
        print(line)


def run(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment, teardown_test_environment
    from moto.server import ThreadedMotoServer

    tables = args.resources * 3 // 10 if args.tables is None else args.tables
    groups = args.resources - tables
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with ExitStack() as cleanup:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        cleanup.callback(server.stop)
        host, port = server.get_host_and_port()
        overrides = override_settings(
            AWS_ENDPOINT_URL=f"http://{host}:{port}",
            AWS_SIMULATED_ACCOUNT=True,
            AWS_DEFAULT_REGION=REGION,
            PROVIDER_AWS_ACCOUNT_ID=ACCOUNT_ID,
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench"}},
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        )
        overrides.enable()
        cleanup.callback(overrides.disable)
        counter = CallCounter()
        cleanup.callback(hook_clients(counter))
        setup_test_environment()
        cleanup.callback(teardown_test_environment)
        old_name = connection.settings_dict["NAME"]
        if connection.vendor != "sqlite":
            connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_bench_scaling"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        cleanup.callback(connection.creation.destroy_test_db, old_name, verbosity=0)

        import moto

        print(f"database {connection.vendor} ({connection.settings_dict['NAME']}), moto {moto.__version__} in-process")
        print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load {' '.join(load_average())}")
        print(f"N = {args.resources} resources ({groups} Auto Scaling groups, {tables} DynamoDB tables), "
              f"--repeat {args.repeat}")  # fmt: skip
        started = time.perf_counter()
        seeded = seed_aws(groups, tables)
        engineer, event = seed_django(seeded, groups, tables)
        print(f"seeding (moto, database) took {time.perf_counter() - started:.1f} s ({settings.AWS_ENDPOINT_URL})")
        rounds = [one_round(counter, engineer, event) for _ in range(args.repeat)]
        print_rounds(rounds, args.resources)
        print("in AWS s: time between botocore's before-call and after-call (moto answers in this process)")
        if args.throttle:
            throttled_rounds(args, counter, engineer, event)


def load_average() -> list[str]:
    try:
        return [f"{value:.2f}" for value in os.getloadavg()]
    except OSError:
        return ["?"]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--resources", type=int, default=100)
    parser.add_argument("--tables", type=int, default=None, help="DynamoDB tables among them (default 30 %%)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--throttle", action="store_true", help="fault scenario 6: throttle every other call")
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0], help="seconds added to each call")
    args = parser.parse_args()
    configure_django()
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
