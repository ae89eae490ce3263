"""A client books a broadcast and reads its forecast; an engineer finds it in the queue and accepts it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import MediaEvent
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.tenancy_matrix import make_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_client_books_and_engineer_accepts(personas, page, screenshot, live_server):
    make_stack(personas.organization, name="Shop website")
    air = timezone.localtime(timezone.now() + timedelta(days=5), timezone.get_fixed_timezone(60))

    sign_in(page, personas.owner.email, PASSWORD)
    page.get_by_role("link", name="Media events").click()
    page.get_by_role("link", name="Book a media event").click()
    page.get_by_label("What is it called?").fill("Capital on M6")
    page.get_by_label("Channel").fill("M6")
    page.get_by_label("Air time:", exact=True).fill(air.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("End of the segment").fill((air + timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Expected audience:", exact=True).fill("2921000")
    screenshot("event-booking-form")
    page.get_by_role("button", name="Book and send to the engineers").click()

    expect(page.get_by_role("heading", name="Capital on M6")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Booked and sent to the engineers")
    chart = page.locator("svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("text", has_text=re.compile(r"^Peak "))).to_have_count(1)
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    screenshot("event-detail-client")
    event = MediaEvent.objects.get(title="Capital on M6")
    assert event.status == MediaEvent.Status.SUBMITTED

    page.context.clear_cookies()
    sign_in(page, personas.engineer.email, PASSWORD)
    page.get_by_role("link", name="Queue").click()
    row = page.get_by_test_id(f"queue-row-{event.pk}")
    expect(row).to_contain_text("Capital on M6")
    expect(row).to_contain_text("Submitted")
    screenshot("engineer-queue")
    row.get_by_role("link", name="Capital on M6").click()
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text("Done: Accept")
    expect(page.locator(".event-title .badge")).to_have_text("Accepted")
    screenshot("event-detail-engineer")
    event.refresh_from_db()
    assert (event.status, event.assignee) == (MediaEvent.Status.ACCEPTED, personas.engineer)
