"""Demo status pages for a local run: Maison Lumière's page with 90 days of history, and the provider's."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from status import services
from status.markdown import render
from status.models import Component, Incident, StatusPage, UptimeDay
from status.publish import publish

PAST_INCIDENTS = [
    # (days ago, hour, minutes, component, status during it, impact, name, updates)
    (
        41, 20, 38, "Checkout", "partial_outage", "major", "Payments failing for some card holders",
        ["Some payments are declined with an error. We are investigating.",
         "The payment provider's API times out under load; we moved to its second region.",
         "Payments work again. We keep watching."],
    ),
    (
        18, 21, 12, "Product images", "degraded_performance", "minor", "Product images load slowly",
        ["Images take several seconds to appear.", "The CDN cache was purged by mistake and is warm again."],
    ),
    (
        3, 19, 25, "Website", "major_outage", "critical", "Site unavailable after a deployment",
        ["The site answers with errors after tonight's deployment. **Rolling back now.**",
         "Rolled back; pages load again.",
         "Resolved. A [post-mortem](https://www.maison-lumiere.example/blog) follows."],
    ),
]  # fmt: skip


def seed_status_pages(organization: Organization, *, engineer: User, media_event=None) -> StatusPage:
    """Create the demo pages once (safe to run again) and publish them."""
    page = StatusPage.objects.filter(slug=organization.slug).first()
    if page is None:
        with transaction.atomic():
            page = _client_page(organization, engineer, media_event)
            _provider_page(engineer)
    publish(page.pk)
    provider = StatusPage.objects.filter(organization=None).first()
    if provider:
        publish(provider.pk)
    return page


def _client_page(organization: Organization, engineer: User, media_event) -> StatusPage:
    page = services.page_create(
        organization=organization, by=engineer, name=organization.name, slug=organization.slug,
        time_zone="Europe/Paris", language="fr", accent_colour="#8a4b08",
    )  # fmt: skip
    shop = services.group_save(page=page, by=engineer, name="Boutique en ligne", position=1)
    services_group = services.group_save(page=page, by=engineer, name="Services", position=2)
    components = {}
    for position, (name, group, description) in enumerate(
        [
            ("Website", shop, "www.maison-lumiere.example"),
            ("Checkout", shop, "Cart and payment"),
            ("Product images", shop, "Served by the CDN"),
            ("Customer accounts", services_group, "Sign-in and orders"),
            ("Store API", services_group, "Used by the mobile app"),
        ],
        start=1,
    ):
        components[name] = services.component_save(
            page=page, by=engineer, name=name, group=group, description=description, position=position
        )
    _history(page, components, engineer)
    air = media_event.air_start if media_event else timezone.now() + timedelta(days=4)
    services.maintenance_schedule(
        page=page, by=engineer, name="TV segment on M6: expect high traffic",
        body="Our shop appears on national TV. Capacity is raised an hour before; pages may be slower for a "
        "few minutes while the audience arrives.",
        scheduled_for=air - services.ANNOUNCEMENT_LEAD,
        scheduled_until=(media_event.air_end if media_event else air) + services.ANNOUNCEMENT_TAIL,
        components=[components["Website"], components["Checkout"]], media_event=media_event,
    )  # fmt: skip
    return page


def _history(page: StatusPage, components: dict[str, Component], engineer: User) -> None:
    """Backfill the incidents and 90 days of uptime that agree with them."""
    zone = zoneinfo.ZoneInfo(page.time_zone)
    today = timezone.now().astimezone(zone).date()
    downtime: dict[tuple[str, object], tuple[str, int]] = {}
    for days_ago, hour, minutes, name, status, impact, title, bodies in PAST_INCIDENTS:
        day = today - timedelta(days=days_ago)
        started = datetime.combine(day, time(hour, 0), tzinfo=zone)
        incident = services.incident_create(
            page=page, by=engineer, name=title, body=bodies[0], status="investigating", impact=impact,
            component_statuses={components[name]: status}, started_at=started,
        )  # fmt: skip
        steps = ["identified", "resolved"] if len(bodies) == 3 else ["resolved"]
        for index, (step, body) in enumerate(zip(steps, bodies[1:], strict=True), start=1):
            when = started + timedelta(minutes=minutes * index // len(steps))
            incident.updates.create(status=step, body=body, body_html=render(body), display_at=when,
                                    created_at=when, deliver_notifications=False, author=engineer)  # fmt: skip
        Incident.objects.filter(pk=incident.pk).update(
            status="resolved", resolved_at=started + timedelta(minutes=minutes)
        )
        downtime[(name, day)] = (status, minutes * 60)
    start = timezone.now() - timedelta(days=89)
    for name, component in components.items():
        rows = []
        for offset in range(89, 0, -1):
            day = today - timedelta(days=offset)
            seconds = {"operational": 86_400}
            if (name, day) in downtime:
                status, lost = downtime[(name, day)]
                seconds = {"operational": 86_400 - lost, status: lost}
            rows.append(UptimeDay(component=component, day=day, **seconds))
        UptimeDay.objects.bulk_create(rows)
        Component.objects.filter(pk=component.pk).update(
            created_at=start, status_since=datetime.combine(today, time.min, tzinfo=zone)
        )


def _provider_page(engineer: User) -> StatusPage:
    page = services.page_create(
        organization=None, by=engineer, name="Primetime", slug="primetime", time_zone="Europe/Paris"
    )
    for position, name in enumerate(["Portal", "Public status pages", "REST API", "Pre-scaling"], start=1):
        services.component_save(page=page, by=engineer, name=name, position=position)
    return page
