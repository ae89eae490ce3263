"""The tenant isolation matrix: one entry per API resource and per organization page.

Every app adds its endpoints here. ``tests/accounts/test_tenant_isolation.py``
runs each entry for an attacker of organization A against organization B's
objects, and fails when a URL pattern of the project has no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiToken, Invitation, Membership, Organization


@dataclass(frozen=True)
class ApiResource:
    """A tenant-owned API resource: how to make one of B's objects and what an attack sends."""

    basename: str
    make_foreign: Callable[[Organization], object]
    lookup: Callable[[object], str]
    create_payload: Callable[[Organization], dict] | None = None
    update_payload: dict | None = None
    deletable: bool = True


@dataclass(frozen=True)
class OrganizationPage:
    """A page under /o/<org>/; ``make_object`` gives a B object for pages that take a pk."""

    url_name: str
    method: str = "get"
    make_object: Callable[[Organization], object] | None = None
    data: dict = field(default_factory=dict)


def _foreign_membership(organization: Organization) -> Membership:
    from tests.conftest import make_user

    user = make_user(f"someone-{organization.slug}@example.com")
    return Membership.objects.create(user=user, organization=organization, role=Membership.Role.MEMBER)


def _foreign_invitation(organization: Organization) -> Invitation:
    return Invitation.objects.create(
        organization=organization,
        email=f"invitee@{organization.slug}.example",
        role=Membership.Role.MEMBER,
        expires_at=timezone.now() + timedelta(days=7),
    )


API_RESOURCES = [
    ApiResource(
        basename="organization",
        make_foreign=lambda organization: organization,
        lookup=lambda organization: organization.slug,
        update_payload={"name": "Taken over"},
        deletable=False,
    ),
    ApiResource(
        basename="membership",
        make_foreign=_foreign_membership,
        lookup=lambda membership: str(membership.pk),
        update_payload={"role": "owner"},
    ),
    ApiResource(
        basename="invitation",
        make_foreign=_foreign_invitation,
        lookup=lambda invitation: str(invitation.pk),
        create_payload=lambda organization: {
            "organization": organization.slug,
            "email": "intruder@example.com",
            "role": "owner",
        },
    ),
]

# API resources that belong to a user rather than an organization, checked by
# their own tests (tests/api/test_tokens.py): another user's token is a 404.
USER_OWNED_API = {"token": ApiToken}

ORGANIZATION_PAGES = [
    OrganizationPage("organization-dashboard"),
    OrganizationPage("organization-members"),
    OrganizationPage("organization-members", method="post", data={"email": "x@example.com", "role": "owner"}),
    OrganizationPage("organization-settings"),
    OrganizationPage(
        "organization-settings",
        method="post",
        data={"name": "Taken over", "timezone": "Europe/Paris", "contact_email": "x@example.com"},
    ),
    OrganizationPage("membership-role", method="post", make_object=_foreign_membership, data={"role": "owner"}),
    OrganizationPage("membership-remove", method="post", make_object=_foreign_membership),
    OrganizationPage("invitation-revoke", method="post", make_object=_foreign_invitation),
]
