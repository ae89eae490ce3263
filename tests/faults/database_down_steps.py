"""Steps of the database-down scenario, run in their own processes against the private PostgreSQL cluster.

``python -m tests.faults.database_down_steps seed|advance``: each prints one ``RESULT {json}`` line.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings

# Pages render without collectstatic's manifest, as in the rest of the suite (tests/conftest.py).
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
django.setup()
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

SLUG = "lumiere-faults"


def seed() -> dict:
    from accounts import services as accounts_services
    from accounts.models import Membership, Organization, User
    from events.models import MediaEvent
    from status import publish
    from status.models import Component, Incident, StatusPage
    from tests.tenancy_matrix import make_event

    due_at = timezone.now() + timedelta(seconds=float(os.environ.get("FAULTS_DUE_IN", "1")))
    organization = Organization.objects.create(
        name="Maison Lumière", slug="maison-lumiere", timezone="Europe/Paris", contact_email="tech@lumiere.example"
    )
    owner = User.objects.create_user(email="owner@lumiere.example", password="correct-horse-battery-staple")
    engineer = User.objects.create_user(email="engineer@provider.example", password="correct-horse-battery-staple")
    accounts_services.engineer_grant(user=engineer)
    Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    page = StatusPage.objects.create(organization=organization, name="Maison Lumière status", slug=SLUG)
    for index in range(5):
        Component.objects.create(page=page, name=f"Site {index}", probe_url=f"https://www{index}.lumiere.example/")
    # Schedules that fall due while the database is down.
    maintenance = Incident.objects.create(
        page=page, kind=Incident.Kind.MAINTENANCE, name="Database upgrade", status="scheduled", impact="maintenance",
        scheduled_for=due_at, scheduled_until=due_at + timedelta(hours=1), started_at=due_at, auto_transition=True,
    )  # fmt: skip
    event = make_event(
        organization, status=MediaEvent.Status.ACCEPTED, assignee=engineer, days_ahead=0,
        air_start=due_at, air_end=due_at + timedelta(minutes=12),
    )  # fmt: skip
    publish.publish_now(page.pk)
    client = Client()
    client.force_login(owner)
    return {
        "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "cookie": settings.SESSION_COOKIE_NAME,
        "maintenance": maintenance.pk,
        "event": event.pk,
    }


def advance() -> dict:
    """One beat tick: the clock-driven schedules and the probe claims (the claim is what two beats race on)."""
    from events.services import events_advance_by_clock
    from status.probing import probes_claim_due
    from status.services import maintenances_advance

    now = timezone.now()
    return {
        "events": events_advance_by_clock(now=now),
        "maintenances": maintenances_advance(now=now),
        "probes": probes_claim_due(now=now, limit=100),
    }


def effects() -> dict:
    from events.models import TimelineEntry
    from status.models import IncidentUpdate

    return {
        "maintenance_started": IncidentUpdate.objects.filter(incident__page__slug=SLUG, status="in_progress").count(),
        "event_on_air": TimelineEntry.objects.filter(kind=TimelineEntry.Kind.TRANSITION, to_status="on_air").count(),
    }


if __name__ == "__main__":
    result = {"seed": seed, "advance": advance, "effects": effects}[sys.argv[1]]()
    print("RESULT " + json.dumps(result, default=str), flush=True)
