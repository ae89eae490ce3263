"""Scenario 7: what tests/accounts/test_tenant_isolation.py leaves out of the tenant isolation matrix.

That file runs the matrix of /o/<org>/ pages and API resources (tests/tenancy_matrix.py) and fails when
one of those has no entry. Here every other URL pattern of the project must be classified too (engineer
only, the user's own, public, or reached by a secret token), so a new route cannot escape the matrix;
engineer-only pages refuse every client, a user's token cannot be revoked by another, and the HTML lists
of one organization show none of another's objects.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PERSONA_NAMES, client_for
from tests.security.urlmap import routes
from tests.tenancy_matrix import ORGANIZATION_PAGES, make_event, make_stack

ORGANIZATION = "o/<slug:org>/"
API = "api/v1/"
# Pages only provider engineers open: every client persona is refused, anonymous is sent to sign in.
ENGINEER_ONLY = "engineering/"
# Routes that act on the signed-in user's own objects only.
OWN = {"profile", "token-revoke", "password_change", "password_change_done", "language-switch", "home"}
# Public by design: sign-in and reset, the public status pages, health probes, the API's description.
PUBLIC_PREFIXES = ("status/<slug:slug>/", "accounts/login/", "accounts/logout/", "accounts/password/reset/")
PUBLIC = {"healthz", "readyz", "api-schema", "api-docs"}
# Reached by a secret token in the address; tests/accounts and tests/events prove foreign tokens fail.
BY_TOKEN = {"calendar-feed", "invitation-accept"}


def _classify(route) -> str | None:
    if route.route.startswith(ORGANIZATION):
        return "organization matrix" if route.name in {page.url_name for page in ORGANIZATION_PAGES} else None
    if route.route.startswith(API):
        return "API matrix"  # the router's registry is checked against the matrix in tests/accounts
    if route.route.startswith(ENGINEER_ONLY):
        return "engineer only"
    if route.route.startswith("admin/"):
        return "admin (staff only)"
    if route.name in OWN:
        return "own"
    if route.name in PUBLIC or route.route.startswith(PUBLIC_PREFIXES):
        return "public"
    if route.name in BY_TOKEN:
        return "by token"
    return None


def test_every_url_pattern_has_a_place_in_the_matrix():
    all_routes = list(routes())
    missing = [f"{route.route} ({route.name})" for route in all_routes if _classify(route) is None]
    counts: dict[str, int] = {}
    for route in all_routes:
        kind = _classify(route) or "missing"
        counts[kind] = counts.get(kind, 0) + 1
    print(f"Tenant matrix: {len(all_routes) - len(missing)}/{len(all_routes)} URL patterns classified {counts}")
    assert missing == []


ENGINEER_PAGES = [route for route in routes() if route.route.startswith(ENGINEER_ONLY) and not route.params]


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_engineer_only_pages_refuse_every_client(personas, persona):
    client = client_for(personas.by_name(persona))
    answers = {route.name: client.get(reverse(route.name)).status_code for route in ENGINEER_PAGES}
    if persona == "engineer":
        assert set(answers.values()) <= {200, 302, 405}, answers
        return
    if persona == "anonymous":
        assert set(answers.values()) <= {302, 405}, answers
        return
    opened = {name: status for name, status in answers.items() if status in {200, 302}}
    print(f"Engineer-only pages as {persona}: {len(answers) - len(opened)}/{len(answers)} refused")
    assert opened == {}


def test_a_user_cannot_revoke_another_users_token(personas):
    from accounts import services
    from accounts.models import ApiToken

    token, _key = services.api_token_create(user=personas.outsider, name="Velo CI")
    response = client_for(personas.owner).post(reverse("token-revoke", args=[token.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


LIST_PAGES = ["organization-dashboard", "event-list", "stack-list", "runbook-execution-list", "status-manage-list"]


@pytest.mark.parametrize("persona", ["owner", "member"])
def test_lists_of_one_organization_show_none_of_anothers_objects(personas, persona):
    from status.models import StatusPage

    foreign_stack = make_stack(personas.other_organization, name="Foreign-stack-zq")
    make_event(personas.other_organization, stack=foreign_stack, title="Foreign-event-zq")
    StatusPage.objects.create(organization=personas.other_organization, name="Foreign-page-zq", slug="foreign-zq")
    own_stack = make_stack(personas.organization, name="Own-stack-zq")
    make_event(personas.organization, stack=own_stack, title="Own-event-zq")
    client = client_for(personas.by_name(persona))
    leaks = []
    for name in LIST_PAGES:
        response = client.get(reverse(name, args=[personas.organization.slug]))
        assert response.status_code == 200, name
        html = response.content.decode()
        leaks += [f"{name}: {word}" for word in ("Foreign-", "velo-vert", "Vélo Vert") if word in html]
    shown = client.get(reverse("event-list", args=[personas.organization.slug])).content.decode()
    print(f"Lists as {persona}: {len(leaks)} foreign names or ids over {len(LIST_PAGES)} list pages")
    assert "Own-event-zq" in shown
    assert leaks == []
