"""The one tenancy mechanism: every organization-owned row is reached through it.

A model that belongs to an organization sets ``tenant_field`` (the lookup path
from the model to its Organization, ``"pk"`` for Organization itself) and uses
``TenantQuerySet``. Views, API viewsets and the admin then scope with
``Model.objects.for_user(user)``: engineers see everything, clients see the
rows of the organizations they are members of, anonymous users see nothing.
Foreign rows are therefore simply absent, so lookups answer 404, never 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import models


def member_organization_ids(user, *, roles: Iterable[str] | None = None) -> models.QuerySet:
    """Return a subquery of the ids of the organizations the user belongs to."""
    Membership = apps.get_model("accounts", "Membership")
    memberships = Membership._base_manager.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return memberships.values("organization_id")


class TenantQuerySet(models.QuerySet):
    def for_user(self, user) -> TenantQuerySet:
        """Return the rows this user may see."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_engineer:
            return self
        return self._in_organizations(member_organization_ids(user))

    def manageable_by(self, user) -> TenantQuerySet:
        """Return the rows this user may administer: engineers, or owners of the organization."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_engineer:
            return self
        Membership = apps.get_model("accounts", "Membership")
        return self._in_organizations(member_organization_ids(user, roles=[Membership.Role.OWNER]))

    def in_organization(self, organization) -> TenantQuerySet:
        return self._in_organizations([organization.pk])

    def _in_organizations(self, organization_ids) -> TenantQuerySet:
        field = self.model.tenant_field
        return self.filter(**{f"{field}__in": organization_ids})
