from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import client_for


def test_openapi_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an unresolvable
    # field, a missing serializer) into a failure.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in (
        "/api/v1/me/",
        "/api/v1/organizations/",
        "/api/v1/memberships/",
        "/api/v1/invitations/",
        "/api/v1/tokens/",
    ):
        assert path in paths


@pytest.mark.django_db
def test_schema_and_browsable_docs_are_served_without_internet_assets(personas):
    client = client_for(personas.member)
    assert client.get(reverse("api-schema")).status_code == 200
    docs = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in docs
    assert "cdn.jsdelivr" not in docs
    assert "unpkg" not in docs
