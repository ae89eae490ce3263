"""Fault scenario 3: PostgreSQL stops for a while.

A private PostgreSQL cluster (free port, trust authentication, a temporary folder) holds a migrated portal
database; the portal runs under gunicorn on it, with a file snapshot store for public status pages. The
cluster is stopped for DOWN seconds: the public status page and its JSON keep answering 200 from the last
snapshot, the portal answers 503 with a clear page (not the 500 page, no traceback), a beat tick fails. Once
the cluster is back, two beat ticks race and the schedules that fell due meanwhile happen exactly once.

CI mode: 3 s down. Nightly (``pytest -m nightly tests/faults`` or ``NIGHTLY=1``): 30 s down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import OperationalError, connection

from tests.faults.private_services import PrivatePostgres, free_port, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SLUG = "lumiere-faults"


def _env(pg: PrivatePostgres, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,  # SECRET_KEY and SECURE_SSL_REDIRECT from pytest-env
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": pg.url("primetime"),
        "CACHE_URL": "locmemcache://faults",
        "STATUS_CACHE_URL": f"filecache://{tmp_path / 'snapshots'}",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_URL": "consolemail://",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }


def _step(env: dict[str, str], name: str) -> subprocess.Popen:
    command = [PYTHON, "-m", "tests.faults.database_down_steps", name]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _result(process: subprocess.Popen) -> dict:
    output, _ = process.communicate(timeout=120)
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert process.returncode == 0, output[-4000:]
    assert lines, output[-4000:]
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["ci", pytest.param("nightly", marks=pytest.mark.nightly)])
def test_with_postgresql_stopped_status_pages_serve_snapshots_the_portal_says_503_and_beats_catch_up_once(
    mode, tmp_path
):
    down_for = 30.0 if mode == "nightly" else 3.0
    started = time.monotonic()
    pg = PrivatePostgres(tmp_path)
    env = _env(pg, tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    answers: dict[str, list[int]] = {"status page": [], "status json": [], "portal": []}
    try:
        pg.start()
        with psycopg.connect(pg.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE primetime")
        migrate = subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert migrate.returncode == 0, migrate.stderr[-4000:]
        seeded = _result(_step(env, "seed"))
        cookies = {seeded["cookie"]: seeded["session"]}
        server_log = (tmp_path / "gunicorn.log").open("w")
        server = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "tests.faults.wsgi_app:application", "-b", f"127.0.0.1:{port}",
             "-w", "1", "--threads", "4", "--timeout", "30"],
            cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def healthy() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, "gunicorn to answer", timeout=30)
        assert requests.get(f"{base}/status/{SLUG}/", timeout=5).status_code == 200
        before = requests.get(f"{base}/", cookies=cookies, timeout=10, allow_redirects=False)
        assert before.status_code in (200, 302), before.text[:2000]

        pg.stop()
        stopped_at = time.monotonic()
        tick_while_down = _step(env, "advance")
        bodies = set()
        while time.monotonic() - stopped_at < down_for:
            answers["status page"].append(requests.get(f"{base}/status/{SLUG}/", timeout=10).status_code)
            summary = requests.get(f"{base}/status/{SLUG}/api/v2/summary.json", timeout=10)
            answers["status json"].append(summary.status_code)
            portal = requests.get(f"{base}/", cookies=cookies, timeout=10, allow_redirects=False)
            answers["portal"].append(portal.status_code)
            bodies.add(portal.text)
            time.sleep(0.3)
        tick_while_down.communicate(timeout=60)
        pg.start()
        down = time.monotonic() - stopped_at

        # Two beats tick at once when the database is back: what fell due meanwhile happens once.
        racing = [_step(env, "advance"), _step(env, "advance")]
        ticks = [_result(process) for process in racing]
        again = _result(_step(env, "advance"))
        effects = _result(_step(env, "effects"))
        after = requests.get(f"{base}/", cookies=cookies, timeout=10, allow_redirects=False)
    finally:
        stop(server)
        pg.close()

    started_count = sum(tick["maintenances"]["started"] for tick in ticks)
    on_air = sum(tick["events"]["on_air"] for tick in ticks)
    probes = [pk for tick in ticks for pk in tick["probes"]]
    print(
        f"\n[scenario 3, {mode}] PostgreSQL down {down:.1f}s: status page {sorted(set(answers['status page']))} "
        f"x{len(answers['status page'])}, status JSON {sorted(set(answers['status json']))}, portal "
        f"{sorted(set(answers['portal']))}; beat tick while down exit {tick_while_down.returncode}; after the "
        f"return two racing ticks: maintenance started {started_count}, event on air {on_air}, probes claimed "
        f"{len(probes)} ({len(set(probes))} distinct); effects {effects}; portal after {after.status_code}; "
        f"{time.monotonic() - started:.1f}s in all"
    )
    assert set(answers["status page"]) == {200}
    assert set(answers["status json"]) == {200}
    assert set(answers["portal"]) == {503}
    assert all("Temporarily unavailable" in body and "Traceback" not in body for body in bodies)
    assert tick_while_down.returncode != 0
    assert started_count == 1
    assert on_air == 1
    assert len(probes) == len(set(probes)) == 5
    assert again["maintenances"]["started"] == again["events"]["on_air"] == 0
    assert effects == {"maintenance_started": 1, "event_on_air": 1}
    assert after.status_code in (200, 302)


@pytest.mark.django_db
def test_a_database_that_cannot_be_reached_answers_503_with_a_clear_page(client, personas, monkeypatch):
    """The handler500 of portal/errors.py, in-process: the session cannot be read, the answer is 503."""
    client.force_login(personas.owner)
    client.raise_request_exception = False

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused (the test stopped the database)")

    with monkeypatch.context() as down:
        down.setattr(connection, "ensure_connection", refuse)
        down.setattr(connection, "connect", refuse)
        connection.close()
        answer = client.get("/")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    assert "Temporarily unavailable" in answer.content.decode()


def test_any_other_error_keeps_the_500_page(rf):
    from portal.errors import server_error

    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        answer = server_error(rf.get("/"))
    assert answer.status_code == 500
    assert "Something went wrong" in answer.content.decode()
