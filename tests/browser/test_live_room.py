"""The live room fills in by itself as observed minutes arrive, and stays usable on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from live.models import ObservedMinute
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.tenancy_matrix import make_event, make_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def on_air(personas, settings):
    from django.utils import timezone

    from events.models import MediaEvent

    settings.LIVE_ROOM_REFRESH_SECONDS = 1
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    stack = make_stack(personas.organization, name="Shop website")
    return make_event(
        personas.organization, stack=stack, title="Capital on M6", status=MediaEvent.Status.ON_AIR,
        air_start=start, air_end=start + timedelta(minutes=12),
    )  # fmt: skip


def test_the_live_room_updates_as_observed_points_arrive(personas, page, on_air, screenshot):
    sign_in(page, personas.member.email, PASSWORD)
    page.goto(f"/o/maison-lumiere/events/{on_air.pk}/live/")
    expect(page.get_by_role("heading", name="Live room")).to_be_visible()
    expect(page.get_by_test_id("live-rps")).to_have_text("—")
    assert page.locator("polyline.chart-observed").count() == 0

    for minute, requests in ((1, 3000), (2, 9000), (3, 12_000)):
        ObservedMinute.objects.create(
            event=on_air, minute=on_air.air_start + timedelta(minutes=minute), requests=requests, errors_5xx=0,
            p95_ms=180.0,
        )  # fmt: skip

    # No reload: the page's poll swaps the fragment in.
    expect(page.get_by_test_id("live-rps")).to_have_text("200")
    expect(page.locator("polyline.chart-observed")).to_have_count(1)
    ObservedMinute.objects.create(event=on_air, minute=on_air.air_start + timedelta(minutes=4), missing=True)
    expect(page.get_by_test_id("live-rps")).to_contain_text("no data")
    expect(page.locator(".chart-missing rect")).to_have_count(1)
    screenshot("live-room")


def test_the_live_room_fits_a_phone(personas, page, on_air, screenshot):
    page.set_viewport_size({"width": 375, "height": 800})
    ObservedMinute.objects.create(event=on_air, minute=on_air.air_start + timedelta(minutes=1), requests=6000)
    sign_in(page, personas.engineer.email, PASSWORD)
    page.goto(f"/o/maison-lumiere/events/{on_air.pk}/live/")
    expect(page.get_by_role("heading", name="Declare an incident")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot("live-room-phone")
