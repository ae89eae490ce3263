"""Sign-in, sign-out, password change and reset, brute-force protection."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

import portal.settings as project_settings
from accounts.models import User
from tests.conftest import PASSWORD, client_for


def _sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_sign_in_with_email_lands_on_the_organization(personas):
    client = client_for(None)
    response = _sign_in(client, "OWNER@lumiere.example", PASSWORD)
    assert response.status_code == 302
    dashboard = client.get(response["Location"], follow=True)
    assert dashboard.request["PATH_INFO"] == reverse("organization-dashboard", args=["maison-lumiere"])


def test_engineer_lands_on_the_event_queue(personas):
    client = client_for(None)
    response = _sign_in(client, personas.engineer.email, PASSWORD)
    assert client.get(response["Location"])["Location"] == reverse("engineering-queue")


def test_wrong_password_is_refused_with_a_message(personas):
    response = _sign_in(client_for(None), personas.owner.email, "wrong-password")
    assert response.status_code == 200
    assert "correct e-mail" in response.content.decode()


def test_repeated_failures_lock_the_account_out(personas):
    client = client_for(None)
    for attempt in range(5):
        # Changing the case of the address does not reset the count.
        email = personas.owner.email.upper() if attempt % 2 else personas.owner.email
        _sign_in(client, email, "wrong-password")
    response = _sign_in(client, personas.owner.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_behind_proxies_the_lockout_counts_the_visitors_address_not_the_proxys(personas, settings):
    from django.test import Client

    settings.PROXY_COUNT = 2  # load balancer + nginx: both forward from the same address
    attacker = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.66, 10.0.0.9")
    for _attempt in range(5):
        _sign_in(attacker, personas.owner.email, "wrong-password")
    assert _sign_in(attacker, personas.owner.email, PASSWORD).status_code == 429
    # The owner, behind the same proxies but from their own address, still signs in.
    owner = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.9")
    assert _sign_in(owner, personas.owner.email, PASSWORD).status_code == 302


def test_sign_out_needs_a_post(personas):
    client = client_for(personas.owner)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("profile")).status_code == 302


def test_passwords_are_hashed_with_argon2(db, settings):
    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = User.objects.create_user(email="hash@example.com", password=PASSWORD)
    assert user.password.startswith("argon2$")
    assert user.check_password(PASSWORD)


def test_password_reset_sends_a_working_link(personas, mailoutbox, django_capture_on_commit_callbacks):
    client = client_for(None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": personas.member.email})
    assert response.status_code == 302
    assert mailoutbox[-1].to == [personas.member.email]
    link = urlsplit(re.search(r"https?://\S+/password/reset/\S+/", mailoutbox[-1].body).group(0)).path
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new_password = "a-brand-new-passphrase"
    response = client.post(
        form_page.request["PATH_INFO"], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    personas.member.refresh_from_db()
    assert personas.member.check_password(new_password)


def test_password_reset_does_not_tell_who_has_an_account(db, mailoutbox):
    response = client_for(None).post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_password_change_names_the_wrong_field(personas):
    response = client_for(personas.owner).post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": "another-passphrase", "new_password2": "another-passphrase"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"old_password"}


@pytest.mark.parametrize(
    ("url_name", "args"),
    [("login", []), ("password_reset", []), ("password_reset_done", []), ("password_reset_complete", [])],
)
def test_auth_pages_render(db, url_name, args):
    assert client_for(None).get(reverse(url_name, args=args)).status_code == 200


def test_language_switch_is_kept_in_the_profile(personas):
    client = client_for(personas.member)
    client.post(reverse("language-switch"), {"language": "fr", "next": "/accounts/profile/"})
    personas.member.refresh_from_db()
    assert personas.member.language == "fr"


def test_language_switch_refuses_foreign_redirects(db):
    response = client_for(None).post(reverse("language-switch"), {"language": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/"
