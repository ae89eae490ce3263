"""A client runs the readiness checks of a booked event and reads a report that says what to do."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from readiness.models import ReadinessRun
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.probes import serve, text
from tests.tenancy_matrix import make_event, make_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_client_runs_readiness_and_reads_what_to_do(personas, page, screenshot, settings):
    # The landing page is a local server: the test allows loopback to the SSRF guard explicitly.
    settings.NETGUARD_ALLOW_LOOPBACK = True
    page_html = "<html><head><title>Lamps</title></head><body><img src='/a.png'></body></html>"
    with serve({"/": text(page_html, headers=[("Content-Type", "text/html"), ("Set-Cookie", "session=x")])}) as site:
        stack = make_stack(personas.organization, name="Shop website")
        event = make_event(personas.organization, stack=stack, title="Capital on M6", landing_urls=[f"{site.url}/"])

        sign_in(page, personas.owner.email, PASSWORD)
        page.goto(f"/o/maison-lumiere/events/{event.pk}/")
        page.get_by_role("button", name="Run readiness checks").click()

        expect(page.get_by_role("heading", name="Readiness report")).to_be_visible()
        expect(page.get_by_test_id("run-progress")).to_be_visible()
        # Tasks run in-process in tests, so the run is complete when the page shows.
        expect(page.locator(".event-title .badge")).to_have_text("Not ready")
        status = page.get_by_test_id("finding-http.status")
        expect(status).to_contain_text("Pass")
        cacheable = page.get_by_test_id("finding-http.cacheable")
        expect(cacheable).to_contain_text("What to do:")
        linked = page.get_by_test_id("finding-aws.account_linked")
        expect(linked).to_contain_text("Create the role from the AWS page")
        screenshot("readiness-report")

    run = ReadinessRun.objects.get(event=event)
    assert run.status == ReadinessRun.Status.COMPLETED
    assert run.verdict == ReadinessRun.Verdict.NOT_READY
