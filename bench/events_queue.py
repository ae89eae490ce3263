"""Measure the engineer queue, the events API list and the forecast against a seeded throwaway database.

Run from the project root, on SQLite by default or on PostgreSQL with DATABASE_URL set:

    DEBUG=false SECRET_KEY=bench .venv/bin/python bench/events_queue.py \
        [--events 10000] [--organizations 200] [--repeat 50]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/primetime DEBUG=false SECRET_KEY=bench \
        .venv/bin/python bench/events_queue.py

It creates a test database with Django's own machinery and destroys it at the end, so the developer's database
is never touched. It prints figures and always exits 0: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import re
import statistics
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.test import Client

    from accounts.models import User

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 3
REFERENCE = {"audience": 2_921_000, "segment_minutes": 12}
STATIC_FILES = "django.contrib.staticfiles.storage.StaticFilesStorage"
PASSWORD = "bench-password"  # noqa: S105 - throwaway users in a throwaway database


@dataclass
class Row:
    name: str
    timings_ns: list[int]
    queries: int | str
    target_ms: float | None = None


def configure_django() -> None:
    """Point Django at the project with settings fit for a benchmark, before anything imports a model."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-throwaway-secret-key")
    os.environ.update(SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="testserver,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Keep the throttle's bookkeeping in the measured path without letting it answer 429 mid-run.
    os.environ.setdefault("API_USER_RATE", "1000000/min")
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic output needed
    import django

    django.setup()


def seed(*, organizations: int, events: int, rng: random.Random) -> User:
    """Create organizations with an owner and a stack, spread the events over them, and return an engineer."""
    from django.utils import timezone

    from accounts.models import Membership, Organization, User
    from accounts.services import engineer_grant
    from events.forecast import ForecastInput, compute_forecast
    from events.models import MediaEvent
    from stacks.models import Stack

    orgs = Organization.objects.bulk_create(
        Organization(name=f"Client {i:04d}", slug=f"client-{i:04d}", contact_email=f"ops@client-{i:04d}.example")
        for i in range(organizations)
    )
    owners = [User.objects.create_user(email=f"owner@{org.slug}.example", password=PASSWORD) for org in orgs]
    Membership.objects.bulk_create(
        Membership(user=owner, organization=org, role=Membership.Role.OWNER)
        for org, owner in zip(orgs, owners, strict=True)
    )
    stacks = Stack.objects.bulk_create(
        Stack(organization=org, name="Website", landing_url=f"https://www.{org.slug}.example/", normal_peak_rps=40)
        for org in orgs
    )
    # Peaks grow linearly with the audience: scale the reference forecast rather than compute thousands.
    peak = compute_forecast(ForecastInput(**REFERENCE)).peak_origin_rps.value
    likely, high = peak.likely / REFERENCE["audience"], peak.high / REFERENCE["audience"]
    statuses = ["submitted", "accepted", "preparing", "ready"]
    now = timezone.now().replace(second=0, microsecond=0)
    rows = []
    for i in range(events):
        stack = stacks[i % len(stacks)]
        start = now + timedelta(minutes=rng.randint(60, 60 * 24 * 60))
        audience = rng.randint(100_000, 5_000_000)
        rows.append(
            MediaEvent(
                organization_id=stack.organization_id,
                stack=stack,
                title=f"TV segment {i}",
                kind=MediaEvent.Kind.TV_SEGMENT,
                air_start=start,
                air_end=start + timedelta(minutes=rng.randint(10, 30)),
                expected_audience=audience,
                status=MediaEvent.Status(rng.choice(statuses)),
                landing_urls=[stack.landing_url],
                peak_origin_rps=stack.normal_peak_rps + audience * likely,
                peak_origin_rps_high=stack.normal_peak_rps + audience * high,
            )
        )
    MediaEvent.objects.bulk_create(rows, batch_size=1000)
    return engineer_grant(user=User.objects.create_user(email="engineer@provider.example", password=PASSWORD))


def time_calls(call: Callable[[], object], repeat: int) -> list[int]:
    """Return the wall time of each call in nanoseconds, after a few warm-up calls."""
    for _ in range(WARM_UP):
        call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        call()
        timings.append(time.perf_counter_ns() - started)
    return timings


def profile_queries(call: Callable[[], object]) -> tuple[int, list[tuple[str, int, int]]]:
    """Run the call once; return its query count and (SQL, count, total ns) per statement shape, costliest first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    shapes: dict[str, list[int]] = defaultdict(list)

    def timed(execute, sql, params, many, context):
        started = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            shapes[sql].append(time.perf_counter_ns() - started)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        call()
    ranked = sorted(((sql, len(ns), sum(ns)) for sql, ns in shapes.items()), key=lambda shape: -shape[2])
    return len(captured.captured_queries), ranked


def measure_url(client: Client, url: str, repeat: int, target_ms: float | None) -> Row:
    """Time one URL; on an error, print what it answered and return a row without figures."""
    try:
        response = client.get(url)
        status, body = str(response.status_code), response.content[:500].decode(errors="replace")
    except Exception as error:  # noqa: BLE001 - a view being written must not stop the benchmark
        status, body = type(error).__name__, str(error)[:500]
    if status != "200":
        print(f"! {url} answered {status}: {body}")
        return Row(url, [], status, target_ms)
    count, shapes = profile_queries(lambda: client.get(url))
    for sql, times, total_ns in shapes[:2]:
        print(f"  {url}: {times}x {total_ns / 1e6:.2f} ms  {re.sub(r'^SELECT .+? FROM', 'SELECT … FROM', sql)[:160]}")
    return Row(url, time_calls(lambda: client.get(url), repeat), count, target_ms)


def print_table(rows: list[Row], baseline_ns: float) -> None:
    print(f"\n{'measurement':<36}{'median ms':>10}{'p95 ms':>9}{'x healthz':>11}{'queries':>9}  target")
    for row in rows:
        target = f"{row.target_ms:g} ms median" if row.target_ms else "-"
        if not row.timings_ns:
            print(f"{row.name:<36}{'-':>10}{'-':>9}{'-':>11}{row.queries!s:>9}  {target} not measured")
            continue
        ordered = sorted(row.timings_ns)
        median, p95 = statistics.median(ordered), ordered[math.ceil(0.95 * len(ordered)) - 1]
        verdict = ("meets" if median / 1e6 <= row.target_ms else "misses") if row.target_ms else ""
        line = f"{median / 1e6:>10.2f}{p95 / 1e6:>9.2f}{median / baseline_ns:>11.1f}{row.queries!s:>9}"
        print(f"{row.name:<36}{line}  {target} {verdict}".rstrip())


def run(args: argparse.Namespace, connection: Any) -> None:
    """Seed the test database, then time each measurement and print the table."""
    from django.test import Client

    from events.forecast import ForecastInput, compute_forecast
    from events.forecasting import forecast_for_event
    from events.models import MediaEvent

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    print(f"database {connection.vendor} {version} ({connection.settings_dict['NAME']})")
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"N = {args.events} events over {args.organizations} organizations, --repeat {args.repeat}")

    started = time.perf_counter_ns()
    engineer = seed(organizations=args.organizations, events=args.events, rng=random.Random(2016))
    print(f"seeding took {(time.perf_counter_ns() - started) / 1e9:.1f} s")

    client = Client()
    client.force_login(engineer)
    rows = [
        # The load balancer calls /healthz without a session: anonymous, so no query at all.
        measure_url(Client(), "/healthz", args.repeat, None),
        measure_url(client, "/engineering/queue/", args.repeat, 50),
        measure_url(client, "/api/v1/events/", args.repeat, 50),
    ]
    event = MediaEvent.objects.select_related("organization", "stack").order_by("air_start").first()
    reference = ForecastInput(**REFERENCE)
    for name, call in [
        ("forecast_for_event(event)", lambda: forecast_for_event(event)),
        ("compute_forecast(2,921,000, 12 min)", lambda: compute_forecast(reference)),
    ]:
        rows.append(Row(name, time_calls(call, args.repeat * 20), profile_queries(call)[0], 5))
    print_table(rows, statistics.median(rows[0].timings_ns) if rows[0].timings_ns else 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--events", 10_000), ("--organizations", 200), ("--repeat", 50)):
        parser.add_argument(flag, type=int, default=default)
    args = parser.parse_args()
    configure_django()

    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment, teardown_test_environment

    overrides = override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench"}},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Pages render without collectstatic's manifest, as in the test suite.
        STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_FILES}},
    )
    overrides.enable()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":  # not test_<name>: a test suite running beside us keeps its database
        connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        overrides.disable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
