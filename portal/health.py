"""Liveness and readiness for the load balancer and the orchestrator."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

CHECK_TIMEOUT_SECONDS = 3


@never_cache
def healthz(request):
    """Answer that the process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_broker() -> None:
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=CHECK_TIMEOUT_SECONDS,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    ) as broker:
        broker.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def _check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("value written was not read back")
    cache.delete(key)


CHECKS = {"database": _check_database, "broker": _check_broker, "cache": _check_cache}


@never_cache
def readyz(request):
    """Answer 200 when the database, the broker and the cache all answer, else 503 naming what is down."""
    results = {}
    down = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means "not ready"
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
            down.append(name)
        else:
            results[name] = {"ok": True}
    body = {"status": "ok" if not down else "unavailable", "down": down, "checks": results}
    return JsonResponse(body, status=503 if down else 200)
