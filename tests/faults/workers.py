"""Real Celery workers for the fault scenarios: started in their own process group, killed with ``kill -9``.

The workers consume a Redis database of the scenario's own on the suite's broker server (emptied first), and
the test process publishes there for the duration (``publishing_to``): other worker tests, and another
developer's run on the same server, neither take these messages nor hand theirs over. They read and write the
test database (``database_url``), so the scenario needs PostgreSQL and Redis (``ON_POSTGRES_AND_REDIS``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from base64 import b64decode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30

ON_POSTGRES_AND_REDIS = settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and str(
    settings.CELERY_BROKER_URL
).startswith("redis://")
needs_postgres_and_redis = pytest.mark.skipif(
    not ON_POSTGRES_AND_REDIS,
    reason="needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL): the worker runs in another process",
)


def database_url(database: dict) -> str:
    """Return the URL of a Django database's settings (the test database, for a worker to share it)."""
    user = quote(database.get("USER") or "", safe="")
    password = f":{quote(database['PASSWORD'], safe='')}" if database.get("PASSWORD") else ""
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{quote(database['NAME'], safe='')}"


def isolated_broker(db: int) -> str:
    """Empty Redis database ``db`` on the suite's broker server and return its URL.

    Each worker scenario takes a number of its own (apart from the suite's broker, 0, and cache, 1, in CI).
    Emptying it also drops what an interrupted run left behind.
    """
    url = urlunsplit(urlsplit(settings.CELERY_BROKER_URL)._replace(path=f"/{db}"))
    redis.Redis.from_url(url).flushdb()
    return url


@contextmanager
def publishing_to(url: str) -> Iterator[None]:
    """Send every task the portal's Celery app publishes in this process to the broker at ``url``, for the block.

    Services enqueue as they do in production (``delay``, ``apply_async``, ``producer_or_acquire``); all of
    them take their producer from the app's producer pool, which is swapped for one on ``url`` and put back.
    """
    from kombu import pools

    from portal.celery import app

    saved = app.conf.task_always_eager, app.amqp._producer_pool
    app.conf.task_always_eager = False  # the suite's autouse fixture runs tasks in-process; these go to workers
    app.amqp._producer_pool = pools.producers[app.connection_for_write(url)]
    try:
        yield
    finally:
        app.conf.task_always_eager, app.amqp._producer_pool = saved


def worker_env(*, broker_url: str, aws_endpoint: str, visibility_timeout: float, **extra: str) -> dict[str, str]:
    """Return a worker's environment: this test's database and broker, the simulated AWS account, a short
    visibility timeout (so a killed worker's messages are visible again when the next worker starts)."""
    from django.db import connection

    from tests.cloud.conftest import ACCOUNT_ID, REGION

    return {
        **os.environ,  # SECRET_KEY and co from pytest-env, the dummy AWS credentials from moto_endpoint
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url(connection.settings_dict),  # the test database, not primetime's
        "CELERY_BROKER_URL": broker_url,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "PROVIDER_AWS_ACCOUNT_ID": ACCOUNT_ID,
        "CELERY_VISIBILITY_TIMEOUT": f"{visibility_timeout:g}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _celery() -> str:
    return str(Path(sys.executable).with_name("celery"))


def start_worker(
    name: str,
    env: dict[str, str],
    output: IO[str],
    *,
    concurrency: int = 1,
    queues: str = "aws,default,probes",
    app: str = "portal",
) -> subprocess.Popen:
    """Start ``celery -A portal worker`` (prefork) in a session of its own, so that ``kill`` takes its children."""
    command = [
        _celery(), "-A", app, "worker", "-Q", queues,
        "--pool", "prefork", "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--loglevel", "INFO",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def start_beat(env: dict[str, str], output: IO[str], pidfile: Path, *, app: str = "portal") -> subprocess.Popen:
    """Start ``celery beat`` with the production scheduler (periodic tasks kept in the database), in its own session."""
    command = [_celery(), "-A", app, "beat", "--pidfile", str(pidfile), "--loglevel", "INFO"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def kill(worker: subprocess.Popen) -> None:
    """Kill the worker's (or beat's) process group at once (``kill -9``): the main process and its pool children."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def settle(
    predicate: Callable[[], bool],
    workers: list[subprocess.Popen],
    output: Path,
    *,
    timeout: float = WAIT_SECONDS,
    interval: float = 0.02,
) -> bool:
    """Poll until ``predicate`` holds (True) or ``timeout`` passes (False); fail at once if a worker died."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if any(worker.poll() is not None for worker in workers):
            pytest.fail(f"a worker died; workers' output:\n{output.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def wait_for(
    predicate: Callable[[], bool],
    what: str,
    workers: list[subprocess.Popen],
    output: Path,
    *,
    timeout: float = WAIT_SECONDS,
    interval: float = 0.02,
) -> float:
    """Poll until ``predicate`` holds; fail with the workers' output when it takes too long or a worker died."""
    started = time.monotonic()
    if not settle(predicate, workers, output, timeout=timeout, interval=interval):
        elapsed = time.monotonic() - started
        pytest.fail(f"gave up waiting {elapsed:.1f}s for {what}; workers' output:\n{output.read_text()[-4000:]}")
    return time.monotonic() - started


@dataclass(frozen=True)
class HeldMessage:
    """A message a worker took and has not acknowledged: the task's name and arguments."""

    task: str
    task_id: str
    args: list


def unacknowledged(broker_url: str) -> list[HeldMessage]:
    """Return the messages workers hold on the broker (kombu's Redis ``unacked`` hash): what is in flight."""
    held = []
    for raw in redis.Redis.from_url(broker_url).hvals("unacked"):
        payload, _exchange, _routing_key = json.loads(raw)
        args, _kwargs, _embed = json.loads(b64decode(payload["body"]))
        held.append(HeldMessage(payload["headers"]["task"], payload["headers"]["id"], args))
    return held


def messages_left(broker_url: str) -> dict[str, int]:
    """Count the messages still on the broker: held by a worker (``unacked``) and waiting in the queues' lists."""
    client = redis.Redis.from_url(broker_url)
    queued = sum(client.llen(key) for key in client.scan_iter() if client.type(key) == b"list")
    return {"unacked": client.hlen("unacked"), "queued": queued}
