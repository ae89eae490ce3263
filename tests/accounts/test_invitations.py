"""Invitations: a signed, expiring, one-time link sent by e-mail."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, User
from tests.conftest import PASSWORD, client_for, make_user


@pytest.fixture
def invite(personas, django_capture_on_commit_callbacks):
    """Invite an address as the owner; return (invitation, the link from the e-mail)."""

    def _invite(email="newcomer@example.com", role=Membership.Role.MEMBER):
        from django.core import mail

        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.invitation_create(
                organization=personas.organization, email=email, role=role, by=personas.owner
            )
        link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
        return invitation, urlsplit(link).path

    return _invite


def test_invitation_email_names_the_organization_and_carries_the_link(personas, invite, mailoutbox):
    _invitation, path = invite()
    message = mailoutbox[-1]
    assert message.to == ["newcomer@example.com"]
    assert "Maison Lumière" in message.subject
    assert "Camille Owner invites you" in message.body
    assert path.startswith("/invitations/")


def test_newcomer_creates_an_account_from_the_link_and_joins(personas, invite):
    invitation, path = invite()
    client = client_for(None)
    assert "Create my account and join" in client.get(path).content.decode()
    response = client.post(path, {"full_name": "Nina New", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("organization-dashboard", args=[personas.organization.slug])
    user = User.objects.get(email="newcomer@example.com")
    assert Membership.objects.get(user=user, organization=personas.organization).role == Membership.Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    # Signed in by the same request.
    assert client.get(response["Location"]).status_code == 200


def test_signed_in_invitee_accepts_with_one_click(personas, invite):
    other = make_user("already@example.com")
    _invitation, path = invite(email="Already@Example.com", role=Membership.Role.OWNER)
    response = client_for(other).post(path)
    assert response.status_code == 302
    assert Membership.objects.get(user=other, organization=personas.organization).role == Membership.Role.OWNER


def test_existing_account_is_asked_to_sign_in_first(personas, invite):
    make_user("already@example.com")
    _invitation, path = invite(email="already@example.com")
    client = client_for(None)
    assert "Sign in to accept" in client.get(path).content.decode()
    response = client.post(path, {"full_name": "x", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Membership.objects.filter(user__email="already@example.com").exists()


def test_reused_link_is_refused_with_a_clear_message(personas, invite):
    _invitation, path = invite()
    client_for(None).post(path, {"full_name": "Nina", "password1": PASSWORD, "password2": PASSWORD})
    response = client_for(None).get(path)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_expired_link_is_refused_with_a_clear_message(personas, invite):
    _invitation, path = invite()
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        response = client_for(None).get(path)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        response = client_for(None).post(path, {"full_name": "Nina", "password1": PASSWORD, "password2": PASSWORD})
        assert response.status_code == 410
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_withdrawn_link_is_refused(personas, invite):
    invitation, path = invite()
    services.invitation_revoke(invitation=invitation, by=personas.owner)
    response = client_for(None).get(path)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_reinviting_replaces_the_old_link(personas, invite):
    _first, old_path = invite()
    _second, new_path = invite()
    assert client_for(None).get(old_path).status_code == 410
    assert client_for(None).get(new_path).status_code == 200
    assert Invitation.objects.filter(email="newcomer@example.com", revoked_at=None).count() == 1


def test_tampered_link_is_refused(personas, invite):
    _invitation, path = invite()
    response = client_for(None).get(path[:-6] + "AAAAA/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_link_for_someone_else_is_refused(personas, invite):
    _invitation, path = invite(email="intended@example.com")
    response = client_for(personas.outsider).post(path)
    assert response.status_code == 409
    assert "This invitation is for intended@example.com" in response.content.decode()
    assert not Membership.objects.filter(user=personas.outsider, organization=personas.organization).exists()


def test_inviting_an_existing_member_names_the_email_field(personas):
    response = client_for(personas.owner).post(
        reverse("organization-members", args=[personas.organization.slug]),
        {"email": personas.member.email, "role": "member"},
    )
    assert response.status_code == 400
    assert "is already a member" in response.context["invite_form"].errors["email"][0]


def test_signup_form_names_the_wrong_fields(personas, invite):
    _invitation, path = invite()
    response = client_for(None).post(path, {"full_name": "", "password1": "short", "password2": "different"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"full_name", "password1", "password2"}
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_owner_withdraws_an_invitation_from_the_page(personas, invite):
    invitation, _path = invite()
    response = client_for(personas.owner).post(
        reverse("invitation-revoke", args=[personas.organization.slug, invitation.pk]), follow=True
    )
    assert "withdrawn" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_purge_keeps_recent_invitations(personas, invite):
    invite()
    assert services.invitations_purge_expired(older_than_days=30) == 0
    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        assert services.invitations_purge_expired(older_than_days=30) == 1
