"""Status probes against a real local server that fails and recovers: hysteresis, ownership, drafts, dispatch.

The client's site is an HTTP server on 127.0.0.1 (loopback is allowed here, except where the SSRF guard is
the subject). Probe times come from an injected clock, one minute apart, so nothing sleeps.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import pytest
from django.utils import timezone

from portal import netguard
from probes import http as prober
from status import probing, services
from status.models import Component, ComponentStatus, Incident, StatusAuditEntry, StatusPage, UptimeDay
from status.tasks import dispatch_status_probes_task, status_component_task
from tests.probes import FakeResolver, Handler, respond, serve

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


class Site:
    """The client's site: answers ``status`` after ``delay`` seconds (or as soon as the server stops)."""

    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.server = None

    def route(self, handler: Handler) -> None:
        if self.delay:
            handler.server.stop.wait(self.delay)
        respond(handler, self.status, b"ok", [("Content-Type", "text/plain")])

    @property
    def url(self) -> str:
        return f"{self.server.url}/health"


class Clock:
    """Hand out probe times a minute apart, starting a minute after the component's status began."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def tick(self) -> datetime:
        self.now += MINUTE
        return self.now


@pytest.fixture(autouse=True)
def _local_network(settings, monkeypatch):
    settings.NETGUARD_ALLOW_LOOPBACK = True
    settings.STATUS_PROBE_TIMEOUT = 2.0
    settings.STATUS_PROBE_SLOW_MS = 1000
    monkeypatch.setattr(netguard, "lookup", FakeResolver({"loopback.example.test": ["127.0.0.1"]}))


@pytest.fixture
def site():
    site = Site()
    with serve({"/health": site.route}) as server:
        site.server = server
        yield site


@pytest.fixture
def page(personas) -> StatusPage:
    return StatusPage.objects.create(
        organization=personas.organization,
        name="Maison Lumière",
        slug="maison-lumiere",
        probe_failures_to_degrade=3,
        probe_successes_to_recover=2,
    )


@pytest.fixture
def component(page, site) -> Component:
    return Component.objects.create(page=page, name="Boutique", probe_url=site.url)


@pytest.fixture
def clock(component) -> Clock:
    return Clock(component.status_since)


def probe(component: Component, clock: Clock, times: int = 1) -> Component:
    """Probe ``times`` times, a minute apart, and return the component as the database now has it."""
    for _ in range(times):
        probing.component_probe(component_id=component.pk, now=clock.tick())
    component.refresh_from_db()
    return component


# --- Hysteresis ---


def test_the_nth_failure_degrades_and_the_mth_success_recovers(component, clock, site):
    site.status = 503
    assert probe(component, clock, 2).status == ComponentStatus.OPERATIONAL
    first_failure = clock.now - MINUTE
    assert component.probe_failures == 2

    assert probe(component, clock).status == ComponentStatus.MAJOR_OUTAGE
    # Dated at the first failure: uptime counts the whole outage, not only what followed the hysteresis.
    assert component.status_since == first_failure
    assert component.last_probed_at == clock.now
    last = component.last_probe
    assert last["status_code"] == 503
    assert last["verdict"] == "down"
    assert last["error"] is None
    assert isinstance(last["latency_ms"], int)
    assert last["at"] == clock.now.isoformat()
    assert last["owned"] == {"status": "major_outage", "since": first_failure.isoformat()}

    site.status = 200
    assert probe(component, clock).status == ComponentStatus.MAJOR_OUTAGE
    first_success = clock.now
    assert probe(component, clock).status == ComponentStatus.OPERATIONAL
    assert component.status_since == first_success
    assert component.last_probe["owned"] is None
    audit = list(StatusAuditEntry.objects.filter(action="component status").order_by("pk"))
    assert [(entry.changes["old"], entry.changes["new"], entry.actor) for entry in audit] == [
        ("operational", "major_outage", None),
        ("major_outage", "operational", None),
    ]
    assert "failed 3 times in a row" in audit[0].changes["why"]
    assert "HTTP 503" in audit[0].changes["why"]
    assert "succeeded 2 times in a row" in audit[1].changes["why"]


def test_a_success_between_failures_starts_the_count_again(component, clock, site):
    site.status = 500
    probe(component, clock, 2)
    site.status = 200
    probe(component, clock)
    site.status = 500
    assert probe(component, clock, 2).status == ComponentStatus.OPERATIONAL
    assert probe(component, clock).status == ComponentStatus.MAJOR_OUTAGE


def test_uptime_days_receive_the_seconds_of_each_status(component, clock, site):
    site.status = 500
    probe(component, clock, 3)  # failures at +1, +2, +3 minutes: the outage began at +1
    site.status = 200
    probe(component, clock, 2)  # successes at +4, +5: it ended at +4

    days = UptimeDay.objects.filter(component=component)
    assert sum(day.operational for day in days) == 60
    assert sum(day.major_outage for day in days) == 3 * 60
    assert sum(day.partial_outage + day.degraded_performance + day.under_maintenance for day in days) == 0


def test_slowness_degrades_performance_and_turns_into_an_outage_when_errors_follow(settings, page, component, site):
    page.probe_failures_to_degrade = 2
    page.save()
    settings.STATUS_PROBE_SLOW_MS = 150
    clock = Clock(component.status_since)
    site.delay = 0.3
    assert probe(component, clock).status == ComponentStatus.OPERATIONAL
    assert component.last_probe["verdict"] == "slow"
    assert "slower than the 150 ms limit" in component.last_probe["reason"]
    assert probe(component, clock).status == ComponentStatus.DEGRADED_PERFORMANCE

    site.delay, site.status = 0.0, 502
    assert probe(component, clock).status == ComponentStatus.PARTIAL_OUTAGE  # the last two: one slow, one down
    assert probe(component, clock).status == ComponentStatus.MAJOR_OUTAGE  # the last two: both down
    assert Incident.objects.count() == 1  # escalating opens nothing more


def test_the_status_rule_reads_the_last_failures():
    assert probing.status_for_failures(["down", "down", "down"]) == ComponentStatus.MAJOR_OUTAGE
    assert probing.status_for_failures(["slow", "slow"]) == ComponentStatus.DEGRADED_PERFORMANCE
    assert probing.status_for_failures(["slow", "down", "down"]) == ComponentStatus.PARTIAL_OUTAGE


# --- Draft incidents ---


def test_degrading_opens_one_draft_incident_and_recovery_resolves_it_unpublished(component, clock, site):
    site.status = 500
    probe(component, clock, 6)

    draft = Incident.objects.get()
    assert draft.is_draft
    assert draft.status == Incident.Status.INVESTIGATING
    assert draft.impact == Incident.Impact.CRITICAL
    assert list(draft.components.all()) == [component]
    assert "Boutique" in draft.name
    body = draft.updates.get().body
    assert site.url in body
    assert "HTTP 500" in body
    assert "3 times in a row" in body
    assert component.last_probe["draft_incident"] == draft.public_id

    site.status = 200
    probe(component, clock, 2)
    draft.refresh_from_db()
    assert draft.status == Incident.Status.RESOLVED
    assert draft.is_draft  # nothing public: an engineer may still publish it as history
    assert draft.updates.count() == 2
    assert not Incident.objects.filter(is_draft=False).exists()

    # A new outage is a new draft.
    site.status = 500
    probe(component, clock, 3)
    assert Incident.objects.filter(is_draft=True).count() == 2


def test_a_published_incident_is_left_to_the_engineer(personas, component, clock, site):
    site.status = 500
    probe(component, clock, 3)
    draft = Incident.objects.get()
    services.incident_publish(incident=draft, by=personas.engineer)

    site.status = 200
    probe(component, clock, 2)
    draft.refresh_from_db()
    assert component.status == ComponentStatus.OPERATIONAL
    assert draft.status == Incident.Status.INVESTIGATING
    assert draft.updates.count() == 1


def test_no_draft_when_the_page_does_not_want_them(page, component, clock, site):
    page.probes_open_draft_incidents = False
    page.save()
    site.status = 500
    assert probe(component, clock, 3).status == ComponentStatus.MAJOR_OUTAGE
    assert not Incident.objects.exists()


# --- Who owns the status ---


def test_a_status_an_engineer_set_stands_whatever_the_probe_sees(personas, component, clock, site):
    services.component_status_set(
        component=component, status=ComponentStatus.PARTIAL_OUTAGE, by=personas.engineer, at=clock.tick()
    )
    site.status = 500
    assert probe(component, clock, 5).status == ComponentStatus.PARTIAL_OUTAGE
    site.status = 200
    assert probe(component, clock, 3).status == ComponentStatus.PARTIAL_OUTAGE
    assert not Incident.objects.exists()


def test_maintenance_is_never_overridden(personas, component, clock, site):
    services.component_status_set(
        component=component, status=ComponentStatus.UNDER_MAINTENANCE, by=personas.engineer, at=clock.tick()
    )
    site.status = 503
    assert probe(component, clock, 5).status == ComponentStatus.UNDER_MAINTENANCE
    site.status = 200
    assert probe(component, clock, 3).status == ComponentStatus.UNDER_MAINTENANCE


def test_an_engineer_who_overrides_the_probe_is_not_contradicted_until_the_outage_ends(
    personas, component, clock, site
):
    site.status = 500
    assert probe(component, clock, 3).status == ComponentStatus.MAJOR_OUTAGE
    # "The probe is wrong": the engineer puts it back by hand while the URL still fails.
    services.component_status_set(
        component=component, status=ComponentStatus.OPERATIONAL, by=personas.engineer, at=clock.tick()
    )
    assert probe(component, clock, 6).status == ComponentStatus.OPERATIONAL
    assert component.last_probe["held"] is True

    site.status = 200
    probe(component, clock, 2)
    assert component.last_probe["held"] is False
    site.status = 500
    assert probe(component, clock, 2).status == ComponentStatus.OPERATIONAL
    assert probe(component, clock).status == ComponentStatus.MAJOR_OUTAGE


def test_an_engineer_who_changes_the_probes_status_keeps_it(personas, component, clock, site):
    site.status = 500
    probe(component, clock, 3)
    services.component_status_set(
        component=component, status=ComponentStatus.PARTIAL_OUTAGE, by=personas.engineer, at=clock.tick()
    )
    site.status = 200
    assert probe(component, clock, 4).status == ComponentStatus.PARTIAL_OUTAGE


# --- The SSRF guard and the timeout ---


@pytest.fixture
def sent(monkeypatch):
    """Count every request httpx is asked to send, whatever its destination."""
    calls: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def counting_send(self, request):
        calls.append(str(request.url))
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", counting_send)
    return calls


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "private"),
        ("http://loopback.example.test:{port}/health", "127.0.0.1, a loopback address"),
    ],
)
def test_a_private_address_is_refused_without_a_connection(settings, page, site, sent, url, why):
    settings.NETGUARD_ALLOW_LOOPBACK = False
    # Saved before the guard could see it (or its name resolved elsewhere then): the worker checks again.
    component = Component.objects.create(page=page, name="Boutique", probe_url=url.format(port=site.server.port))
    clock = Clock(component.status_since)

    probe(component, clock)
    last = component.last_probe
    assert last["refused"] is True
    assert last["verdict"] == "down"
    assert last["status_code"] is None
    assert why in last["error"]
    assert last["reason"].startswith("Refused by the SSRF guard, never fetched")
    assert component.probe_failures == 1

    assert probe(component, clock, 2).status == ComponentStatus.MAJOR_OUTAGE  # a refusal counts as a failure
    assert sent == []
    assert site.server.connections == 0


def test_a_hanging_server_fails_at_the_per_request_timeout(settings, component, clock, site):
    settings.STATUS_PROBE_TIMEOUT = 0.5
    site.delay = 30  # released when the server stops
    started = time.monotonic()
    probe(component, clock)
    assert time.monotonic() - started < 2
    last = component.last_probe
    assert last["verdict"] == "down"
    assert last["status_code"] is None
    assert "Timed out after 0.5 s" in last["error"]
    assert component.probe_failures == 1


# --- Results that arrive late ---


def test_a_result_older_than_the_last_recorded_or_for_another_url_is_dropped(component, clock, site):
    probe(component, clock)
    answer = prober.ProbeResult(url=site.url, final_url=site.url, status=500, elapsed_ms=3.0)
    late = probing.probe_result_apply(component_id=component.pk, url=site.url, result=answer, at=clock.now)
    moved = probing.probe_result_apply(
        component_id=component.pk, url="https://elsewhere.example/", result=answer, at=clock.tick()
    )
    assert late is None
    assert moved is None
    component.refresh_from_db()
    assert component.last_probe["verdict"] == "up"
    assert component.probe_failures == 0


def test_a_new_url_starts_the_count_again(page, component, clock, site):
    site.status = 500
    probe(component, clock, 2)
    Component.objects.filter(pk=component.pk).update(probe_url=f"{site.url}?v=2")
    assert probe(component, clock).probe_failures == 1
    assert component.status == ComponentStatus.OPERATIONAL


# --- Dispatch and the tasks ---


@pytest.fixture
def enqueued(monkeypatch):
    """Record the probes handed to the queue instead of running them."""
    ids: list[int] = []
    monkeypatch.setattr(status_component_task, "delay", ids.append)
    return ids


def test_dispatch_claims_each_due_component_once_even_when_called_twice(
    page, site, enqueued, django_capture_on_commit_callbacks
):
    now = timezone.now()
    never = Component.objects.create(page=page, name="New", probe_url=site.url, next_probe_at=None)
    due = Component.objects.create(page=page, name="Due", probe_url=site.url, next_probe_at=now - 30 * SECOND)
    late = Component.objects.create(
        page=page, name="Late", probe_url=site.url, next_probe_at=now - timedelta(minutes=10)
    )
    Component.objects.create(page=page, name="Later", probe_url=site.url, next_probe_at=now + MINUTE)
    Component.objects.create(page=page, name="Manual", next_probe_at=now - MINUTE)

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_status_probes_task() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_status_probes_task() == 0

    assert enqueued == [never.pk, late.pk, due.pk]
    never.refresh_from_db()
    due.refresh_from_db()
    late.refresh_from_db()
    assert due.next_probe_at == now + 30 * SECOND  # its cadence is kept: one interval after it was due
    assert never.next_probe_at > now
    assert late.next_probe_at > now + timedelta(seconds=50)  # no catching up in a burst after a stop


def test_a_claim_lost_to_another_dispatcher_is_not_enqueued(page, site):
    now = timezone.now()
    component = Component.objects.create(page=page, name="Due", probe_url=site.url, next_probe_at=now - MINUTE)
    # Another beat claimed it between our read and our update: the conditional update matches nothing.
    original = Component.objects.filter

    def racing_filter(*args, **kwargs):
        if "pk" in kwargs:
            Component.objects.update(next_probe_at=now + MINUTE)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Component.objects, "filter", racing_filter)
        assert probing.probes_claim_due(now=now, limit=10) == []
    component.refresh_from_db()
    assert component.next_probe_at == now + MINUTE


def test_dispatch_is_bounded_by_the_batch_setting(settings, page, site, enqueued, django_capture_on_commit_callbacks):
    settings.STATUS_PROBE_BATCH = 2
    now = timezone.now()
    components = [
        Component.objects.create(page=page, name=f"C{n}", probe_url=site.url, next_probe_at=now - n * MINUTE)
        for n in (1, 2, 3)
    ]
    for expected in (2, 1, 0):
        with django_capture_on_commit_callbacks(execute=True):
            assert dispatch_status_probes_task() == expected
    assert enqueued == [components[2].pk, components[1].pk, components[0].pk]


def test_the_probe_tasks_run_on_the_probes_queue_and_beat_names_the_dispatcher(settings):
    from portal.celery import app

    assert "status" in settings.INSTALLED_APPS  # autodiscovery imports status.tasks
    for name in ("probes.dispatch_status_probes", "probes.status_component"):
        assert name in app.tasks
        assert app.amqp.router.route({}, name)["queue"].name == "probes"
    assert settings.CELERY_BEAT_SCHEDULE["dispatch-status-probes"]["task"] == "probes.dispatch_status_probes"


def test_the_probe_task_probes_the_component_now(component, site):
    assert status_component_task.delay(component.pk).get() == "up"
    component.refresh_from_db()
    assert component.last_probed_at is not None
    assert component.last_probe["status_code"] == 200
    assert site.server.seen[-1].path == "/health"

    Component.objects.filter(pk=component.pk).update(probe_url="")
    assert status_component_task.delay(component.pk).get() is None
