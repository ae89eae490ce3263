"""The public status page in headless Chromium, in English and French: readable without JavaScript,
styled under its own Content-Security-Policy, and showing an incident as soon as it is posted."""

from __future__ import annotations

import pytest

from status import services
from status.models import Component
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def status_page(personas):
    page = services.page_create(
        organization=personas.organization, by=personas.engineer, name="Maison Lumière", slug="lumiere",
        accent_colour="#8a4b08",
    )  # fmt: skip
    shop = services.group_save(page=page, by=personas.engineer, name="Shop", position=1)
    for position, name in enumerate(["Website", "Checkout"], start=1):
        services.component_save(page=page, by=personas.engineer, name=name, group=shop, position=position)
    return page


def _watch_console(browser_page) -> list[str]:
    problems: list[str] = []
    browser_page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    browser_page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_the_public_page_reads_in_english_and_french_and_shows_a_new_incident(
    personas, status_page, chromium, live_server
):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False, locale="en-GB")
    browser_page = context.new_page()
    problems = _watch_console(browser_page)
    browser_page.goto("/status/lumiere/")
    assert browser_page.get_by_role("heading", level=1).inner_text() == "All systems operational"
    assert browser_page.get_by_text("Website").first.is_visible()
    assert browser_page.locator("svg.uptime").count() == 2
    # The stylesheet and the hashed inline style both apply under the page's CSP.
    banner = browser_page.locator(".banner")
    assert banner.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(26, 127, 55)"
    link = browser_page.get_by_role("link", name="Incident history").first
    assert link.evaluate("node => getComputedStyle(node).color") == "rgb(138, 75, 8)"
    assert problems == []

    checkout = Component.objects.get(name="Checkout")
    services.incident_create(
        page=status_page, by=personas.engineer, name="Payments fail", impact="major",
        body="Card payments are **declined**; we are on it.", component_statuses={checkout: "partial_outage"},
    )  # fmt: skip
    # The browser keeps the first answer for max-age seconds; a new query string is a new URL to it (and the
    # same snapshot to the server, which ignores unknown parameters).
    browser_page.goto("/status/lumiere/?after=incident")
    assert browser_page.get_by_role("heading", level=1).inner_text() == "Partial system outage"
    assert browser_page.get_by_role("link", name="Payments fail").is_visible()
    assert browser_page.locator("strong", has_text="declined").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SCREENSHOTS / "status-page-en.png"), full_page=True)

    browser_page.get_by_role("link", name="Français").click()
    assert browser_page.locator("html").get_attribute("lang") == "fr"
    assert browser_page.get_by_role("heading", level=1).inner_text() == "Panne partielle du système"
    assert browser_page.get_by_text("Panne partielle").first.is_visible()
    browser_page.get_by_role("link", name="Payments fail").click()
    assert browser_page.get_by_role("heading", level=1).inner_text() == "Payments fail"
    assert browser_page.get_by_text("Enquête en cours").is_visible()
    browser_page.screenshot(path=str(SCREENSHOTS / "status-incident-fr.png"), full_page=True)
    assert problems == []
    context.close()


def test_the_public_page_fits_a_phone(status_page, chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    browser_page = context.new_page()
    browser_page.goto("/status/lumiere/")
    width = browser_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    context.close()
