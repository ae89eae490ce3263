"""The pages people click, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Invitation, Membership
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_owner_signs_in_and_invites_a_colleague(personas, page, screenshot):
    sign_in(page, personas.owner.email, PASSWORD)
    expect(page.get_by_role("heading", name="Maison Lumière")).to_be_visible()
    screenshot("dashboard-owner")

    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Members").click()
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("E-mail").fill("new.colleague@lumiere.example")
    invite.get_by_label("Role").select_option("member")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to new.colleague@lumiere.example")
    expect(page.get_by_role("cell", name="new.colleague@lumiere.example")).to_be_visible()
    screenshot("members-owner")
    assert Invitation.objects.filter(email="new.colleague@lumiere.example").exists()


def test_invite_form_shows_the_field_error(personas, page, screenshot):
    sign_in(page, personas.owner.email, PASSWORD)
    page.goto("/o/maison-lumiere/members/")
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#id_email_error")).to_contain_text("valid email")
    screenshot("members-invite-error")


def test_member_switches_between_organizations(personas, page):
    Membership.objects.create(user=personas.member, organization=personas.other_organization)
    sign_in(page, personas.member.email, PASSWORD)
    expect(page.get_by_role("heading", name="Maison Lumière")).to_be_visible()
    switcher = page.get_by_test_id("org-switcher")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="Vélo Vert").click()
    expect(page.get_by_role("heading", name="Vélo Vert")).to_be_visible()
    # A member sees no invite form and no settings tab.
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Members").click()
    expect(page.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)


def test_engineer_onboards_a_client(personas, page, screenshot):
    sign_in(page, personas.engineer.email, PASSWORD)
    expect(page.get_by_role("heading", name="Event queue")).to_be_visible()
    page.get_by_role("link", name="All organizations").click()
    expect(page.get_by_role("heading", name="All organizations")).to_be_visible()
    screenshot("engineer-organizations")
    page.get_by_role("link", name="Onboard a client").click()
    page.get_by_label("Name").fill("Fromagerie Numérique")
    page.get_by_label("Contact e-mail").fill("cto@fromagerie.example")
    page.get_by_label("First owner's e-mail").fill("cto@fromagerie.example")
    page.get_by_role("button", name="Create the organization").click()
    expect(page.get_by_role("heading", name="Fromagerie Numérique")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("we sent an invitation to cto@fromagerie.example")


def test_profile_creates_a_token_shown_once(personas, page, screenshot):
    sign_in(page, personas.member.email, PASSWORD)
    page.goto("/accounts/profile/")
    page.get_by_label("Name").last.fill("Deploy script")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_test_id("new-token").inner_text()
    assert key.startswith("pt_")
    screenshot("profile-token")
    page.reload()
    expect(page.get_by_test_id("new-token")).to_have_count(0)


def test_wrong_password_is_explained(personas, page, screenshot):
    sign_in(page, personas.owner.email, "not-the-password")
    expect(page.locator(".errorlist")).to_contain_text("correct e-mail")
    screenshot("sign-in-error")
