"""Private Redis and PostgreSQL servers for the fault scenarios: started on free loopback ports, stopped in ``finally``.

The machine's shared PostgreSQL (5432) and Redis (6379) serve other test runs: the scenarios that stop or
restart a server only ever touch their own instance.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 30) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"gave up waiting {timeout}s for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process started with ``start_new_session=True`` and its children."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class PrivateRedis:
    """A Redis server of the test's own. ``persistent`` keeps an append-only file, fsynced on every write,
    so a restart keeps what the broker held (what a production broker must be configured to do)."""

    def __init__(self, folder: Path, *, persistent: bool) -> None:
        if not Path(REDIS_SERVER).exists():
            pytest.skip(f"{REDIS_SERVER} is not installed")
        self.folder = folder
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = (folder / "redis.log").open("a")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence,
                   "--dir", str(self.folder), "--daemonize", "no"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, "the private Redis to answer", timeout=10)

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        stop(self.process)

    def close(self) -> None:
        self.stop()
        self.log.close()


def _postgres_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return found[0] if found else shutil.which(name)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster with trust authentication, in a temporary folder, on a free port."""

    def __init__(self, folder: Path) -> None:
        self.initdb, self.postgres = _postgres_bin("initdb"), _postgres_bin("postgres")
        if not self.initdb or not self.postgres:
            pytest.skip("PostgreSQL's initdb and postgres binaries are not installed")
        self.log = (folder / "postgres.log").open("a")
        # Its own folder directly under the temporary directory: pytest's tmp_path is not reachable by another user.
        self.folder = Path(tempfile.mkdtemp(prefix="faults-postgres-"))
        self.data = self.folder / "pgdata"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # PostgreSQL refuses to run as root: as root, run it as the "postgres" system user, in a folder it owns.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            if not shutil.which("runuser") or subprocess.run(["id", "postgres"], capture_output=True).returncode:
                pytest.skip("PostgreSQL cannot run as root and there is no postgres user to run it as")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")
        subprocess.run(
            [*self.as_user, self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        command = [*self.as_user, self.postgres, "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
                   "-k", str(self.folder), "-c", "fsync=off", "-c", "full_page_writes=off"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, "the private PostgreSQL to answer", timeout=30)

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        stop(self.process, signal.SIGINT)  # a fast shutdown: sessions are cut, as when the server goes away

    def close(self) -> None:
        self.stop()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
