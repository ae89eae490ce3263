"""The admin is for provider staff, and scoped by the same tenancy as pages and API."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Membership
from tests.conftest import client_for, make_user


def test_clients_cannot_open_the_admin(personas):
    for user in (personas.owner, personas.member, None):
        response = client_for(user).get(reverse("admin:accounts_organization_changelist"))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_engineer_administers_every_organization(personas):
    personas.engineer.is_superuser = True
    personas.engineer.save()
    page = client_for(personas.engineer).get(reverse("admin:accounts_organization_changelist")).content.decode()
    assert "Maison Lumière" in page
    assert "Vélo Vert" in page


def test_staff_who_is_not_an_engineer_sees_only_their_organizations(personas):
    # A support contractor: staff for the admin, but a member of one client only.
    contractor = make_user("contractor@example.com")
    contractor.is_staff = True
    contractor.is_superuser = True
    contractor.save()
    Membership.objects.create(user=contractor, organization=personas.organization)
    client = client_for(contractor)
    page = client.get(reverse("admin:accounts_organization_changelist")).content.decode()
    assert "Maison Lumière" in page
    assert "Vélo Vert" not in page
    foreign = reverse("admin:accounts_organization_change", args=[personas.other_organization.pk])
    assert client.get(foreign).status_code == 302  # "doesn't exist" redirect, nothing shown
    memberships = client.get(reverse("admin:accounts_membership_changelist")).content.decode()
    assert "owner@velo.example" not in memberships
