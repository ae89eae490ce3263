"""The public status page: Statuspage-shaped JSON, the roll-up, lifecycles, uptime, and serving from
snapshots (no cookie, no database query, still answering with the database down)."""

from __future__ import annotations

import base64
import gzip
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.utils import timezone

from portal.exceptions import Conflict
from status import publish, services, snapshots, uptime
from status.models import Component, Incident, UptimeDay
from status.statuspage import status_indicator
from status.uptime import uptime_percent
from tests.status.statuspage_schema import ENDPOINTS


@pytest.fixture
def page(personas, django_capture_on_commit_callbacks):
    """Maison Lumière's page: a "Shop" group of two components and one component of its own."""
    with django_capture_on_commit_callbacks(execute=True):
        page = services.page_create(
            organization=personas.organization, by=personas.engineer, name="Maison Lumière", slug="lumiere"
        )
        shop = services.group_save(page=page, by=personas.engineer, name="Shop", position=1)
        services.component_save(page=page, by=personas.engineer, name="Website", group=shop, position=1)
        services.component_save(page=page, by=personas.engineer, name="Checkout", group=shop, position=2)
        services.component_save(page=page, by=personas.engineer, name="API", position=2)
    return page


def _component(page, name: str) -> Component:
    return Component.objects.get(page=page, name=name)


def _post(callbacks, function, **kwargs):
    with callbacks(execute=True):
        return function(**kwargs)


