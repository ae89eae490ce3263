"""No malformed body ever gets a 500 from the events and stacks API."""

from __future__ import annotations

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import api_client_for

EVENT_FIELDS = [
    "organization",
    "stack",
    "title",
    "kind",
    "channel",
    "programme",
    "notes",
    "air_start",
    "air_end",
    "expected_audience",
    "audience_share",
    "url_exposure",
    "landing_urls",
    "rebroadcasts",
]
STACK_FIELDS = ["organization", "name", "landing_url", "key_urls", "health_url", "cdn_hostname", "normal_peak_rps"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "maison-lumiere",
            "velo-vert",
            "2026-12-24T21:10:00+01:00",
            "2019-01-01T00:00:00Z",
            "https://www.example.com/",
            "http://127.0.0.1/",
            "tv_segment",
            "on_screen",
            "1e400",
            "NaN",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=10,
)


def bodies(fields):
    return st.dictionaries(st.sampled_from(fields) | st.text(max_size=12), json_values, max_size=len(fields) + 2)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=bodies(EVENT_FIELDS))
def test_event_create_never_fails_with_a_server_error(personas, stack, body):
    response = api_client_for(personas.owner).post(reverse("api:event-list"), body, format="json")
    assert response.status_code < 500, (body, response.content)
    assert set(response.json()) >= {"detail"} or response.status_code == 201


@FUZZ
@given(body=bodies([*EVENT_FIELDS, "reason", "assignee"]))
def test_event_update_and_transitions_never_fail_with_a_server_error(personas, event_factory, body):
    event = event_factory()
    client = api_client_for(personas.engineer)
    response = client.patch(reverse("api:event-detail", args=[event.pk]), body, format="json")
    assert response.status_code < 500, (body, response.content)
    response = client.post(reverse("api:event-accept", args=[event.pk]), body, format="json")
    assert response.status_code < 500, (body, response.content)


@FUZZ
@given(body=bodies(STACK_FIELDS))
def test_stack_create_never_fails_with_a_server_error(personas, body):
    response = api_client_for(personas.owner).post(reverse("api:stack-list"), body, format="json")
    assert response.status_code < 500, (body, response.content)
