"""Scenario 12 in Chromium: the portal's pages still work under their CSP, with no violation reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.tenancy_matrix import make_event, make_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _watch_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    return seen


def test_swagger_ui_runs_under_the_portal_csp(personas, page):
    violations = _watch_violations(page)
    sign_in(page, personas.engineer.email, PASSWORD)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Primetime API")
    expect(page.locator(".opblock").first).to_be_visible()
    print(f"Swagger UI under CSP: {len(violations)} violations")
    assert violations == []


def test_live_room_refreshes_under_the_portal_csp(personas, page, settings):
    from django.utils import timezone

    from events.models import MediaEvent

    settings.LIVE_ROOM_REFRESH_SECONDS = 1
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    event = make_event(
        personas.organization, stack=make_stack(personas.organization), status=MediaEvent.Status.ON_AIR,
        air_start=start, air_end=start + timedelta(minutes=12),
    )  # fmt: skip
    violations = _watch_violations(page)
    sign_in(page, personas.member.email, PASSWORD)
    page.goto(f"/o/maison-lumiere/events/{event.pk}/live/")
    # The poll (now static/js/live-room.js) swaps the fragment in and stamps the time it did.
    expect(page.locator("#live-now[data-refreshed]")).to_have_count(1)
    print(f"Live room under CSP: {len(violations)} violations")
    assert violations == []
