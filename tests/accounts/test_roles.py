"""Who may invite, change roles and remove people; the last owner always stays."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, Membership
from tests.conftest import api_client_for, client_for


def _membership(personas, user):
    return Membership.objects.get(user=user, organization=personas.organization)


def test_member_cannot_invite_from_the_page(personas):
    response = client_for(personas.member).post(
        reverse("organization-members", args=[personas.organization.slug]),
        {"email": "new@example.com", "role": "member"},
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_member_cannot_invite_through_the_api(personas):
    response = api_client_for(personas.member).post(
        reverse("api:invitation-list"),
        {"organization": personas.organization.slug, "email": "new@example.com", "role": "member"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"]
    assert not Invitation.objects.exists()


def test_member_does_not_see_the_invite_form(personas):
    page = client_for(personas.member).get(reverse("organization-members", args=[personas.organization.slug]))
    assert "Send invitation" not in page.content.decode()


def test_member_cannot_change_roles(personas):
    target = _membership(personas, personas.member)
    response = client_for(personas.member).post(
        reverse("membership-role", args=[personas.organization.slug, target.pk]), {"role": "owner"}
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.role == Membership.Role.MEMBER

    api = api_client_for(personas.member)
    assert api.patch(reverse("api:membership-detail", args=[target.pk]), {"role": "owner"}).status_code == 403
    target.refresh_from_db()
    assert target.role == Membership.Role.MEMBER


def test_member_cannot_remove_the_owner(personas):
    owner = _membership(personas, personas.owner)
    response = client_for(personas.member).post(
        reverse("membership-remove", args=[personas.organization.slug, owner.pk])
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_member_cannot_edit_the_organization(personas):
    response = client_for(personas.member).get(reverse("organization-settings", args=[personas.organization.slug]))
    assert response.status_code == 403
    api = api_client_for(personas.member)
    response = api.patch(reverse("api:organization-detail", args=[personas.organization.slug]), {"name": "Renamed"})
    assert response.status_code == 403
    personas.organization.refresh_from_db()
    assert personas.organization.name == "Maison Lumière"


def test_owner_promotes_a_member(personas):
    target = _membership(personas, personas.member)
    response = client_for(personas.owner).post(
        reverse("membership-role", args=[personas.organization.slug, target.pk]), {"role": "owner"}, follow=True
    )
    assert "is now owner" in response.content.decode()
    target.refresh_from_db()
    assert target.role == Membership.Role.OWNER


def test_last_owner_cannot_step_down(personas):
    owner = _membership(personas, personas.owner)
    response = client_for(personas.owner).post(
        reverse("membership-role", args=[personas.organization.slug, owner.pk]), {"role": "member"}, follow=True
    )
    assert "at least one owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Membership.Role.OWNER

    api_response = api_client_for(personas.owner).patch(
        reverse("api:membership-detail", args=[owner.pk]), {"role": "member"}
    )
    assert api_response.status_code == 400
    assert "role" in api_response.json()["errors"]


def test_last_owner_cannot_be_removed_or_leave(personas):
    owner = _membership(personas, personas.owner)
    client = client_for(personas.owner)
    response = client.post(reverse("membership-remove", args=[personas.organization.slug, owner.pk]), follow=True)
    assert "last owner cannot be removed" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()

    engineer_api = api_client_for(personas.engineer)
    response = engineer_api.delete(reverse("api:membership-detail", args=[owner.pk]))
    assert response.status_code == 400
    assert "last owner" in response.json()["errors"]["non_field_errors"][0]
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_owner_can_step_down_when_another_owner_remains(personas):
    services.membership_change_role(
        membership=_membership(personas, personas.member), role=Membership.Role.OWNER, by=personas.owner
    )
    owner = _membership(personas, personas.owner)
    services.membership_change_role(membership=owner, role=Membership.Role.MEMBER, by=personas.owner)
    owner.refresh_from_db()
    assert owner.role == Membership.Role.MEMBER
    assert Membership.objects.filter(organization=personas.organization, role="owner").count() == 1


def test_member_can_leave(personas):
    membership = _membership(personas, personas.member)
    response = client_for(personas.member).post(
        reverse("membership-remove", args=[personas.organization.slug, membership.pk])
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_owner_removes_a_member(personas):
    membership = _membership(personas, personas.member)
    response = api_client_for(personas.owner).delete(reverse("api:membership-detail", args=[membership.pk]))
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_engineer_onboards_a_client_and_invites_its_first_owner(
    personas, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.engineer).post(
            reverse("organization-create"),
            {
                "name": "Fromagerie Numérique",
                "slug": "",
                "timezone": "Europe/Paris",
                "contact_email": "cto@fromagerie.example",
                "owner_email": "CTO@Fromagerie.example",
            },
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization__slug="fromagerie-numerique")
    assert invitation.email == "cto@fromagerie.example"
    assert invitation.role == Membership.Role.OWNER
    assert [message.to for message in mailoutbox] == [["cto@fromagerie.example"]]


@pytest.mark.parametrize("persona", ["owner", "member"])
def test_clients_cannot_create_organizations(personas, persona):
    client = client_for(personas.by_name(persona))
    assert client.get(reverse("organization-create")).status_code == 403
    response = api_client_for(personas.by_name(persona)).post(
        reverse("api:organization-list"), {"name": "Mine", "contact_email": "a@example.com"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["owner", "member", "outsider"])
def test_only_engineers_open_the_all_organizations_page(personas, persona):
    assert client_for(personas.by_name(persona)).get(reverse("engineering-organizations")).status_code == 403


def test_engineers_page_lists_every_organization_with_counts(personas):
    page = client_for(personas.engineer).get(reverse("engineering-organizations")).content.decode()
    assert "Maison Lumière" in page
    assert "Vélo Vert" in page
    filtered = client_for(personas.engineer).get(reverse("engineering-organizations"), {"q": "velo"}).content.decode()
    assert "Vélo Vert" in filtered
    assert "Maison Lumière</a>" not in filtered
