from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import Invitation, Membership, Organization, User


def organizations_for_switcher(*, user: User) -> QuerySet[Organization]:
    """Return the organizations the user belongs to (engineers reach the others from their page)."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user).only("name", "slug").order_by("name")


def organizations_overview(*, user: User, search: str = "") -> QuerySet[Organization]:
    """Return the organizations the user sees, with member and owner counts, for the engineers' page."""
    organizations = Organization.objects.for_user(user).annotate(
        member_count=Count("memberships", distinct=True),
        owner_count=Count("memberships", filter=Q(memberships__role=Membership.Role.OWNER), distinct=True),
    )
    if search:
        organizations = organizations.filter(
            Q(name__icontains=search) | Q(slug__icontains=search) | Q(contact_email__icontains=search)
        )
    return organizations.order_by("name")


def memberships_of(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.in_organization(organization)
        .select_related("user")
        .order_by("-role", "user__full_name", "user__email")
    )


def invitations_pending(*, organization: Organization) -> list[Invitation]:
    invitations = Invitation.objects.in_organization(organization).filter(accepted_at=None, revoked_at=None)
    return [invitation for invitation in invitations.select_related("invited_by") if invitation.is_pending()]
