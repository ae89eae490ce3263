"""An engineer publishes the post-event report; the client reads it and downloads a PDF that opens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from events.models import MediaEvent
from live.models import ObservedMinute
from reports.models import EventReport
from reports.services import report_generate
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.reports.conftest import pdf_text
from tests.tenancy_matrix import make_event

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_engineer_publishes_and_the_client_downloads_the_pdf(personas, page, screenshot, tmp_path):
    event = make_event(personas.organization, days_ahead=-1, status=MediaEvent.Status.COMPLETED, title="Capital on M6")
    for offset, requests in enumerate([6_000, 42_000, 36_000, None, 24_000]):
        ObservedMinute.objects.create(
            event=event,
            minute=event.air_start + timedelta(minutes=offset),
            requests=requests,
            errors_5xx=0 if requests else None,
            missing=requests is None,
        )
    report_generate(event)
    url = f"/o/maison-lumiere/events/{event.pk}/report/"

    sign_in(page, personas.engineer.email, PASSWORD)
    page.goto(url)
    expect(page.get_by_test_id("event-report")).to_contain_text("Forecast against observed")
    expect(page.locator(".report-chart svg")).to_be_visible()
    page.get_by_text("Edit the summary").click()
    page.get_by_label("Summary (Markdown)").fill("The site **held** through the spike.")
    page.get_by_role("button", name="Save the summary").click()
    expect(page.get_by_test_id("event-report")).to_contain_text("The site held through the spike.")
    page.get_by_role("button", name="Publish to the client").click()
    expect(page.get_by_test_id("event-report")).to_contain_text("published")
    assert EventReport.objects.get(event=event).is_published()
    page.context.clear_cookies()

    sign_in(page, personas.member.email, PASSWORD)
    page.goto(url)
    expect(page.get_by_test_id("event-report")).to_contain_text("The site held through the spike.")
    expect(page.get_by_role("button", name="Publish to the client")).to_have_count(0)
    screenshot("event-report")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    screenshot("event-report-print")
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.get_by_test_id("report-pdf").click()
    download = download_info.value
    assert download.suggested_filename == "report-capital-on-m6.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    assert "Event report: Capital on M6" in pdf_text(data)

    response = page.request.get(f"/o/maison-lumiere/events/{event.pk}/report/report.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
