"""List pages and list endpoints cost the same number of queries for 10 events as for 1,000."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization, User
from events.models import MediaEvent, Rebroadcast
from stacks.models import Stack
from tests.conftest import api_client_for, client_for


def _seed(personas, count: int) -> None:
    """Bulk-create events across the client and other organizations, some with rebroadcasts."""
    now = timezone.now()
    organizations = [personas.organization, personas.other_organization]
    organizations += [
        Organization.objects.create(name=f"Client {n}", slug=f"client-{n}", contact_email=f"c{n}@example.com")
        for n in range(3)
    ]
    stacks = [
        Stack.objects.create(organization=organization, name="Site", landing_url="https://www.example.com/")
        for organization in organizations
    ]
    events = MediaEvent.objects.bulk_create(
        MediaEvent(
            organization=stacks[n % len(stacks)].organization,
            stack=stacks[n % len(stacks)],
            title=f"Event {n}",
            air_start=now + timedelta(hours=n + 1),
            air_end=now + timedelta(hours=n + 1, minutes=10),
            expected_audience=1_000_000,
            status=MediaEvent.Status.SUBMITTED if n % 2 else MediaEvent.Status.ACCEPTED,
            assignee=personas.engineer if n % 3 else None,
        )
        for n in range(count)
    )
    Rebroadcast.objects.bulk_create(
        Rebroadcast(event=event, air_start=event.air_end + timedelta(days=1)) for event in events[::4]
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


URLS = [
    ("engineer", lambda: reverse("engineering-queue"), client_for),
    ("engineer", lambda: reverse("engineering-queue") + "?mine=1&week=1", client_for),
    ("owner", lambda: reverse("event-list", args=["maison-lumiere"]), client_for),
    ("owner", lambda: reverse("api:event-list"), api_client_for),
    ("engineer", lambda: reverse("api:event-list") + "?status=submitted&status=accepted", api_client_for),
    ("owner", lambda: reverse("api:stack-list"), api_client_for),
]


@pytest.mark.parametrize(("persona", "url", "make_client"), URLS)
def test_query_count_does_not_grow_with_the_number_of_events(personas, persona, url, make_client):
    def fresh_client():
        # A fresh user object per request, as in production: nothing cached on it.
        return make_client(User.objects.get(pk=personas.by_name(persona).pk))

    _seed(personas, 10)
    small = _queries(fresh_client(), url())
    MediaEvent.objects.all().delete()
    Stack.objects.all().delete()
    Organization.objects.exclude(pk__in=[personas.organization.pk, personas.other_organization.pk]).delete()
    _seed(personas, 1000)
    large = _queries(fresh_client(), url())
    assert large == small, f"{small} queries for 10 events, {large} for 1,000"
