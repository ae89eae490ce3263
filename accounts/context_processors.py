from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from accounts.selectors import organizations_for_switcher


def tenancy(request) -> dict:
    """Give every page the organization switcher's list and the organization in view."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "switcher_organizations": SimpleLazyObject(lambda: list(organizations_for_switcher(user=user))),
        "current_organization": getattr(request, "organization", None),
    }
