"""Fault scenario 5: two beats by mistake. Every claimed job has its effect once.

Two real beats would each fire the same periodic task at the same second; what matters is that the two
dispatcher calls then race on one database. So each round starts RACERS threads (each its own PostgreSQL
connection) behind a barrier, all calling the same dispatcher with the same clock, and counts the effects.

Run alone: ``DATABASE_URL=postgres://... .venv/bin/pytest tests/faults/test_two_beats.py -s``
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from events.models import MediaEvent, TimelineEntry
from events.services import events_advance_by_clock
from status import probing
from status.models import Component, Incident, IncidentUpdate
from status.services import maintenances_advance
from tests.tenancy_matrix import make_event, make_status_page

RACERS = 4
ROUNDS = 5
PER_ROUND = 6

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="needs PostgreSQL (DATABASE_URL): the racers are concurrent connections, SQLite serializes them",
    ),
    pytest.mark.django_db(transaction=True),
]


def _race(call) -> list:
    """Run ``call`` in RACERS threads released at once; return their results, raise the first error."""
    barrier = threading.Barrier(RACERS)
    results: list = [None] * RACERS
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    if errors:
        raise errors[0]
    return results


def test_two_beats_put_each_event_on_air_and_complete_it_once(personas):
    started = time.monotonic()
    now = timezone.now()
    ids = []
    for _round in range(ROUNDS):
        events = [
            make_event(
                personas.organization,
                status=MediaEvent.Status.ACCEPTED,
                assignee=personas.engineer,
                days_ahead=0,
                air_start=now - timedelta(minutes=1),
                air_end=now + timedelta(minutes=10),
            )
            for _ in range(PER_ROUND)
        ]
        ids += [event.pk for event in events]
        results = _race(lambda: events_advance_by_clock(now=now))
        assert sum(result["on_air"] for result in results) == PER_ROUND
    later = now + timedelta(minutes=10) + settings.EVENT_TAIL + timedelta(seconds=1)
    completed = _race(lambda: events_advance_by_clock(now=later))
    assert sum(result["completed"] for result in completed) == len(ids)

    moves = Counter(
        TimelineEntry.objects.filter(event_id__in=ids, kind=TimelineEntry.Kind.TRANSITION).values_list(
            "event_id", "to_status"
        )
    )
    duplicates = sum(count - 1 for count in moves.values())
    assert duplicates == 0
    assert len(moves) == 2 * len(ids)
    assert set(MediaEvent.objects.filter(pk__in=ids).values_list("status", flat=True)) == {MediaEvent.Status.COMPLETED}
    print(
        f"\n[scenario 5] events: {len(ids)} on air and completed by {RACERS} racing beats, "
        f"duplicate transitions {duplicates}, {time.monotonic() - started:.1f}s"
    )


def test_two_beats_start_and_complete_each_maintenance_once(personas):
    started = time.monotonic()
    page = make_status_page(personas.organization)
    now = timezone.now()
    ids = []
    for _round in range(ROUNDS):
        windows = [
            Incident.objects.create(
                page=page,
                kind=Incident.Kind.MAINTENANCE,
                name=f"Upgrade {len(ids) + index}",
                status="scheduled",
                impact="maintenance",
                scheduled_for=now - timedelta(seconds=30),
                scheduled_until=now + timedelta(hours=1),
                started_at=now - timedelta(seconds=30),
                auto_transition=True,
            )
            for index in range(PER_ROUND)
        ]
        ids += [window.pk for window in windows]
        results = _race(lambda: maintenances_advance(now=now))
        assert sum(result["started"] for result in results) == PER_ROUND
    results = _race(lambda: maintenances_advance(now=now + timedelta(hours=1, seconds=1)))
    assert sum(result["completed"] for result in results) == len(ids)

    posted = Counter(IncidentUpdate.objects.filter(incident_id__in=ids).values_list("incident_id", "status"))
    duplicates = sum(count - 1 for count in posted.values())
    assert duplicates == 0
    assert set(posted.values()) == {1}
    assert {status for _pk, status in posted} == {"in_progress", "completed"}
    print(
        f"\n[scenario 5] maintenances: {len(ids)} started and completed by {RACERS} racing beats, "
        f"duplicate updates {duplicates}, {time.monotonic() - started:.1f}s"
    )


def test_two_beats_dispatch_each_due_probe_once(personas, monkeypatch):
    from status.tasks import status_component_task

    started = time.monotonic()
    page = make_status_page(personas.organization)
    sent: list[int] = []
    lock = threading.Lock()

    def delay(pk: int) -> None:
        with lock:
            sent.append(pk)

    monkeypatch.setattr(status_component_task, "delay", delay)
    monkeypatch.setattr(probing, "batch_size", lambda: 1_000)
    components = [
        Component.objects.create(page=page, name=f"Site {index}", probe_url=f"https://www{index}.example/")
        for index in range(ROUNDS * PER_ROUND)
    ]
    now = timezone.now()
    claims: list[int] = []
    for tick in range(ROUNDS):  # one beat tick per probe interval: each component is due once per tick
        at = now + timedelta(seconds=tick * max(c.probe_interval_seconds for c in components) + tick)
        for result in _race(lambda at=at: probing.probes_dispatch(now=at)):
            claims += result
    connection.close()

    expected = len(components) * ROUNDS
    per_component = Counter(sent)
    duplicates = sum(max(0, count - ROUNDS) for count in per_component.values())
    assert len(claims) == len(sent) == expected
    assert set(per_component.values()) == {ROUNDS}
    print(
        f"\n[scenario 5] probes: {len(components)} components x {ROUNDS} ticks, {len(sent)} dispatched by "
        f"{RACERS} racing beats (expected {expected}), duplicates {duplicates}, {time.monotonic() - started:.1f}s"
    )
