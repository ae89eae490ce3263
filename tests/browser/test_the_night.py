"""The demo's night, end to end in headless Chromium, on the data ``seed_demo`` loads.

Nadia (the demo engineer) opens the rehearsal on air, watches its live room fill in against the forecast, follows
the On-air watch runbook to the end, declares an incident that the public status page shows, resolves it from the
status page screens, completes the event and publishes its report; Camille (the client's owner) then reads the
report and downloads its PDF. The simulated AWS account is moto's server on loopback, as in a local demo run.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from events.models import MediaEvent
from live import collector, simulation
from live.demo import REHEARSAL_TITLE
from live.models import ObservedMinute
from portal.management.commands.seed_demo import DEMO_ENGINEER, DEMO_PASSWORD, DEMO_PEOPLE
from reports.models import EventReport
from runbooks.library import starter_library_load
from runbooks.models import ExecutionEntry, RunbookExecution
from status.models import Component, Incident, StatusPage
from tests.browser.conftest import sign_in
from tests.cloud import conftest as cloud_fixtures
from tests.reports.conftest import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
aws = cloud_fixtures.aws

NADIA = DEMO_ENGINEER[0]
CAMILLE = DEMO_PEOPLE[0][0]
INCIDENT = "Slow product pages during the rehearsal"
OBSERVED = re.compile(r"observed at the load balancers \((\d+) minutes")


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on loopback for this module (see tests/readiness/test_aws_checks.py for why module scope)."""
    yield from cloud_fixtures.moto_endpoint.__wrapped__()


@pytest.fixture
def rehearsal(settings, aws):
    """The demo as ``seed_demo`` leaves it, against the simulated account: the rehearsal on air, with its traffic."""
    settings.AWS_SIMULATED_ACCOUNT = True  # the endpoint is moto's, on loopback
    settings.LIVE_ROOM_REFRESH_SECONDS = 1
    starter_library_load()  # the data migration loads it on a real database; tests run without migrations
    call_command("seed_demo", force=True, stdout=io.StringIO())
    event = MediaEvent.objects.get(title=REHEARSAL_TITLE)
    assert event.status == MediaEvent.Status.ON_AIR
    assert ObservedMinute.objects.filter(event=event, missing=False).count() > 10
    return event


def _observed_in_caption(page) -> int:
    match = OBSERVED.search(page.locator("#live-now figcaption").inner_text())
    assert match, "the chart's caption gives the observed minutes"
    return int(match.group(1))


def _next_minute_arrives(event: MediaEvent) -> None:
    """What the beat does a minute later: put the demo traffic into moto, then the collector reads it back."""
    later = timezone.now() + timedelta(minutes=1)
    assert simulation.demo_traffic_put(event=event, now=later) >= 1
    collector.event_metrics_collect(event=event, now=later + timedelta(seconds=20))


