"""Invariant 1: no organization ever sees or changes another's data."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation, Membership, Organization
from cloud.models import CloudAccount, StackResource
from events.models import ForecastProfile, MediaEvent
from portal.api_urls import router
from readiness.models import ReadinessRun
from scaling.models import ScalingPlan, ScalingPolicy
from stacks.models import Stack
from tests.conftest import api_client_for, client_for
from tests.tenancy_matrix import API_RESOURCES, ORGANIZATION_PAGES, USER_OWNED_API

ATTACKERS = ["owner", "member"]


def _snapshot() -> tuple:
    from status.models import Component, ComponentGroup, Incident, StatusPage, Subscriber

    """Return everything an attack could change, to prove it changed nothing."""
    return (
        list(Organization.objects.order_by("pk").values_list("pk", "name", "timezone", "contact_email")),
        list(Membership.objects.order_by("pk").values_list("pk", "organization_id", "user_id", "role")),
        list(Invitation.objects.order_by("pk").values_list("pk", "organization_id", "email", "revoked_at")),
        list(Stack.objects.order_by("pk").values_list("pk", "organization_id", "name")),
        list(MediaEvent.objects.order_by("pk").values_list("pk", "organization_id", "title", "status", "assignee_id")),
        list(ForecastProfile.objects.order_by("pk").values_list("pk", "organization_id", "visit_rate")),
        list(ReadinessRun.objects.order_by("pk").values_list("pk", "event_id", "status")),
        list(
            CloudAccount.objects.order_by("pk").values_list(
                "pk", "organization_id", "role_arn", "external_id", "automation_paused"
            )
        ),
        list(StackResource.objects.order_by("pk").values_list("pk", "stack_id", "unit_rps")),
        list(ScalingPlan.objects.order_by("pk").values_list("pk", "event_id", "status")),
        list(
            ScalingPolicy.objects.order_by("pk").values_list("pk", "organization_id", "safety_factor", "max_instances")
        ),
        list(StatusPage.objects.order_by("pk").values_list("pk", "organization_id", "name", "clients_can_post")),
        list(ComponentGroup.objects.order_by("pk").values_list("pk", "page_id", "name")),
        list(Component.objects.order_by("pk").values_list("pk", "page_id", "name", "status", "position")),
        list(Incident.objects.order_by("pk").values_list("pk", "page_id", "status", "is_draft", "postmortem_body")),
        list(Subscriber.objects.order_by("pk").values_list("pk", "page_id", "unsubscribed_at")),
    )


@pytest.mark.parametrize("attacker", ATTACKERS)
@pytest.mark.parametrize("resource", API_RESOURCES, ids=lambda resource: resource.basename)
def test_api_hides_and_protects_other_organizations_objects(personas, attacker, resource):
    foreign = resource.make_foreign(personas.other_organization)
    client = api_client_for(personas.by_name(attacker))
    detail = reverse(f"api:{resource.basename}-detail", args=[resource.lookup(foreign)])
    listing = reverse(f"api:{resource.basename}-list")
    payload = resource.create_payload(personas.other_organization) if resource.create_payload else None
    before = _snapshot()

    assert client.get(detail).status_code == 404
    listed = client.get(listing, {"page_size": 200}).json()["results"]
    foreign_ids = {str(resource.lookup(foreign))}
    assert not foreign_ids & {str(row.get("id", row.get("slug"))) for row in listed}
    assert all(row.get("organization", personas.organization.slug) != "velo-vert" for row in listed)
    if resource.update_payload is not None:
        assert client.patch(detail, resource.update_payload, format="json").status_code == 404
    if resource.deletable:
        assert client.delete(detail).status_code == 404
    if payload is not None:
        response = client.post(listing, payload, format="json")
        assert response.status_code == 400
        assert resource.parent_field in response.json()["errors"]
    assert _snapshot() == before


@pytest.mark.parametrize("resource", API_RESOURCES, ids=lambda resource: resource.basename)
def test_api_serves_own_organizations_objects(personas, resource):
    """The control of the matrix: the same calls work inside one's own organization."""
    own = resource.make_foreign(personas.organization)
    client = api_client_for(personas.owner)
    detail = reverse(f"api:{resource.basename}-detail", args=[resource.lookup(own)])
    assert client.get(detail).status_code == 200
    listed = client.get(reverse(f"api:{resource.basename}-list"), {"page_size": 200}).json()["results"]
    assert str(resource.lookup(own)) in {str(row.get("id", row.get("slug"))) for row in listed}


@pytest.mark.parametrize("resource", API_RESOURCES, ids=lambda resource: resource.basename)
def test_engineer_sees_every_organizations_objects(personas, resource):
    foreign = resource.make_foreign(personas.other_organization)
    client = api_client_for(personas.engineer)
    assert client.get(reverse(f"api:{resource.basename}-detail", args=[resource.lookup(foreign)])).status_code == 200


@pytest.mark.parametrize("resource", API_RESOURCES, ids=lambda resource: resource.basename)
def test_anonymous_gets_nothing_from_the_api(personas, resource):
    client = api_client_for(None)
    assert client.get(reverse(f"api:{resource.basename}-list")).status_code == 401


def _page_url(page, slug: str, obj) -> str:
    kwargs = {"org": slug, **page.extra_kwargs}
    if obj is not None:
        kwargs.update(page.object_kwargs(obj))
    return reverse(page.url_name, kwargs=kwargs)


@pytest.mark.parametrize("attacker", ATTACKERS)
@pytest.mark.parametrize("page", ORGANIZATION_PAGES, ids=lambda page: f"{page.method}-{page.url_name}")
def test_pages_of_another_organization_are_not_found(personas, attacker, page):
    client = client_for(personas.by_name(attacker))
    foreign_object = page.make_object(personas.other_organization) if page.make_object else None
    before = _snapshot()
    # B's page under B's address...
    url = _page_url(page, personas.other_organization.slug, foreign_object)
    assert getattr(client, page.method)(url, page.data).status_code == 404
    # ...and B's object smuggled under A's address.
    if foreign_object is not None:
        url = _page_url(page, personas.organization.slug, foreign_object)
        assert getattr(client, page.method)(url, page.data).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("page", ORGANIZATION_PAGES, ids=lambda page: f"{page.method}-{page.url_name}")
def test_anonymous_is_sent_to_sign_in(personas, page):
    obj = page.make_object(personas.organization) if page.make_object else None
    response = getattr(client_for(None), page.method)(_page_url(page, personas.organization.slug, obj), page.data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_engineer_opens_any_organizations_pages(personas):
    client = client_for(personas.engineer)
    for name in ("organization-dashboard", "organization-members", "organization-settings", "event-list", "stack-list"):
        assert client.get(reverse(name, args=[personas.other_organization.slug])).status_code == 200


def test_organization_switcher_lists_only_own_organizations(personas):
    page = client_for(personas.owner).get(reverse("organization-dashboard", args=["maison-lumiere"]))
    assert "Maison Lumière" in page.content.decode()
    assert "Vélo Vert" not in page.content.decode()


def _all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _all_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def test_every_organization_page_and_api_resource_is_in_the_matrix():
    """A new page under /o/<org>/ or a new API resource must join the matrix."""
    pages = {name for route, name in _all_patterns() if route.startswith("o/<slug:org>/")}
    assert pages == {page.url_name for page in ORGANIZATION_PAGES}
    registered = {basename for _prefix, _viewset, basename in router.registry}
    assert registered == {resource.basename for resource in API_RESOURCES} | set(USER_OWNED_API)