def test_every_json_endpoint_matches_statuspage_shapes(page, personas, client, django_capture_on_commit_callbacks):
    website = _component(page, "Website")
    _post(django_capture_on_commit_callbacks, services.incident_create, page=page, by=personas.engineer,
          name="Slow checkout", body="Looking into it.", impact="major",
          component_statuses={website: "partial_outage"})  # fmt: skip
    start = timezone.now() + timedelta(days=2)
    _post(django_capture_on_commit_callbacks, services.maintenance_schedule, page=page, by=personas.engineer,
          name="Database upgrade", body="Ten minutes.", scheduled_for=start,
          scheduled_until=start + timedelta(hours=1), components=[website])  # fmt: skip
    for name, schema in ENDPOINTS.items():
        response = client.get(f"/status/lumiere/api/v2/{name}")
        assert response.status_code == 200, name
        assert response["Access-Control-Allow-Origin"] == "*"
        jsonschema.validate(response.json(), schema)
    summary = client.get("/status/lumiere/api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert [incident["name"] for incident in summary["incidents"]] == ["Slow checkout"]
    assert summary["incidents"][0]["incident_updates"][0]["affected_components"] == [
        {"code": website.public_id, "name": "Website", "old_status": "operational", "new_status": "partial_outage"}
    ]
    assert [item["name"] for item in summary["scheduled_maintenances"]] == ["Database upgrade"]
    upcoming = client.get("/status/lumiere/api/v2/scheduled-maintenances/upcoming.json").json()
    assert len(upcoming["scheduled_maintenances"]) == 1
    assert (
        client.get("/status/lumiere/api/v2/scheduled-maintenances/active.json").json()["scheduled_maintenances"] == []
    )


def test_group_rows_and_children_are_linked_both_ways(page, client):
    rows = client.get("/status/lumiere/api/v2/components.json").json()["components"]
    by_id = {row["id"]: row for row in rows}
    groups = [row for row in rows if row["group"]]
    assert [group["name"] for group in groups] == ["Shop"]
    children = [by_id[child] for child in groups[0]["components"]]
    assert [child["name"] for child in children] == ["Website", "Checkout"]
    assert all(child["group_id"] == groups[0]["id"] for child in children)
    assert by_id[_component(page, "API").public_id]["group_id"] is None


@pytest.mark.parametrize(
    ("statuses", "impacts", "maintenance", "indicator"),
    [
        ([], [], False, "none"),
        (["operational", "operational"], [], False, "none"),
        (["degraded_performance"], [], False, "minor"),
        (["partial_outage", "degraded_performance"], [], False, "major"),
        (["major_outage", "partial_outage"], [], False, "critical"),
        (["operational"], ["critical"], False, "critical"),
        (["operational"], ["none"], False, "none"),
        (["under_maintenance"], [], False, "maintenance"),
        (["operational"], [], True, "maintenance"),
        (["degraded_performance"], [], True, "minor"),  # something worse than maintenance shows first
    ],
)
def test_the_indicator_rolls_up_from_components_incidents_and_maintenance(statuses, impacts, maintenance, indicator):
    components = [Component(status=status) for status in statuses]
    incidents = [Incident(impact=impact) for impact in impacts]
    assert status_indicator(components, incidents, maintenance)["indicator"] == indicator


def test_an_incident_goes_through_its_lifecycle_and_gives_its_components_back(
    page, personas, client, django_capture_on_commit_callbacks
):
    checkout = _component(page, "Checkout")
    incident = _post(django_capture_on_commit_callbacks, services.incident_create, page=page, by=personas.engineer,
                     name="Payments fail", body="Investigating.", impact="critical",
                     component_statuses={checkout: "major_outage"})  # fmt: skip
    for status in ("identified", "monitoring"):
        _post(django_capture_on_commit_callbacks, services.incident_update_post, incident=incident,
              by=personas.engineer, status=status, body=f"Now {status}.")  # fmt: skip
    with pytest.raises(Conflict):
        services.incident_update_post(incident=incident, by=personas.engineer, status="postmortem", body="Too early.")
    _post(django_capture_on_commit_callbacks, services.incident_update_post, incident=incident, by=personas.engineer,
          status="resolved", body="Fixed.")  # fmt: skip
    incident.refresh_from_db()
    checkout.refresh_from_db()
    assert incident.resolved_at
    assert incident.monitoring_at
    assert checkout.status == "operational"  # resolving gives the components back
    _post(django_capture_on_commit_callbacks, services.postmortem_publish, incident=incident, by=personas.engineer,
          body="## What happened\nA certificate expired.")  # fmt: skip
    with pytest.raises(Conflict):
        services.incident_update_post(incident=incident, by=personas.engineer, status="investigating", body="Again?")
    listed = client.get("/status/lumiere/api/v2/incidents.json").json()["incidents"][0]
    assert listed["status"] == "postmortem"
    assert [update["status"] for update in listed["incident_updates"]] == [
        "resolved", "monitoring", "identified", "investigating"
    ]  # fmt: skip
    page_html = client.get(f"/status/lumiere/incidents/{incident.public_id}/").content.decode()
    assert "A certificate expired." in page_html
    assert "<h3>What happened</h3>" in page_html


def test_maintenance_starts_and_completes_by_itself_and_reminds_an_hour_before(
    page, personas, client, django_capture_on_commit_callbacks
):
    website = _component(page, "Website")
    start = timezone.now() + timedelta(minutes=90)
    maintenance = _post(django_capture_on_commit_callbacks, services.maintenance_schedule, page=page,
                        by=personas.engineer, name="Upgrade", body="Short.", scheduled_for=start,
                        scheduled_until=start + timedelta(minutes=30), components=[website])  # fmt: skip
    assert services.maintenances_advance(now=start - timedelta(minutes=61))["reminded"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.maintenances_advance(now=start - timedelta(minutes=59))["reminded"] == 1
    assert services.maintenances_advance(now=start - timedelta(minutes=58))["reminded"] == 0  # a second beat
    with django_capture_on_commit_callbacks(execute=True):
        assert services.maintenances_advance(now=start + timedelta(minutes=1))["started"] == 1
    website.refresh_from_db()
    assert website.status == "under_maintenance"
    active = client.get("/status/lumiere/api/v2/scheduled-maintenances/active.json").json()
    assert [item["status"] for item in active["scheduled_maintenances"]] == ["in_progress"]
    assert client.get("/status/lumiere/api/v2/status.json").json()["status"]["indicator"] == "maintenance"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.maintenances_advance(now=start + timedelta(minutes=31))["completed"] == 1
    maintenance.refresh_from_db()
    website.refresh_from_db()
    assert (maintenance.status, website.status) == ("completed", "operational")
    assert services.maintenances_advance(now=start + timedelta(minutes=32)) == {
        "started": 0, "completed": 0, "reminded": 0
    }  # fmt: skip


def test_maintenance_windows_are_checked_naming_the_field(page, personas):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        services.maintenance_schedule(page=page, by=personas.engineer, name="Bad", body="x", scheduled_for=start,
                                      scheduled_until=start - timedelta(minutes=1))  # fmt: skip
    assert "scheduled_until" in error.value.message_dict


def test_uptime_percent_from_daily_aggregates_matches_a_hand_computation(page, client):
    website = _component(page, "Website")
    today = timezone.localdate(timezone=ZoneInfo(page.time_zone))
    day = 86_400
    # Two days: one whole day up; one with 1 h major outage, 2 h partial outage, 3 h degraded, 1 h maintenance.
    UptimeDay.objects.create(component=website, day=today - timedelta(days=3), operational=day)
    UptimeDay.objects.create(
        component=website, day=today - timedelta(days=2), operational=day - 7 * 3600, major_outage=3600,
        partial_outage=2 * 3600, degraded_performance=3 * 3600, under_maintenance=3600,
    )  # fmt: skip
    # By hand: down = 3600 + 7200 / 2 = 7200 s of 172,800 s.
    measured = {"operational": 2 * day - 7 * 3600, "major_outage": 3600, "partial_outage": 7200,
                "degraded_performance": 3 * 3600, "under_maintenance": 3600}  # fmt: skip
    assert uptime_percent(measured) == pytest.approx(100 * (1 - 7200 / 172_800))
    Component.objects.filter(pk=website.pk).update(status_since=timezone.now())
    publish.publish(page.pk)
    html = client.get("/status/lumiere/").content.decode()
    # 95.83 % over the two measured days (the moments since the component's last change add a few seconds).
    assert "95.83 %" in html or "95.84 %" in html


def test_an_interval_across_local_midnight_is_split_without_losing_a_second(page):
    """Found by a suite run at 23:00 UTC (midnight in Paris): each day's slice was truncated on its own."""
    website = _component(page, "Website")
    zone = ZoneInfo(page.time_zone)
    start = datetime(2026, 11, 26, 23, 59, 58, 600_000, tzinfo=zone)

    uptime.record_interval(website, "major_outage", start, start + timedelta(minutes=3))

    days = dict(UptimeDay.objects.filter(component=website).values_list("day", "major_outage"))
    assert days == {start.date(): 1, start.date() + timedelta(days=1): 179}


MALICIOUS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://evil.example/"></iframe>',
    '![x](https://evil.example/x.png" onerror="alert(1))',
    '<a href="https://ok.example/" onclick="alert(1)">ok</a>',
    '[ok](https://ok.example/ "title" onmouseover=alert(1))',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


class _Executable(HTMLParser):
    """Collect what a browser could run from an HTML document: scripts, handlers, script URLs, CSS."""

    DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "math", "base", "form"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.in_main = False

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main = True
        if not self.in_main:
            return
        if tag in self.DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            # Relative links carry no scheme; anything with one must be http(s) or mailto.
            scheme = value.split(":", 1)[0] if ":" in value.split("/", 1)[0] else ""
            if name in {"href", "src", "action", "formaction", "xlink:href"} and scheme not in {"", "http", "https",
                                                                                               "mailto"}:  # fmt: skip
                self.found.append(f"{tag}[{name}={value}]")


def test_markdown_in_incident_updates_cannot_inject_script_handlers_or_css(
    page, personas, client, django_capture_on_commit_callbacks
):
    incident = _post(django_capture_on_commit_callbacks, services.incident_create, page=page, by=personas.engineer,
                     name="XSS <b>name</b>", body="\n\n".join(MALICIOUS), impact="minor")  # fmt: skip
    for url in ("/status/lumiere/", f"/status/lumiere/incidents/{incident.public_id}/", "/status/lumiere/history/"):
        html = client.get(url).content.decode()
        parser = _Executable()
        parser.feed(html)
        assert parser.found == [], url
        assert "XSS &lt;b&gt;name&lt;/b&gt;" in html


def _published(page):
    return snapshots.page_meta(page.slug)


def test_public_answers_set_no_cookie_and_make_no_query(page, client, django_assert_num_queries):
    publish.publish(page.pk)
    with django_assert_num_queries(0):
        for url in ("/status/lumiere/", "/status/lumiere/?lang=fr", "/status/lumiere/api/v2/summary.json",
                    "/status/lumiere/feed.atom", "/status/lumiere/feed.rss", "/status/lumiere/badge.svg",
                    "/status/lumiere/history/", "/status/lumiere/?utm_source=tv"):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 200, url
            assert not response.cookies, url
            assert "Set-Cookie" not in response, url
            assert "public, max-age=" in response["Cache-Control"]
            assert "stale-while-revalidate" in response["Cache-Control"]
            assert "stale-if-error" in response["Cache-Control"]


def test_etag_last_modified_304_and_gzip(page, client):
    publish.publish(page.pk)
    first = client.get("/status/lumiere/api/v2/summary.json")
    assert client.get("/status/lumiere/api/v2/summary.json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    since = client.get("/status/lumiere/api/v2/summary.json", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    packed = client.get("/status/lumiere/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip"
    assert b"Maison Lumi" in gzip.decompress(packed.content)
    assert packed["Vary"] == "Accept-Encoding"
    assert (
        client.get("/status/lumiere/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"]).status_code
        == 304
    )


def test_the_page_keeps_answering_from_its_snapshot_when_the_database_is_down(page, client, monkeypatch):
    publish.publish(page.pk)

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused (the test stopped the database)")

    with monkeypatch.context() as down:
        down.setattr(connection, "connect", refuse)
        down.setattr(connection, "ensure_connection", refuse)
        assert client.get("/status/lumiere/").status_code == 200
        assert client.get("/status/lumiere/api/v2/summary.json").json()["page"]["name"] == "Maison Lumière"
        # What was never published cannot be made up: a clear 503, not a stack trace.
        missing = client.get("/status/lumiere/history/?month=2001-01")
        assert missing.status_code == 503
        assert "Temporarily unavailable" in missing.content.decode()


def test_a_burst_of_changes_publishes_once(page, personas, django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    from status import tasks_publish

    monkeypatch.setattr(tasks_publish.publish_page_task, "apply_async", lambda *a, **k: calls.append(a))
    api = _component(page, "API")
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("degraded_performance", "partial_outage", "major_outage", "operational"):
            services.component_status_set(component=api, status=status, by=personas.engineer)
    assert len(calls) == 1
    publish.publish_now(page.pk)  # the publish clears the flag: the next change queues again
    with django_capture_on_commit_callbacks(execute=True):
        services.component_status_set(component=api, status="major_outage", by=personas.engineer)
    assert len(calls) == 2


def test_the_page_answers_on_its_custom_domain(page, personas, client, django_capture_on_commit_callbacks):
    _post(django_capture_on_commit_callbacks, services.page_update, page=page, by=personas.engineer,
          custom_domain="status.lumiere.example")  # fmt: skip
    html = client.get("/", HTTP_HOST="status.lumiere.example")
    assert html.status_code == 200
    assert b"Maison Lumi" in html.content
    summary = client.get("/api/v2/summary.json", HTTP_HOST="status.lumiere.example").json()
    assert summary["page"]["url"] == "https://status.lumiere.example"
    assert client.get("/api/v2/nothing.json", HTTP_HOST="status.lumiere.example").status_code == 404
    # Another host that no page claims is refused as before.
    assert client.get("/", HTTP_HOST="unknown.example").status_code == 400
    # Moving the page to another domain releases the old one.
    _post(django_capture_on_commit_callbacks, services.page_update, page=page, by=personas.engineer,
          custom_domain="status2.lumiere.example")  # fmt: skip
    assert client.get("/", HTTP_HOST="status.lumiere.example").status_code == 400


def test_a_private_page_asks_for_its_password_and_is_never_cached_publicly(
    page, personas, client, django_capture_on_commit_callbacks
):
    _post(django_capture_on_commit_callbacks, services.page_update, page=page, by=personas.engineer,
          visibility="password", password="tv-night-2026")  # fmt: skip
    refused = client.get("/status/lumiere/api/v2/summary.json")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Basic")
    wrong = base64.b64encode(b"x:wrong").decode()
    assert client.get("/status/lumiere/", HTTP_AUTHORIZATION=f"Basic {wrong}").status_code == 401
    good = base64.b64encode(b"x:tv-night-2026").decode()
    answer = client.get("/status/lumiere/", HTTP_AUTHORIZATION=f"Basic {good}")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, no-cache"
    assert not answer.cookies


def test_a_members_page_is_for_signed_in_members_only(page, personas, django_capture_on_commit_callbacks):
    from tests.conftest import client_for

    _post(django_capture_on_commit_callbacks, services.page_update, page=page, by=personas.engineer,
          visibility="members")  # fmt: skip
    from django.test import Client

    assert Client().get("/status/lumiere/").status_code == 302
    assert client_for(personas.member).get("/status/lumiere/").status_code == 200
    assert client_for(personas.outsider).get("/status/lumiere/").status_code == 404


def test_history_is_paginated_by_month_and_old_months_render_on_first_visit(
    page, personas, client, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(days=400)
    old = _post(django_capture_on_commit_callbacks, services.incident_create, page=page, by=personas.engineer,
                name="Old outage", body="Backfilled.", status="resolved", started_at=long_ago)  # fmt: skip
    month = long_ago.astimezone(ZoneInfo(page.time_zone)).strftime("%Y-%m")
    html = client.get(f"/status/lumiere/history/?month={month}").content.decode()
    assert "Old outage" in html
    current = client.get("/status/lumiere/history/").content.decode()
    assert f"?month={month}" in current  # the link back to it
    assert client.get(f"/status/lumiere/incidents/{old.public_id}/").status_code == 200
    assert client.get("/status/lumiere/incidents/aaaaaaaaaaaa/").status_code == 404
    assert client.get("/status/nobody/").status_code == 404


@pytest.mark.parametrize("html", MALICIOUS)
def test_the_sanitizer_alone_removes_what_markdown_would_let_through(html):
    from status.markdown import sanitize

    parser = _Executable()
    parser.feed("<main>" + sanitize(html))
    assert parser.found == []


def test_a_media_event_announcement_moves_with_the_event_and_closes_when_it_is_cancelled(
    page, personas, client, django_capture_on_commit_callbacks
):
    from events import services as event_services
    from tests.tenancy_matrix import make_event

    event = make_event(personas.organization, days_ahead=5)
    _post(django_capture_on_commit_callbacks, services.maintenance_schedule, page=page, by=personas.engineer,
          name="TV segment", body="Expect traffic.", scheduled_for=event.air_start - services.ANNOUNCEMENT_LEAD,
          scheduled_until=event.air_end + services.ANNOUNCEMENT_TAIL, media_event=event)  # fmt: skip
    later = event.air_start + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        event_services.event_update(
            event=event, by=personas.engineer, data={"air_start": later, "air_end": later + timedelta(minutes=12)}
        )
    announcement = Incident.objects.get(media_event=event)
    assert announcement.scheduled_for == later - services.ANNOUNCEMENT_LEAD
    upcoming = client.get("/status/lumiere/api/v2/scheduled-maintenances/upcoming.json").json()
    assert upcoming["scheduled_maintenances"][0]["scheduled_for"].startswith(
        (later - services.ANNOUNCEMENT_LEAD).astimezone(ZoneInfo("Europe/Paris")).isoformat()[:16]
    )
    with django_capture_on_commit_callbacks(execute=True):
        event_services.event_transition(event=event, name="cancel", by=personas.owner, reason="Show moved")
    announcement.refresh_from_db()
    assert announcement.status == "completed"
    assert (
        client.get("/status/lumiere/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"] == []
    )


def test_a_draft_keeps_its_component_statuses_until_it_is_published(
    page, personas, client, django_capture_on_commit_callbacks
):
    checkout = _component(page, "Checkout")
    draft = _post(django_capture_on_commit_callbacks, services.incident_create, page=page, by=personas.engineer,
                  name="Checkout errors", body="Seen by the probe.", draft=True,
                  component_statuses={checkout: "major_outage"})  # fmt: skip
    checkout.refresh_from_db()
    assert checkout.status == "operational"
    assert client.get("/status/lumiere/api/v2/incidents.json").json()["incidents"] == []
    _post(django_capture_on_commit_callbacks, services.incident_publish, incident=draft, by=personas.engineer)
    checkout.refresh_from_db()
    assert checkout.status == "major_outage"
    listed = client.get("/status/lumiere/api/v2/incidents/unresolved.json").json()["incidents"]
    assert listed[0]["incident_updates"][0]["affected_components"][0]["new_status"] == "major_outage"


def test_people_need_the_right_to_post_to_set_a_status_and_only_engineers_let_clients_post(page, personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.component_status_set(component=_component(page, "API"), status="major_outage", by=personas.owner)
    with pytest.raises(PermissionDenied):
        services.page_update(page=page, by=personas.owner, clients_can_post=True)
    services.page_update(page=page, by=personas.engineer, clients_can_post=True)
    services.component_status_set(component=_component(page, "API"), status="major_outage", by=personas.owner)


def test_the_event_page_offers_to_announce_the_broadcast_then_links_the_announcement(
    page, personas, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.conftest import client_for
    from tests.tenancy_matrix import make_event

    event = make_event(personas.organization, days_ahead=5)
    url = reverse("event-detail", args=["maison-lumiere", event.pk])
    html = client_for(personas.engineer).get(url).content.decode()
    assert f"?media_event={event.pk}" in html
    assert f"?media_event={event.pk}" not in client_for(personas.member).get(url).content.decode()
    _post(django_capture_on_commit_callbacks, services.maintenance_schedule, page=page, by=personas.engineer,
          name="TV segment", body="Expect traffic.", scheduled_for=event.air_start - services.ANNOUNCEMENT_LEAD,
          scheduled_until=event.air_end + services.ANNOUNCEMENT_TAIL, media_event=event)  # fmt: skip
    html = client_for(personas.member).get(url).content.decode()
    assert "TV segment" in html
