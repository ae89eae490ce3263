"""Time readiness runs of a large stack against the sum of their checks' own times (the serial baseline).

Run from the project root, with PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) up:

    DEBUG=false SECRET_KEY=bench .venv/bin/python bench/readiness_run.py \
        [--urls 50] [--resources 30] [--delay-ms 50-200] [--repeat 3] [--timeout 300] [--no-serial-run]

It starts landing pages on 127.0.0.1 (threads, answers after a seeded random delay), moto's server on a free loopback
port (the demo stack plus tagged extras), a throwaway database (PostgreSQL ``primetime_bench_readiness``, or a temporary
SQLite file when DATABASE_URL is sqlite://) and two Celery worker processes on Redis database 7; it starts runs with
``readiness.services.run_start`` and reads their results, then (unless --no-serial-run) runs every check once more one
at a time in this process. Everything is stopped and dropped at the end, on Ctrl-C too. It prints figures, exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "primetime_bench_readiness"
BROKER_URL = "redis://127.0.0.1:6379/7"  # not 0 or 1: the developers' own
REGION, TAG = "eu-west-3", "shop"
DEMO_RESOURCES = 7  # what seed_demo_account tags: ASG, ALB, target group, RDS, ElastiCache, CloudFront, DynamoDB
TARGET = 10.0  # % of the serial time, with two worker processes
URLS_PER_SERVER = 10
WORKERS = {
    "probes": ["--queues=probes", "--pool=threads", "--concurrency=32"],
    "aws": ["--queues=aws,default", "--pool=threads", "--concurrency=16"],
}
PAGE = (
    "<!doctype html><html lang=fr><head><title>Maison Lumière</title><link rel=stylesheet href=/s.css>"
    "<script src=/app.js></script></head><body><h1>La lampe vue à la télé</h1><img src=/lamp.jpg></body></html>"
).encode()


def start_landing(count: int, delay_ms: tuple[int, int], stack: contextlib.ExitStack) -> list[str]:
    """Serve `count` landing paths, 10 per server; every answer waits a random delay (seeded RNG)."""
    rng, lock = random.Random(2016), threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                delay = rng.uniform(*delay_ms) / 1000
            time.sleep(delay)
            self.send_response(200)
            for header in (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(PAGE)))):
                self.send_header(*header)
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    # The listen backlog (5 by default) must hold the bursts of 32 probe threads.
    landing = type("Landing", (ThreadingHTTPServer,), {"daemon_threads": True, "request_queue_size": 256})
    urls = []
    for first in range(0, count, URLS_PER_SERVER):
        server = landing(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, name=f"landing-{first}", daemon=True).start()
        stack.callback(server.server_close)
        stack.callback(server.shutdown)
        base = f"http://127.0.0.1:{server.server_address[1]}/landing"
        urls += [f"{base}/{i:03d}" for i in range(first, min(first + URLS_PER_SERVER, count))]
    return urls


def spawn(name: str, command: list[str], logs: Path, stack: contextlib.ExitStack) -> subprocess.Popen:
    """Start a process in its own session (Ctrl-C reaches only us); stop it with SIGTERM, SIGKILL after 10 s."""
    log = (logs / f"{name}.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        log.close()

    stack.callback(stop)
    return process


def bench_database(stack: contextlib.ExitStack) -> str:
    """Return the URL of a fresh database: a temporary SQLite file, or PostgreSQL's BENCH_DB (dropped at exit)."""
    given = os.environ.get("DATABASE_URL", "")
    if given.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="bench-readiness-")
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        return f"sqlite:///{folder}/bench.sqlite3"
    import psycopg

    parts = urlsplit(given or "postgres://postgres@127.0.0.1:5432/postgres")
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()

    def execute(*statements: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    # Dropped first too: a run killed with SIGKILL leaves it behind.
    execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)', f'CREATE DATABASE "{BENCH_DB}"')
    stack.callback(execute, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    return parts._replace(path=f"/{BENCH_DB}").geturl()


def seed_aws(external_id: str, extra: int) -> str:
    """Seed the demo stack and `extra` more tagged resources (ASGs, RDS instances, DynamoDB tables); return the role."""
    from cloud.client import provider_client
    from cloud.simulation import seed_demo_account

    seeded = seed_demo_account(region=REGION, tag_value=TAG, external_id=external_id)
    tags = [{"Key": "primetime:stack", "Value": TAG}]
    autoscaling, rds = provider_client("autoscaling", REGION), provider_client("rds", REGION)
    for i in range(extra):
        if i % 3 == 0:
            asg = {"ResourceId": f"bench-web-{i}", "ResourceType": "auto-scaling-group", "PropagateAtLaunch": True}
            autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=f"bench-web-{i}", MinSize=1, DesiredCapacity=1, MaxSize=4 + i % 5,
                LaunchTemplate={"LaunchTemplateId": seeded["launch_template_id"], "Version": "$Latest"},
                VPCZoneIdentifier=",".join(seeded["subnet_ids"][: 1 + i % 2]),
                HealthCheckType="ELB" if i % 2 else "EC2", Tags=[{**tag, **asg} for tag in tags],
            )  # fmt: skip
        elif i % 3 == 1:
            rds.create_db_instance(
                DBInstanceIdentifier=f"bench-db-{i}", DBInstanceClass="db.m6g.large" if i % 2 else "db.t3.small",
                Engine="postgres", AllocatedStorage=20, MasterUsername="bench", MasterUserPassword="simulated-only",
                DBSubnetGroupName="lumiere-shop-db", MultiAZ=bool(i % 2), Tags=tags,
            )  # fmt: skip
        else:
            provider_client("dynamodb", REGION).create_table(
                TableName=f"bench-table-{i}", BillingMode="PAY_PER_REQUEST", Tags=tags,
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            )  # fmt: skip
    return seeded["role_arn"]


