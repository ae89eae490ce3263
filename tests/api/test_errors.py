"""Bad input gets a 4xx naming the field, in one error format, and writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Invitation, Membership, Organization
from tests.conftest import api_client_for

BAD_INPUTS = [
    # (persona, method, url name, url args, payload, fields named)
    ("engineer", "post", "organization-list", [], {"name": "", "contact_email": "nope"}, {"name", "contact_email"}),
    (
        "engineer",
        "post",
        "organization-list",
        [],
        {"name": "X", "contact_email": "a@b.co", "timezone": "Mars/Base"},
        {"timezone"},
    ),
    (
        "engineer",
        "post",
        "organization-list",
        [],
        {"name": "X", "slug": "maison-lumiere", "contact_email": "a@b.co"},
        {"slug"},
    ),
    (
        "engineer",
        "post",
        "organization-list",
        [],
        {"name": "X", "slug": "not a slug!", "contact_email": "a@b.co"},
        {"slug"},
    ),
    ("owner", "patch", "organization-detail", ["maison-lumiere"], {"timezone": "Nowhere"}, {"timezone"}),
    ("owner", "patch", "organization-detail", ["maison-lumiere"], {"contact_email": "x"}, {"contact_email"}),
    (
        "owner",
        "post",
        "invitation-list",
        [],
        {"organization": "maison-lumiere", "email": "x", "role": "king"},
        {"email", "role"},
    ),
    ("owner", "post", "invitation-list", [], {"email": "a@b.co"}, {"organization"}),
    (
        "owner",
        "post",
        "invitation-list",
        [],
        {"organization": "maison-lumiere", "email": "member@lumiere.example", "role": "member"},
        {"email"},
    ),
    ("owner", "patch", "membership-detail", ["MEMBER"], {"role": "admin"}, {"role"}),
    ("owner", "post", "token-list", [], {"name": ""}, {"name"}),
    ("owner", "post", "token-list", [], {"name": "x" * 200}, {"name"}),
    ("owner", "patch", "me", [], {"language": "de"}, {"language"}),
    ("owner", "patch", "me", [], {"full_name": "x" * 500}, {"full_name"}),
]


def _snapshot():
    return (Organization.objects.count(), Invitation.objects.count(), list(Membership.objects.values_list("role")))


@pytest.mark.parametrize(("persona", "method", "url_name", "args", "payload", "fields"), BAD_INPUTS)
def test_bad_input_names_the_field(personas, persona, method, url_name, args, payload, fields):
    args = [str(Membership.objects.get(user=personas.member).pk) if arg == "MEMBER" else arg for arg in args]
    before = _snapshot()
    response = getattr(api_client_for(personas.by_name(persona)), method)(
        reverse(f"api:{url_name}", args=args), payload, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert fields <= set(body["errors"]), body
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())
    assert _snapshot() == before


def test_malformed_json_is_a_400_with_the_error_format(personas):
    client = api_client_for(personas.owner)
    response = client.generic("POST", reverse("api:invitation-list"), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_unknown_object_is_a_404_with_the_error_format(personas):
    response = api_client_for(personas.owner).get(reverse("api:organization-detail", args=["no-such-org"]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No Organization matches the given query.", "errors": {}}


def test_me_shows_the_user_and_their_roles(personas):
    body = api_client_for(personas.owner).get(reverse("api:me")).json()
    assert body["email"] == "owner@lumiere.example"
    assert body["is_engineer"] is False
    assert body["memberships"] == [
        {"organization": "maison-lumiere", "organization_name": "Maison Lumière", "role": "owner"}
    ]


def test_lists_are_paginated_and_filterable(personas):
    client = api_client_for(personas.engineer)
    page = client.get(reverse("api:organization-list"), {"page_size": 1}).json()
    assert page["count"] == 2
    assert len(page["results"]) == 1
    assert page["next"]
    members = client.get(reverse("api:membership-list"), {"organization": "maison-lumiere", "role": "owner"}).json()
    assert [row["email"] for row in members["results"]] == ["owner@lumiere.example"]
    searched = client.get(reverse("api:organization-list"), {"search": "vélo"}).json()
    assert [row["slug"] for row in searched["results"]] == ["velo-vert"]
