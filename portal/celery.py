"""The Celery application shared by every worker and by beat.

Queues are separate so that a flood of probes can never delay a scale-up:
run at least one worker on ``aws`` and ``default`` apart from the ``probes``
workers in production.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("primetime")
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("default", "probes", "aws")

app.conf.update(
    # One direct exchange per queue, bound by its own name: a message for one
    # queue never lands in another.
    task_queues=[Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
    task_default_queue="default",
    task_default_exchange="default",
    task_default_routing_key="default",
    # Route by the stable task-name prefix, so a task lands on its queue
    # wherever it is enqueued from.
    task_routes={
        "probes.*": {"queue": "probes"},
        "aws.*": {"queue": "aws"},
    },
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # A task is acknowledged after it ran: a worker that dies loses nothing.
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    # Re-delivering a task whose worker died is opt-in per task: a task that
    # kills its worker would otherwise be re-delivered forever.
    task_reject_on_worker_lost=False,
    # Safety nets; every task also sets its own limits.
    task_soft_time_limit=60,
    task_time_limit=90,
    worker_send_task_events=True,
    task_send_sent_event=True,
    broker_connection_max_retries=10,
)
app.autodiscover_tasks()
