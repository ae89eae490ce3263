"""Who reads, edits and downloads a report; the PDF is a real one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from events.models import ForecastProfile
from reports.models import CalibrationSuggestion, EventReport
from reports.services import report_generate, report_publish
from tests.conftest import client_for
from tests.reports.conftest import pdf_text
from tests.tenancy_matrix import make_reported_event


def _url(name, event, **kwargs):
    return reverse(name, kwargs={"org": event.organization.slug, "pk": event.pk, **kwargs})


@pytest.mark.parametrize("persona", ["owner", "member"])
def test_client_gets_404_until_the_report_is_published(personas, aired_event, persona):
    report = report_generate(aired_event)
    client = client_for(personas.by_name(persona))
    assert client.get(_url("event-report", aired_event)).status_code == 404
    assert client.get(_url("event-report-pdf", aired_event)).status_code == 404

    report_publish(report=report, by=personas.engineer)
    page = client.get(_url("event-report", aired_event))
    assert page.status_code == 200
    assert "Capital June" in page.content.decode()
    assert "Publish to the client" not in page.content.decode()
    assert 'name="summary"' not in page.content.decode()  # no editing for clients


def test_outsider_and_anonymous_see_nothing(personas, aired_event):
    report_publish(report=report_generate(aired_event), by=personas.engineer)
    outsider = client_for(personas.outsider)
    assert outsider.get(_url("event-report", aired_event)).status_code == 404
    assert outsider.get(_url("event-report-pdf", aired_event)).status_code == 404
    # The outsider's own organization in the URL does not reach another's event either.
    url = reverse("event-report", kwargs={"org": personas.other_organization.slug, "pk": aired_event.pk})
    assert outsider.get(url).status_code == 404
    assert client_for(None).get(_url("event-report", aired_event)).status_code == 302


def test_client_sees_only_its_own_report(personas, aired_event):
    report_publish(report=report_generate(aired_event), by=personas.engineer)
    foreign = make_reported_event(personas.other_organization)
    owner = client_for(personas.owner)
    assert owner.get(_url("event-report", aired_event)).status_code == 200
    smuggled = reverse("event-report", kwargs={"org": personas.organization.slug, "pk": foreign.pk})
    assert owner.get(smuggled).status_code == 404


def test_engineer_edits_regenerates_and_publishes(personas, aired_event):
    engineer = client_for(personas.engineer)
    page = engineer.get(_url("event-report", aired_event))
    assert "Generate the report now" in page.content.decode()
    engineer.post(_url("event-report-generate", aired_event))
    report = EventReport.objects.get(event=aired_event)
    engineer.post(_url("event-report-summary", aired_event), {"summary": "## Calm night\n\nNo surprise."})
    engineer.post(_url("event-report-generate", aired_event))
    report.refresh_from_db()
    assert report.summary.startswith("## Calm night")
    page = engineer.get(_url("event-report", aired_event)).content.decode()
    assert "<h3>Calm night</h3>" in page
    assert "visit rate observed" in page
    engineer.post(_url("event-report-publish", aired_event))
    report.refresh_from_db()
    assert report.is_published()


def test_members_cannot_change_a_report_or_calibrate(personas, aired_event):
    report = report_generate(aired_event)
    report_publish(report=report, by=personas.engineer)
    suggestion = CalibrationSuggestion.objects.get(event=aired_event)
    owner = client_for(personas.owner)
    assert owner.post(_url("event-report-summary", aired_event), {"summary": "mine"}).status_code == 403
    assert owner.post(_url("event-report-generate", aired_event)).status_code == 403
    url = _url("event-report-calibration", aired_event, suggestion=suggestion.pk, decision="accept")
    assert owner.post(url).status_code == 403
    report.refresh_from_db()
    suggestion.refresh_from_db()
    assert report.summary != "mine"
    assert suggestion.is_open()
    assert not ForecastProfile.objects.filter(organization=personas.organization).exists()


def test_engineer_accepts_a_calibration_from_the_page(personas, aired_event):
    report_generate(aired_event)
    suggestion = CalibrationSuggestion.objects.get(event=aired_event)
    url = _url("event-report-calibration", aired_event, suggestion=suggestion.pk, decision="accept")
    assert client_for(personas.engineer).post(url).status_code == 302
    profile = ForecastProfile.objects.get(organization=personas.organization)
    assert profile.visit_rate == pytest.approx(suggestion.observed)


def test_pdf_is_a_real_pdf_with_the_title(personas, aired_event):
    report = report_generate(aired_event)
    report_publish(report=report, by=personas.engineer)
    response = client_for(personas.member).get(_url("event-report-pdf", aired_event))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="report-capital-june.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Event report: Capital June" in text
    assert "Forecast against observed" in text
