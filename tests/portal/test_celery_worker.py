"""A real Celery worker consumes from the configured broker (Redis in CI)."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from accounts import services
from accounts.models import Membership
from portal.celery import QUEUES, app

WAIT_SECONDS = 30


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def celery_worker_on_broker(settings):
    """Run a worker thread against the real broker, with tasks no longer eager."""
    app.conf.task_always_eager = False
    # Start from empty queues: leftovers of an earlier run are not this test's.
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in QUEUES:
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            channel.queue_purge(queue)
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=10
    ):
        yield


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_sent_by_a_worker_through_the_broker(personas, celery_worker_on_broker):
    mail.outbox = []
    services.invitation_create(
        organization=personas.organization, email="worker@example.com", role=Membership.Role.MEMBER, by=personas.owner
    )
    _wait_for(lambda: any(message.to == ["worker@example.com"] for message in mail.outbox), "the invitation e-mail")
    message = next(message for message in mail.outbox if message.to == ["worker@example.com"])
    assert "/invitations/" in message.body


def test_tasks_are_acked_late_with_json_only_and_time_limits():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_reject_on_worker_lost is False
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        assert task.soft_time_limit, f"{name} needs a soft time limit"
        assert task.time_limit, f"{name} needs a hard time limit"
        assert task.soft_time_limit < task.time_limit


@pytest.mark.parametrize(
    ("task_name", "queue"), [("probes.check", "probes"), ("aws.apply", "aws"), ("notifications.send_email", "default")]
)
def test_tasks_are_routed_to_their_queue(task_name, queue):
    route = app.amqp.router.route({}, task_name)
    assert route["queue"].name == queue
    assert route["queue"].routing_key == queue