def test_the_demo_night_from_the_on_air_watch_to_the_clients_report(page, screenshot, rehearsal, tmp_path):
    event_url = f"/o/maison-lumiere/events/{rehearsal.pk}/"
    status_page = StatusPage.objects.get(slug="maison-lumiere")

    # --- Nadia opens the rehearsal on air, from the events list.
    sign_in(page, NADIA, DEMO_PASSWORD)
    page.goto("/o/maison-lumiere/events/")
    page.get_by_role("link", name=REHEARSAL_TITLE).click()
    expect(page.locator("h2.event-title")).to_contain_text(REHEARSAL_TITLE)
    expect(page.locator("h2.event-title")).to_contain_text("On air")
    expect(page.get_by_role("link", name="On-air watch")).to_be_visible()
    screenshot("night-01-event-on-air")

    # --- The live room: observed minutes drawn over the forecast band, then a new minute arrives without reload.
    page.get_by_role("link", name="Open the live room").click()
    expect(page.get_by_role("heading", name="Live room")).to_be_visible()
    expect(page.get_by_test_id("live-state")).to_contain_text("Room open")
    expect(page.locator("#live-now polyline.chart-observed")).to_have_count(1)
    expect(page.get_by_test_id("live-rps")).to_have_text(re.compile(r"^\d[\d,.\u202f\u00a0]*$"))
    before = _observed_in_caption(page)
    assert before == ObservedMinute.objects.filter(event=rehearsal, missing=False).count()
    screenshot("night-02-live-room")

    page.evaluate("window.__sameDocument = true")
    _next_minute_arrives(rehearsal)
    expect(page.locator("#live-now figcaption")).not_to_contain_text(f"({before} minutes")
    assert _observed_in_caption(page) > before
    assert page.evaluate("window.__sameDocument === true"), "the room refreshed by a full reload"
    screenshot("night-03-live-room-new-minute")

    # --- The On-air watch runbook, from the event's suggestions, taken to the end.
    page.goto(event_url)
    page.get_by_role("link", name="On-air watch").click()
    expect(page.get_by_label("Event")).to_have_value(str(rehearsal.pk))
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("Running")
    execution = RunbookExecution.objects.get(event=rehearsal)
    # The air time reads in the client's time zone, as on the event page.
    local_air = dateformat.format(timezone.localtime(rehearsal.air_start, ZoneInfo("Europe/Paris")), "j M Y, H:i")
    expect(page.locator(".page-header")).to_contain_text(f"air time {local_air}")
    # The live room lists the runbook in progress.
    page.goto(f"{event_url}live/")
    expect(page.get_by_role("region", name="Runbooks in progress")).to_contain_text("On-air watch")
    page.goto(f"/engineering/runbooks/executions/{execution.pk}/")
    steps = list(execution.version.steps.order_by("position"))
    kinds = [step.kind for step in steps]
    assert kinds == ["automated", "manual_check", "manual_check", "confirmation", "manual_check"]
    for step in steps:
        row = page.get_by_test_id(f"step-{step.position}")
        if step.kind == "automated":
            row.get_by_role("button", name="Run").click()
            expected = "Done"
        elif step.kind == "confirmation":
            # The rehearsal has no scaling plan: the confirmation is skipped, which needs a written reason.
            row.get_by_text("Skip this step").click()
            row.get_by_label("Why is it skipped? (required)").fill("Rehearsal: no scaling plan to hold.")
            row.get_by_role("button", name="Skip").click()
            expected = "Skipped"
        else:
            row.get_by_label("Note (optional)").fill(f"Checked in the live room ({step.title.lower()}).")
            row.get_by_role("button", name="Done").click()
            expected = "Done"
        expect(page.get_by_test_id(f"step-state-{step.position}")).to_have_text(expected)
    expect(page.get_by_test_id("run-output-1")).to_contain_text("Client notified")
    page.get_by_role("button", name="Complete the execution").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("Completed")
    expect(page.get_by_test_id("execution-log")).to_contain_text("Rehearsal: no scaling plan to hold.")
    screenshot("night-04-runbook-completed")
    execution.refresh_from_db()
    assert execution.status == RunbookExecution.Status.COMPLETED
    outcomes = list(
        ExecutionEntry.objects.filter(execution=execution, step__isnull=False).values_list("outcome", flat=True)
    )
    assert sorted(outcomes) == ["done", "done", "done", "done", "skipped"]

    # --- The public page before: all operational (a new query string each time: the browser caches the page).
    page.goto("/status/maison-lumiere/?lang=en&at=before")
    expect(page.get_by_role("heading", level=1)).to_have_text("All systems operational")

    # --- An incident declared from the live room shows on the public status page.
    page.goto(f"{event_url}live/")
    form = page.locator("form.live-incident-form")
    form.get_by_label("Title").fill(INCIDENT)
    form.get_by_label("What the public reads").fill("Product pages load **slowly**; we are adding capacity.")
    form.get_by_label("Impact").select_option("minor")
    form.get_by_label("Website").check()
    form.get_by_label("Their status").select_option("degraded_performance")
    form.get_by_role("button", name="Declare the incident").click()
    expect(page.get_by_text(f"Incident “{INCIDENT}” is on the status page.")).to_be_visible()
    expect(page.get_by_test_id("live-timeline")).to_contain_text(f"Incident declared on the status page: {INCIDENT}")
    screenshot("night-05-live-room-incident-declared")
    incident = Incident.objects.get(name=INCIDENT)
    assert Component.objects.get(page=status_page, name="Website").status == "degraded_performance"

    page.goto("/status/maison-lumiere/?lang=en&at=incident")
    expect(page.get_by_role("heading", level=1)).to_have_text("Minor service outage")
    expect(page.get_by_role("link", name=INCIDENT)).to_be_visible()
    expect(page.locator("strong", has_text="slowly")).to_be_visible()
    screenshot("night-06-status-page-incident")

    # --- Resolved from the status page screens; the public page is back to operational.
    page.goto(f"/o/maison-lumiere/status-pages/{status_page.pk}/incidents/")
    page.get_by_role("link", name=INCIDENT).click()
    update = page.get_by_role("region", name="Post an update")
    update.get_by_role("combobox", name="Status:").select_option("resolved")
    update.get_by_role("textbox", name="Message:").fill("Capacity added; product pages load normally again.")
    page.get_by_role("button", name="Post the update").click()
    expect(page.get_by_test_id("update").first).to_contain_text("Resolved")
    screenshot("night-07-incident-resolved")
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert Component.objects.get(page=status_page, name="Website").status == "operational"

    page.goto("/status/maison-lumiere/?lang=en&at=resolved")
    expect(page.get_by_role("heading", level=1)).to_have_text("All systems operational")
    expect(page.get_by_role("link", name=INCIDENT)).to_be_visible()  # now among the past incidents
    expect(page.get_by_text("Resolved — Capacity added; product pages load normally again.")).to_be_visible()
    screenshot("night-08-status-page-resolved")

    # --- The event completes (the report is drafted by its task), then the report is published.
    page.goto(event_url)
    page.get_by_role("button", name="Complete", exact=True).click()
    expect(page.get_by_role("link", name="Post-event report")).to_be_visible()
    rehearsal.refresh_from_db()
    assert rehearsal.status == MediaEvent.Status.COMPLETED
    page.get_by_role("link", name="Post-event report").click()
    report_box = page.get_by_test_id("event-report")
    expect(report_box).to_contain_text("Forecast against observed")
    expect(report_box).to_contain_text(INCIDENT)
    page.get_by_role("button", name="Publish to the client").click()
    expect(report_box).to_contain_text("published")
    assert EventReport.objects.get(event=rehearsal).is_published()
    screenshot("night-09-report-published")
    page.context.clear_cookies()

    # --- Camille reads the report and downloads its PDF.
    sign_in(page, CAMILLE, DEMO_PASSWORD)
    page.goto(event_url)
    page.get_by_role("link", name="Post-event report").click()
    expect(report_box).to_contain_text("Forecast against observed")
    expect(report_box).to_contain_text(INCIDENT)
    expect(page.get_by_role("button", name="Publish to the client")).to_have_count(0)
    expect(page.locator(".report-chart svg").first).to_be_visible()
    screenshot("night-10-client-reads-the-report")
    with page.expect_download() as download_info:
        page.get_by_test_id("report-pdf").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    assert f"Event report: {REHEARSAL_TITLE}" in pdf_text(data)
