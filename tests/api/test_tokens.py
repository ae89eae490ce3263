"""Personal API tokens: shown once, stored hashed, refused once revoked."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken
from tests.conftest import api_client_for, client_for


def _bearer(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_token_created_on_the_profile_page_is_shown_once_and_works(personas):
    client = client_for(personas.member)
    created = client.post(reverse("profile"), {"action": "token", "name": "Deploy script"})
    assert created.status_code == 302  # a reload cannot create a second token
    page = client.get(created["Location"])
    assert page["Cache-Control"] == "no-store"
    raw_key = page.context["new_key"]
    assert raw_key in page.content.decode()
    # Never again.
    assert raw_key not in client.get(reverse("profile")).content.decode()

    me = _bearer(raw_key).get(reverse("api:me"))
    assert me.status_code == 200
    assert me.json()["email"] == personas.member.email
    assert ApiToken.objects.get(name="Deploy script").last_used_at is not None


def test_only_the_hash_of_a_token_is_stored(personas):
    token, raw_key = services.api_token_create(user=personas.member, name="CI")
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw_key not in str(row)
    assert token.matches(raw_key)


def test_revoked_token_is_refused(personas):
    token, raw_key = services.api_token_create(user=personas.member, name="CI")
    response = client_for(personas.member).post(reverse("token-revoke", args=[token.pk]))
    assert response.status_code == 302
    refused = _bearer(raw_key).get(reverse("api:me"))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This token has been revoked."
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_is_refused(db):
    for header in ("Bearer nope", "Bearer pt_0000_wrong", "Bearer a b", "Token pt_"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get(reverse("api:me")).status_code == 401, header


def test_token_sees_only_its_users_organizations(personas):
    _token, raw_key = services.api_token_create(user=personas.outsider, name="CI")
    slugs = [row["slug"] for row in _bearer(raw_key).get(reverse("api:organization-list")).json()["results"]]
    assert slugs == ["velo-vert"]


def test_api_creates_lists_and_revokes_tokens(personas):
    client = api_client_for(personas.owner)
    created = client.post(reverse("api:token-list"), {"name": "Grafana"}, format="json")
    assert created.status_code == 201
    raw_key = created.json()["key"]
    listed = client.get(reverse("api:token-list")).json()["results"]
    assert [row["name"] for row in listed] == ["Grafana"]
    assert "key" not in listed[0]
    assert client.delete(reverse("api:token-detail", args=[created.json()["id"]])).status_code == 204
    assert _bearer(raw_key).get(reverse("api:me")).status_code == 401


def test_nobody_revokes_someone_elses_token(personas):
    token, raw_key = services.api_token_create(user=personas.owner, name="Mine")
    assert client_for(personas.member).post(reverse("token-revoke", args=[token.pk])).status_code == 404
    assert api_client_for(personas.engineer).delete(reverse("api:token-detail", args=[token.pk])).status_code == 404
    assert _bearer(raw_key).get(reverse("api:me")).status_code == 200