def seed(urls: list[str], resources: int) -> Any:
    """Create the client, its verified AWS link, the stack with its attached resources and the event; return it."""
    from django.utils import timezone

    from accounts.models import Membership, Organization, User
    from cloud import services as cloud
    from cloud.models import CloudAccount, StackResource
    from events.forecasting import event_forecast_refresh
    from events.models import MediaEvent
    from stacks.models import Stack

    org = Organization.objects.create(name="Bench client", slug="bench-client", contact_email="ops@bench.example")
    owner = User.objects.create_user(email="owner@bench.example", password=None)
    Membership.objects.create(user=owner, organization=org, role=Membership.Role.OWNER)
    stack = Stack.objects.create(organization=org, name="Shop website", landing_url=urls[0], normal_peak_rps=60)
    account = CloudAccount.objects.create(organization=org, regions=[REGION], aws_account_id="123456789012")
    account.role_arn = seed_aws(account.external_id, max(0, resources - DEMO_RESOURCES))
    account.status, account.verified_at = CloudAccount.Status.VERIFIED, timezone.now()
    account.save()
    cloud.account_discover(account_id=account.pk)
    cloud.stack_resources_attach_by_tag(stack=stack, tag_value=TAG, by=owner)
    stack.resources.filter(kind=StackResource.Kind.AUTOSCALING_GROUP).update(unit_rps=250)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=4)
    event = MediaEvent.objects.create(
        organization=org, stack=stack, title="Capital on M6", channel="M6", air_start=start,
        air_end=start + timedelta(minutes=14), expected_audience=2_921_000, landing_urls=urls,
        status=MediaEvent.Status.SUBMITTED, created_by=owner,
    )  # fmt: skip
    event_forecast_refresh(event=event)
    print(f"stack: {len(urls)} landing URLs, {stack.resources.count()} resources attached in the simulated account")
    return event


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """Return the CPU time (user + system) of our processes, and of all PostgreSQL and Redis server processes."""
    found, names = dict.fromkeys([*pids, "postgres", "redis"], 0.0), {pid: name for name, pid in pids.items()}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            fields = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            comm = entry.joinpath("comm").read_text().strip()
            name = names.get(int(entry.name)) or {"postgres": "postgres", "redis-server": "redis"}.get(comm)
            if name:
                found[name] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


@dataclass
class Figures:
    checks: int
    start_ms: float  # run_start() itself: plan, insert, publish every task
    wall_ms: float  # created_at -> finished_at
    clock_ms: float  # our perf counter, from before run_start() to seeing the run completed
    serial_ms: float  # sum of duration_ms
    done_ms: dict[str, float]  # per queue: created_at -> its last check finished
    outcomes: Counter[str]
    slowest: list[dict[str, Any]]
    cpu: dict[str, float]
    connections: int  # the most PostgreSQL connections to the bench database seen at once

    @property
    def share(self) -> float:
        return 100 * self.wall_ms / self.serial_ms


