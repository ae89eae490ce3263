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


def test_every_operation_documents_the_shared_error_answers(client):
    """Clients generated from the schema learn the error format: 400/401/403/404/429 everywhere, 409 on changes."""
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "errors"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "429"} <= codes, (method, path)
            assert ("409" in codes) == (method != "get"), (method, path)
