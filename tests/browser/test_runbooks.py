"""An engineer follows the on-air runbook for a broadcast, from start to the end, in headless Chromium."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from events.models import MediaEvent
from runbooks.library import starter_library_load
from runbooks.models import ExecutionEntry, Runbook, RunbookExecution
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.tenancy_matrix import make_event

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_engineer_runs_the_on_air_runbook_to_the_end(personas, page, screenshot):
    starter_library_load()
    event = make_event(personas.organization, title="Capital on M6", status=MediaEvent.Status.READY, days_ahead=0)
    runbook = Runbook.objects.get(title="On-air watch")
    steps = list(runbook.current_version.steps.order_by("position"))

    sign_in(page, personas.engineer.email, PASSWORD)
    page.goto(f"/engineering/runbooks/{runbook.pk}/")
    page.get_by_label("Event").select_option(label="Maison Lumière · Capital on M6")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("Running")

    for step in steps:
        row = page.get_by_test_id(f"step-{step.position}")
        if step.kind == "automated":
            row.get_by_role("button", name="Run").click()
        elif step.kind == "confirmation":
            row.get_by_role("button", name="Confirm").click()
        else:
            page.get_by_test_id(f"step-{step.position}").get_by_label("Note (optional)").fill("Looks fine")
            page.get_by_test_id(f"step-{step.position}").get_by_role("button", name="Done").click()
        expect(page.get_by_test_id(f"step-state-{step.position}")).to_have_text("Done")

    expect(page.get_by_test_id("run-output-1")).to_contain_text("Client notified")
    page.get_by_role("button", name="Complete the execution").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("Completed")
    expect(page.get_by_test_id("execution-log")).to_contain_text("Looks fine")
    screenshot("runbook-on-air-completed")

    execution = RunbookExecution.objects.get()
    assert execution.status == RunbookExecution.Status.COMPLETED
    assert execution.event == event
    assert ExecutionEntry.objects.filter(execution=execution, outcome="done").count() == len(steps)
    assert any("Primetime" in message.subject for message in mail.outbox)

    # The client reads the same execution, read-only, under its organization.
    page.goto(f"/o/maison-lumiere/runbook-executions/{execution.pk}/")
    expect(page.get_by_test_id("execution-log")).to_contain_text("Looks fine")