def one_run(event: Any, urls: list[str], index: int, timeout: float, pids: dict[str, int]) -> Figures | None:
    from django.db import connection

    from readiness.models import CheckResult, ReadinessRun
    from readiness.registry import checks
    from readiness.services import run_start

    def connections() -> int:
        if connection.vendor != "postgresql":
            return 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    # Workers keep a fetched page a minute: a fresh query string per run keeps runs apart, as hours do in life.
    event.landing_urls = [f"{url}?run={index}" for url in urls]
    event.save(update_fields=["landing_urls"])
    cpu, started = cpu_seconds(pids), time.perf_counter()
    run = run_start(event=event, by=None)
    start_ms, peak = (time.perf_counter() - started) * 1000, 0
    while run.status != ReadinessRun.Status.COMPLETED:
        if time.perf_counter() - started > timeout:
            pending = CheckResult.objects.filter(run=run, outcome="pending").count()
            print(f"! run {index} not completed after {timeout:g} s: {pending} of {run.total_checks} checks pending "
                  f"(peak {peak} connections; a check task that failed is not retried)")  # fmt: skip
            return None
        time.sleep(0.05)
        peak = max(peak, connections())
        run.refresh_from_db(fields=["status", "finished_at"])
    clock_ms = (time.perf_counter() - started) * 1000
    cpu = {name: seconds - cpu[name] for name, seconds in cpu_seconds(pids).items()}
    queues = {check.id: check.queue for check in checks()}
    rows = CheckResult.objects.filter(run=run).values("check_id", "target", "outcome", "duration_ms", "finished_at")
    done: dict[str, float] = {}
    for row in rows:
        after = (row["finished_at"] - run.created_at).total_seconds() * 1000
        done[queues[row["check_id"]]] = max(done.get(queues[row["check_id"]], 0.0), after)
    wall_ms = (run.finished_at - run.created_at).total_seconds() * 1000
    serial_ms = sum(row["duration_ms"] or 0 for row in rows)
    slowest = sorted(rows, key=lambda row: -(row["duration_ms"] or 0))[:5]
    outcomes = Counter(row["outcome"] for row in rows)
    return Figures(len(rows), start_ms, wall_ms, clock_ms, serial_ms, done, outcomes, slowest, cpu, peak)


