from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from events.models import MediaEvent
from runbooks.models import Runbook, RunbookStep
from runbooks.selectors import runbooks_for_next_phase
from tests.conftest import client_for

STARTER = {
    "Booking review", "T-7 days audit", "T-1 hour go/no-go", "On-air watch", "Origin overloaded",
    "Database saturated", "CDN errors", "Post-event review",
}  # fmt: skip


def test_starter_library_is_loaded_by_the_data_migration(db):
    import importlib

    from django.apps import apps

    Runbook.objects.all().delete()
    migration = importlib.import_module("runbooks.migrations.0002_starter_library")
    migration.load(apps, None)
    assert set(Runbook.objects.values_list("title", flat=True)) == STARTER
    migration.load(apps, None)  # running it again adds nothing
    assert Runbook.objects.count() == len(STARTER)


def test_starter_library_is_present(personas):
    assert set(Runbook.objects.values_list("title", flat=True)) >= STARTER
    for runbook in Runbook.objects.filter(title__in=STARTER):
        version = runbook.current_version
        assert version.number == 1
        assert version.steps.count() >= 4
    automated = RunbookStep.objects.filter(version__runbook__title="On-air watch", kind="automated")
    assert automated.exists()
    page = client_for(personas.engineer).get(reverse("runbook-list")).content.decode()
    assert "Origin overloaded" in page


def test_suggestions_follow_the_next_phase(personas, event_factory):
    now = timezone.now()
    event = event_factory(status=MediaEvent.Status.ACCEPTED)  # ten days ahead
    assert [r.title for r in runbooks_for_next_phase(event, now)] == ["T-7 days audit"]
    assert [r.title for r in runbooks_for_next_phase(event, event.air_start - timedelta(minutes=50))] == [
        "T-1 hour go/no-go"
    ]
    assert [r.title for r in runbooks_for_next_phase(event, event.air_start + timedelta(minutes=1))] == ["On-air watch"]
    assert [r.title for r in runbooks_for_next_phase(event, event.air_end + timedelta(hours=1))] == [
        "Post-event review"
    ]
    submitted = event_factory(status=MediaEvent.Status.SUBMITTED)
    assert [r.title for r in runbooks_for_next_phase(submitted, now)] == ["Booking review"]
