"""Every form answers bad input with the field named, and writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import ApiToken, Invitation, Organization
from tests.conftest import client_for

BAD_FORMS = [
    # (persona, url name, url args, form context name, data, fields named)
    (
        "owner",
        "organization-members",
        ["maison-lumiere"],
        "invite_form",
        {"email": "nope", "role": "king"},
        {"email", "role"},
    ),
    (
        "owner",
        "organization-settings",
        ["maison-lumiere"],
        "form",
        {"name": "", "timezone": "Mars/Base", "contact_email": "x"},
        {"name", "timezone", "contact_email"},
    ),
    (
        "engineer",
        "organization-create",
        [],
        "form",
        {
            "name": "Vélo Vert",
            "slug": "velo-vert",
            "timezone": "Europe/Paris",
            "contact_email": "a@b.co",
            "owner_email": "not-an-email",
        },
        {"slug", "owner_email"},
    ),
    (
        "member",
        "profile",
        [],
        "profile_form",
        {"action": "profile", "full_name": "x" * 300, "language": "de"},
        {"full_name", "language"},
    ),
    ("member", "profile", [], "token_form", {"action": "token", "name": ""}, {"name"}),
]


def _snapshot():
    return (
        list(Organization.objects.values_list("name", "timezone", "contact_email")),
        Invitation.objects.count(),
        ApiToken.objects.count(),
    )


@pytest.mark.parametrize(("persona", "url_name", "args", "form_name", "data", "fields"), BAD_FORMS)
def test_bad_form_input_names_the_field(personas, persona, url_name, args, form_name, data, fields):
    before = _snapshot()
    response = client_for(personas.by_name(persona)).post(reverse(url_name, args=args), data)
    assert response.status_code in (200, 400)
    form = response.context[form_name]
    assert fields <= set(form.errors), form.errors
    html = response.content.decode()
    for field in fields:
        assert f'id="id_{field}_error"' in html or "errorlist" in html
    assert _snapshot() == before


def test_organization_settings_are_saved(personas):
    response = client_for(personas.owner).post(
        reverse("organization-settings", args=["maison-lumiere"]),
        {"name": "Maison Lumière SAS", "timezone": "America/Montreal", "contact_email": "ops@lumiere.example"},
    )
    assert response.status_code == 302
    personas.organization.refresh_from_db()
    assert (personas.organization.name, personas.organization.timezone) == ("Maison Lumière SAS", "America/Montreal")