def print_figures(runs: list[Figures]) -> None:
    head = ("run", "checks", "start ms", "wall ms", "clock ms", "serial ms", "wall/serial", "probes done", "aws done")
    widths = (7, 7, 10, 9, 10, 11, 13, 13, 10)

    def line(cells: list[str], tail: str) -> str:
        return cells[0].ljust(7) + "".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)) + tail

    print("\n" + line(list(head), "  pass/warn/fail/error"))
    for index, f in enumerate(runs, start=1):
        cells = [str(index), *(f"{n:.0f}" for n in (f.checks, f.start_ms, f.wall_ms, f.clock_ms, f.serial_ms))]
        cells += [f"{f.share:.1f} %", *(f"{f.done_ms.get(queue, 0):.0f}" for queue in ("probes", "aws"))]
        print(line(cells, "  " + "/".join(str(f.outcomes[name]) for name in ("pass", "warn", "fail", "error"))))
    share = statistics.median(f.share for f in runs)
    fields = ("checks", "start_ms", "wall_ms", "clock_ms", "serial_ms")
    cells = ["median", *(f"{statistics.median(getattr(f, name) for f in runs):.0f}" for name in fields)]
    verdict = "meets" if share <= TARGET else "misses"
    print(line([*cells, f"{share:.1f} %", "", ""], f"  target <= {TARGET:g} % of serial: {verdict}"))
    print("start: run_start() (plan, insert, publish); wall: created_at -> finished_at; clock: our perf counter;")
    print("serial: sum of the checks' duration_ms; probes/aws done: created_at -> the queue's last check finished")
    middle = sorted(runs, key=lambda f: f.share)[(len(runs) - 1) // 2]
    used = ", ".join(f"{name} {seconds:.1f}" for name, seconds in middle.cpu.items())
    print(f"\nmedian run: {runs.index(middle) + 1}; CPU s: {used} (of {os.cpu_count()} x {middle.clock_ms / 1000:.1f})")
    print(f"most PostgreSQL connections at once: {', '.join(str(f.connections) for f in runs)} (by run)")
    print("slowest checks:")
    for row in middle.slowest:
        print(f"  {row['duration_ms']:>6} ms  {row['outcome']:<6} {row['check_id']:<28} {row['target'][:70]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--urls", 50), ("--resources", 30), ("--repeat", 3), ("--timeout", 300)):
        parser.add_argument(flag, type=int, default=default)
    parser.add_argument("--delay-ms", default="50-200", help="low-high, in milliseconds")
    parser.add_argument("--serial-run", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    low, high = (int(part) for part in args.delay_ms.split("-"))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the clean-up below, as Ctrl-C does

    with contextlib.ExitStack() as stack:
        logs, failed = Path(tempfile.mkdtemp(prefix="bench-readiness-logs-")), [True]
        stack.callback(lambda: print(f"logs kept in {logs}") if failed else shutil.rmtree(logs, ignore_errors=True))
        urls = start_landing(args.urls, (low, high), stack)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        moto = spawn("moto", [str(ROOT / ".venv/bin/moto_server"), "--host=127.0.0.1", f"--port={port}"], logs, stack)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "REDIS_URL"):
            os.environ.pop(name, None)
        os.environ.update({  # before Django reads its settings; the workers inherit them
            "DATABASE_URL": bench_database(stack), "CELERY_BROKER_URL": BROKER_URL, "CACHE_URL": "locmemcache://bench",
            "NETGUARD_ALLOW_LOOPBACK": "true", "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "ERROR",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench", "DJANGO_SETTINGS_MODULE": "portal.settings",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_SIMULATED_ACCOUNT": "true",
            "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "simulated", "AWS_SECRET_ACCESS_KEY": "simulated",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true", "MOTO_ECS_SERVICE_RUNNING": "2",
        })  # fmt: skip
        sys.path.insert(0, str(ROOT))
        import django
        import redis
        from django.core.management import call_command
        from django.db import connection, connections

        django.setup()
        from portal.celery import app

        stack.callback(connections.close_all)  # runs before the database is dropped
        broker = redis.Redis.from_url(BROKER_URL)
        broker.flushdb()
        stack.callback(broker.flushdb)
        call_command("migrate", verbosity=0)
        for _attempt in range(150):  # moto has been starting meanwhile
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"moto's server did not start; see {logs}")
        started = time.perf_counter()
        event = seed(urls, args.resources)
        print(f"seeding (moto, discovery, attach) took {time.perf_counter() - started:.1f} s")
        celery = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=WARNING", "--without-mingle"]
        processes = {
            name: spawn(name, [*celery, "--without-gossip", *options, f"--hostname=bench-{name}@%h"], logs, stack)
            for name, options in WORKERS.items()
        }
        wanted, deadline = {f"bench-{name}@{socket.gethostname()}" for name in WORKERS}, time.monotonic() + 90
        while not wanted <= {name for reply in app.control.ping(timeout=1.0) for name in reply}:
            exited = [name for name, process in {"moto": moto, **processes}.items() if process.poll() is not None]
            if exited or time.monotonic() > deadline:
                raise RuntimeError(f"{exited or 'the workers'}: not ready after 90 s or exited; see {logs}")
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
            version = cursor.fetchone()[0]
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"database {connection.vendor} {version} ({connection.settings_dict['NAME']}), broker {BROKER_URL}")
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load}")
        print(f"landing pages: {len(urls)} URLs on {-(-len(urls) // URLS_PER_SERVER)} local servers, {low}-{high} ms")
        print("workers: " + "; ".join(f"{name} {' '.join(options)}" for name, options in WORKERS.items()))
        print("(the Procfile runs aws on --pool=prefork --concurrency=2: threads here, so that the target's two worker")
        print(" processes are two processes, and AWS checks, which mostly wait on moto's answers, overlap)")
        pids = {"bench": os.getpid(), "moto": moto.pid, **{name: p.pid for name, p in processes.items()}}
        runs = []
        for index in range(1, args.repeat + 1):
            figures = one_run(event, urls, index, args.timeout, pids)
            if figures is None:
                break
            runs.append(figures)
        if runs:
            print_figures(runs)
        if args.serial_run:  # the true serial time: each check in turn, here (Celery eager), after the timed runs
            app.conf.task_always_eager = True
            serial = one_run(event, urls, 0, 3600, {})
            app.conf.task_always_eager = False
            if serial and runs:
                share = statistics.median(f.wall_ms for f in runs) / serial.wall_ms
                print(f"\none check at a time in this process: {serial.wall_ms:.0f} ms (sum of duration_ms "
                      f"{serial.serial_ms:.0f} ms); the median wall above is {share:.1%} of it")  # fmt: skip
        if len(runs) == args.repeat:  # keep the workers' logs when a run did not complete
            failed.clear()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: everything it started was stopped, its database dropped")
