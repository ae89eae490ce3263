"""What the schemathesis run (issue 8, scenario 8) found, one regression test each: the API answers what its
schema says, and a refusal names the parameter or field."""

from __future__ import annotations

import pytest

from tests.conftest import api_client_for
from tests.tenancy_matrix import make_event

pytestmark = pytest.mark.django_db


def _errors(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return response.json()["errors"]


def test_an_unknown_api_address_answers_the_json_error(personas):
    response = api_client_for(personas.owner).get("/api/v1/events/0.5/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


@pytest.mark.parametrize("path", ["/api/v1/organizations/a%00b/", "/status/a%00/", "/o/a%00/"])
def test_an_address_with_a_nul_character_is_not_found(personas, path):
    assert api_client_for(personas.engineer).get(path).status_code == 404


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("page_size=0", "page_size"), ("page_size=abc", "page_size"), ("page_size=201", "page_size"), ("page=0", "page")],
)
def test_page_parameters_out_of_range_are_refused_by_name(personas, query, parameter):
    response = api_client_for(personas.owner).get(f"/api/v1/events/?{query}")
    assert response.status_code == 400
    assert parameter in _errors(response)


def test_an_empty_parameter_is_the_same_as_an_absent_one(personas):
    make_event(personas.organization)
    response = api_client_for(personas.owner).get("/api/v1/events/?page_size=&page=&status=&air_before=")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_parameter_given_twice_is_refused_unless_it_takes_several_values(personas):
    client = api_client_for(personas.owner)
    response = client.get("/api/v1/events/?search=a&search=b")
    assert response.status_code == 400
    assert _errors(response) == {"search": ["Give this parameter once."]}
    assert client.get("/api/v1/events/?status=submitted&status=accepted").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/invitations/?pending=maybe", "/api/v1/status-incidents/?is_draft=1"])
def test_a_boolean_filter_takes_true_or_false_only(personas, path):
    response = api_client_for(personas.owner).get(path)
    assert response.status_code == 400
    assert list(_errors(response)) == [path.split("?")[1].split("=")[0]]


def test_filtering_on_an_event_that_does_not_exist_lists_nothing(personas):
    response = api_client_for(personas.owner).get("/api/v1/readiness-runs/?event=987654")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_number_where_the_schema_says_text_is_refused_by_name(personas):
    response = api_client_for(personas.owner).post("/api/v1/tokens/", {"name": 0}, format="json")
    assert response.status_code == 400
    assert _errors(response) == {"name": ["Not a valid string."]}


def test_the_api_reads_json_bodies_only(personas):
    response = api_client_for(personas.owner).post("/api/v1/tokens/", {"name": "deploy"}, format="multipart")
    assert response.status_code == 415


def test_an_unreadable_body_names_the_body(personas):
    response = api_client_for(personas.owner).post("/api/v1/tokens/", "{", content_type="application/json")
    assert response.status_code == 400
    assert list(_errors(response)) == ["body"]


def test_a_slug_with_a_nul_character_is_refused_by_name_not_looked_up(personas):
    body = {"organization": "maison\x00", "name": "Shop", "landing_url": "https://shop.example/"}
    response = api_client_for(personas.owner).post("/api/v1/stacks/", body, format="json")
    assert response.status_code == 400
    assert list(_errors(response)) == ["organization"]


def test_a_text_longer_than_its_maximum_is_refused_even_when_trimming_would_fit(personas):
    response = api_client_for(personas.owner).post("/api/v1/tokens/", {"name": " " + "x" * 80}, format="json")
    assert response.status_code == 400
    assert list(_errors(response)) == ["name"]
