"""The status page screens for engineers and clients: who may do what, the incident and maintenance
lifecycles through the forms, field-named errors, the audit log, the preview, the provider-wide page."""

from __future__ import annotations

import io
import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from status import services
from status.models import Component, ComponentGroup, Incident, StatusAuditEntry, StatusPage, Subscriber
from tests.conftest import client_for
from tests.tenancy_matrix import make_event, make_status_page

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def page(personas) -> StatusPage:
    return make_status_page(personas.organization)


@pytest.fixture
def website(page) -> Component:
    return Component.objects.create(page=page, name="Website", position=1)


@pytest.fixture
def checkout(page) -> Component:
    return Component.objects.create(page=page, name="Checkout", position=2)


def url(name: str, page: StatusPage, **kwargs) -> str:
    return reverse(f"status-manage-{name}", kwargs={"org": page.organization.slug, "pk": page.pk, **kwargs})


def local(value) -> str:
    """A datetime as a datetime-local input sends it, in the page's time zone."""
    return timezone.localtime(value, PARIS).strftime("%Y-%m-%dT%H:%M")


def incident_data(**overrides) -> dict:
    return {
        "name": "Checkout is slow",
        "status": "investigating",
        "impact": "major",
        "body": "We are looking into **slow** payments.",
        "deliver_notifications": "on",
        **overrides,
    }


def open_incident(page, by, **fields) -> Incident:
    fields.setdefault("name", "Checkout is slow")
    fields.setdefault("body", "Looking into it.")
    return services.incident_create(page=page, by=by, **fields)


# --- Who may do what ------------------------------------------------------------------------------


def test_member_reads_every_screen(personas, page, website):
    incident = open_incident(page, personas.engineer)
    client = client_for(personas.member)
    for name, kwargs in [
        ("overview", {}),
        ("settings", {}),
        ("components", {}),
        ("incidents", {}),
        ("incident-detail", {"incident": incident.pk}),
        ("maintenances", {}),
        ("subscribers", {}),
        ("audit", {}),
    ]:
        response = client.get(url(name, page, **kwargs))
        assert response.status_code == 200, name
    listing = client.get(reverse("status-manage-list", args=[personas.organization.slug]))
    assert page.name in listing.content.decode()


def test_member_cannot_change_anything(personas, page, website):
    incident = open_incident(page, personas.engineer)
    client = client_for(personas.member)
    audit_before = StatusAuditEntry.objects.count()
    attempts = [
        ("settings", {}, {"name": "Changed", "slug": "changed"}),
        ("component-create", {}, {"name": "Intruder"}),
        ("component-update", {"component": website.pk}, {"name": "Renamed"}),
        ("component-status", {"component": website.pk}, {"status": "major_outage"}),
        ("component-delete", {"component": website.pk}, {}),
        ("component-order", {}, {f"component-{website.pk}": "9"}),
        ("group-create", {}, {"name": "Shop"}),
        ("incident-create", {}, incident_data()),
        ("incident-detail", {"incident": incident.pk}, {"status": "resolved", "body": "Done."}),
        ("incident-postmortem", {"incident": incident.pk}, {"postmortem_body": "Why."}),
        ("maintenance-create", {}, {"name": "Upgrade"}),
    ]
    for name, kwargs, data in attempts:
        assert client.post(url(name, page, **kwargs), data).status_code == 403, name
    assert client.get(url("incident-create", page)).status_code == 403
    assert client.get(url("component-create", page)).status_code == 403
    assert client.post(reverse("status-manage-create", args=[personas.organization.slug]), {}).status_code == 403
    website.refresh_from_db()
    assert (website.name, website.status, website.position) == ("Website", "operational", 1)
    assert Incident.objects.count() == 1
    assert StatusAuditEntry.objects.count() == audit_before


def test_member_sees_no_change_controls(personas, page, website):
    body = client_for(personas.member).get(url("components", page)).content.decode()
    assert url("component-create", page) not in body
    assert url("component-status", page, component=website.pk) not in body


def test_owner_manages_components_but_posts_incidents_only_when_allowed(personas, page, website):
    owner = client_for(personas.owner)
    assert owner.post(url("component-create", page), {"name": "API", "position": "3"}).status_code == 302
    assert page.components.filter(name="API").exists()
    assert owner.get(url("incident-create", page)).status_code == 403
    assert owner.post(url("incident-create", page), incident_data()).status_code == 403
    assert (
        owner.post(url("component-status", page, component=website.pk), {"status": "major_outage"}).status_code == 403
    )
    assert not Incident.objects.exists()

    services.page_update(page=page, by=personas.engineer, clients_can_post=True)
    assert owner.post(url("incident-create", page), incident_data()).status_code == 302
    incident = Incident.objects.get()
    assert incident.updates.get().author == personas.owner


def test_owner_cannot_let_themselves_post(personas, page):
    data = {
        "name": page.name,
        "slug": page.slug,
        "accent_colour": "#0b57d0",
        "time_zone": "Europe/Paris",
        "language": "en",
        "visibility": "public",
        "clients_can_post": "on",
        "probe_failures_to_degrade": "3",
        "probe_successes_to_recover": "2",
    }
    assert client_for(personas.owner).post(url("settings", page), data).status_code == 302
    page.refresh_from_db()
    assert page.clients_can_post is False
    assert client_for(personas.engineer).post(url("settings", page), data).status_code == 302
    page.refresh_from_db()
    assert page.clients_can_post is True


def test_outsider_finds_nothing(personas, page, website):
    client = client_for(personas.outsider)
    assert client.get(url("overview", page)).status_code == 404
    assert (
        client.post(url("component-status", page, component=website.pk), {"status": "major_outage"}).status_code == 404
    )
    assert client.get(reverse("engineering-status-overview")).status_code == 403


def test_an_object_of_another_page_is_not_found_under_ones_own_page(personas, page):
    foreign = Component.objects.create(page=make_status_page(personas.other_organization), name="Foreign")
    client = client_for(personas.engineer)
    assert client.get(url("component-update", page, component=foreign.pk)).status_code == 404
    response = client.post(url("component-status", page, component=foreign.pk), {"status": "major_outage"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "operational"


# --- Pages and settings ---------------------------------------------------------------------------------


def page_form(**overrides) -> dict:
    return {
        "name": "Maison Lumière status",
        "slug": "lumiere",
        "custom_domain": "",
        "accent_colour": "#123456",
        "time_zone": "Europe/Paris",
        "language": "fr",
        "visibility": "public",
        "probe_failures_to_degrade": "3",
        "probe_successes_to_recover": "2",
        "probes_open_draft_incidents": "on",
        **overrides,
    }


def test_owner_creates_the_organizations_page(personas):
    client = client_for(personas.owner)
    create = reverse("status-manage-create", args=[personas.organization.slug])
    assert client.get(create).status_code == 200
    response = client.post(create, page_form(custom_domain="Status.Lumiere.Example."))
    page = StatusPage.objects.get(slug="lumiere")
    assert response["Location"] == url("components", page)
    assert page.organization == personas.organization
    assert page.custom_domain == "status.lumiere.example"
    assert page.language == "fr"
    assert page.audit.get().actor == personas.owner


def test_page_form_errors_name_the_field(personas, page):
    client = client_for(personas.owner)
    create = reverse("status-manage-create", args=[personas.organization.slug])
    response = client.post(create, page_form(slug=page.slug, accent_colour="blue", custom_domain="http://x/"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"slug", "accent_colour", "custom_domain"} <= set(errors)
    response = client.post(create, page_form(visibility="password"))
    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert not StatusPage.objects.filter(slug="lumiere").exists()


def test_password_is_set_and_never_shown(personas, page):
    client = client_for(personas.owner)
    data = page_form(name=page.name, slug=page.slug, visibility="password", password="open-sesame-42")
    assert client.post(url("settings", page), data).status_code == 302
    page.refresh_from_db()
    assert page.check_password("open-sesame-42")
    body = client.get(url("settings", page)).content.decode()
    assert "open-sesame-42" not in body
    assert page.password_hash not in body
    # Empty keeps the password.
    assert client.post(url("settings", page), {**data, "password": ""}).status_code == 302
    page.refresh_from_db()
    assert page.check_password("open-sesame-42")
    assert page.audit.filter(action="update page", changes__password="changed").exists()


def _image(kind: str = "PNG", size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "#0b57d0").save(buffer, format=kind)
    return buffer.getvalue()


def test_logo_upload_replace_and_remove(personas, page, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    client = client_for(personas.owner)
    data = page_form(name=page.name, slug=page.slug)
    logo = SimpleUploadedFile("logo.png", _image(), content_type="image/png")
    assert client.post(url("settings", page), {**data, "logo": logo}).status_code == 302
    page.refresh_from_db()
    assert page.logo.name.startswith("status/logos/")
    assert (tmp_path / page.logo.name).exists()
    # Saving without a file keeps it.
    assert client.post(url("settings", page), data).status_code == 302
    page.refresh_from_db()
    assert page.logo

    for name, content in [
        ("logo.png", b"<svg onload=alert(1)>"),
        ("logo.gif", _image("GIF")),
        ("logo.png", _image("PNG", size=2000) + b"\0" * 300_000),
    ]:
        response = client.post(url("settings", page), {**data, "logo": SimpleUploadedFile(name, content)})
        assert response.status_code == 400, name
        assert "logo" in response.context["form"].errors

    assert client.post(url("settings", page), {**data, "remove_logo": "on"}).status_code == 302
    page.refresh_from_db()
    assert not page.logo


# --- Components and groups ----------------------------------------------------------------------------


def test_probe_url_to_a_private_address_is_refused_on_its_field(personas, page):
    client = client_for(personas.owner)
    response = client.post(
        url("component-create", page),
        {"name": "Website", "position": "0", "probe_url": "http://169.254.169.254/latest/meta-data/"},
    )
    assert response.status_code == 400
    assert "probe_url" in response.context["form"].errors
    assert not page.components.exists()


def test_component_links_to_a_stack_of_the_organization(personas, page, stack):
    client = client_for(personas.owner)
    data = {"name": "Website", "position": "0", "probe_interval_seconds": "60", "stack": str(stack.pk)}
    data["probe_url"] = "https://www.maison-lumiere.example/health"
    assert client.post(url("component-create", page), data).status_code == 302
    component = page.components.get()
    assert component.stack == stack
    assert component.next_probe_at is not None
    from tests.tenancy_matrix import make_stack

    foreign = make_stack(personas.other_organization)
    response = client.post(url("component-update", page, component=component.pk), {**data, "stack": foreign.pk})
    assert response.status_code == 400
    assert "stack" in response.context["form"].errors


def test_groups_and_order(personas, page, website, checkout):
    client = client_for(personas.owner)
    assert client.post(url("group-create", page), {"name": "Shop", "position": "1"}).status_code == 302
    group = page.groups.get()
    data = {"name": "Checkout", "position": "2", "probe_interval_seconds": "60", "group": str(group.pk)}
    assert client.post(url("component-update", page, component=checkout.pk), data).status_code == 302
    order = {f"component-{website.pk}": "5", f"component-{checkout.pk}": "1", f"group-{group.pk}": "3"}
    assert client.post(url("component-order", page), order).status_code == 302
    assert list(page.components.order_by("position").values_list("name", "position")) == [
        ("Checkout", 1),
        ("Website", 5),
    ]
    group.refresh_from_db()
    assert group.position == 3
    body = client.get(url("components", page)).content.decode()
    assert body.index("Shop") < body.index("Website")

    bad = client.post(url("component-order", page), {f"component-{website.pk}": "first"})
    assert bad.status_code == 400
    assert client.post(url("group-delete", page, group=group.pk)).status_code == 302
    assert not ComponentGroup.objects.exists()
    checkout.refresh_from_db()
    assert checkout.group is None


def test_status_set_by_hand_is_audited(personas, page, website):
    client = client_for(personas.engineer)
    response = client.post(url("component-status", page, component=website.pk), {"status": "partial_outage"})
    assert response.status_code == 302
    website.refresh_from_db()
    assert website.status == "partial_outage"
    entry = page.audit.get(action="component status")
    assert entry.actor == personas.engineer
    assert entry.changes["new"] == "partial_outage"
    assert client.post(url("component-status", page, component=website.pk), {"status": "on_fire"}).status_code == 400


def test_deleting_a_component(personas, page, website):
    assert client_for(personas.owner).post(url("component-delete", page, component=website.pk)).status_code == 302
    assert not Component.objects.exists()
    assert page.audit.filter(action="delete component", subject="Website").exists()


# --- Incidents ---------------------------------------------------------------------------------------------


def test_open_update_resolve_through_the_pages(personas, page, website, checkout):
    client = client_for(personas.engineer)
    form = client.get(url("incident-create", page)).content.decode()
    assert f'name="component_{website.pk}"' in form

    response = client.post(url("incident-create", page), incident_data(**{f"component_{website.pk}": "major_outage"}))
    incident = Incident.objects.get()
    detail = url("incident-detail", page, incident=incident.pk)
    assert response["Location"] == detail
    website.refresh_from_db()
    checkout.refresh_from_db()
    assert (website.status, checkout.status) == ("major_outage", "operational")
    assert list(incident.components.all()) == [website]

    update = {"status": "identified", "body": "A bad deploy.", "deliver_notifications": "on"}
    assert client.post(detail, {**update, f"component_{website.pk}": "partial_outage"}).status_code == 302
    website.refresh_from_db()
    assert website.status == "partial_outage"
    assert client.post(detail, {"status": "resolved", "body": "Rolled back."}).status_code == 302

    incident.refresh_from_db()
    website.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.resolved_at is not None
    assert website.status == "operational"
    page_html = client.get(detail).content.decode()
    assert page_html.count('data-testid="update"') == 3
    assert "<strong>slow</strong>" in page_html
    assert "Major outage → Partial outage" in page_html
    assert reverse("status-incident", kwargs={"slug": page.slug, "public_id": incident.public_id}) in page_html
    listing = client.get(url("incidents", page)).content.decode()
    assert "Checkout is slow" in listing


def test_invalid_incident_form_answers_400_with_field_errors(personas, page):
    response = client_for(personas.engineer).post(url("incident-create", page), incident_data(name="", body=""))
    assert response.status_code == 400
    assert {"name", "body"} <= set(response.context["form"].errors)
    assert not Incident.objects.exists()


def test_an_incident_cannot_start_in_the_future(personas, page):
    later = local(timezone.now() + timedelta(days=1))
    response = client_for(personas.engineer).post(url("incident-create", page), incident_data(started_at=later))
    assert response.status_code == 400
    assert "started_at" in response.context["form"].errors


def test_preview_renders_sanitized_markdown_without_saving(personas, page):
    body = "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    response = client_for(personas.engineer).post(url("incident-create", page), incident_data(body=body, preview="1"))
    assert response.status_code == 200
    preview = response.context["preview_html"]
    assert "<strong>Bold</strong>" in preview
    # Raw HTML stays text, and no link runs script.
    for unsafe in ("<script", 'href="javascript', "<img"):
        assert unsafe not in preview
    assert 'data-testid="markdown-preview"' in response.content.decode()
    assert not Incident.objects.exists()
    assert not StatusAuditEntry.objects.exists()


def test_backfilled_past_incident(personas, page, website):
    started = timezone.now() - timedelta(days=3)
    data = incident_data(status="resolved", started_at=local(started), **{f"component_{website.pk}": "major_outage"})
    assert client_for(personas.engineer).post(url("incident-create", page), data).status_code == 302
    incident = Incident.objects.get()
    assert abs(incident.started_at - started) < timedelta(minutes=1)
    assert incident.resolved_at == incident.started_at
    update = incident.updates.get()
    assert update.display_at == incident.started_at
    assert update.deliver_notifications is False
    website.refresh_from_db()
    # History, not today's state.
    assert website.status == "operational"


def test_draft_is_published_from_its_page(personas, page, website):
    draft = services.incident_create(
        page=page,
        by=None,
        name="Website degraded",
        body="A probe saw failures.",
        component_statuses={website: "major_outage"},
        draft=True,
    )
    other = open_incident(page, personas.engineer, name="Older, open")
    client = client_for(personas.engineer)
    listing = client.get(url("incidents", page))
    assert [incident.pk for incident in listing.context["incidents"]][:2] == [draft.pk, other.pk]
    detail = client.get(url("incident-detail", page, incident=draft.pk)).content.decode()
    assert 'data-testid="publish"' in detail

    response = client.post(url("incident-publish", page, incident=draft.pk))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_draft is False
    assert page.audit.filter(action="publish incident", actor=personas.engineer).exists()
    again = client.post(url("incident-publish", page, incident=draft.pk), follow=True)
    assert "already published" in again.content.decode()


def test_postmortem_only_after_resolution(personas, page):
    incident = open_incident(page, personas.engineer)
    client = client_for(personas.engineer)
    postmortem = url("incident-postmortem", page, incident=incident.pk)
    response = client.post(postmortem, {"postmortem_body": "Root cause: a full disk."})
    assert response.status_code == 409
    assert "Resolve the incident" in response.content.decode()

    services.incident_update_post(incident=incident, by=personas.engineer, status="resolved", body="Fixed.")
    assert client.post(postmortem, {"postmortem_body": ""}).status_code == 400
    assert client.post(postmortem, {"postmortem_body": "Root cause: a *full* disk."}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "postmortem"
    detail = client.get(url("incident-detail", page, incident=incident.pk))
    assert "<em>full</em>" in detail.content.decode()
    # Closed: no update form any more, and a forced update is a conflict.
    assert "update_form" not in detail.context
    response = client.post(url("incident-detail", page, incident=incident.pk), {"status": "investigating", "body": "x"})
    assert response.status_code == 409


# --- Maintenance ---------------------------------------------------------------------------------------------


def maintenance_data(start, end, **overrides) -> dict:
    return {
        "name": "Database upgrade",
        "body": "The shop is read-only for a few minutes.",
        "scheduled_for": local(start),
        "scheduled_until": local(end),
        "auto_transition": "on",
        "deliver_notifications": "on",
        **overrides,
    }


def test_maintenance_is_scheduled_and_followed(personas, page, website):
    start = timezone.now() + timedelta(days=2)
    client = client_for(personas.engineer)
    data = maintenance_data(start, start + timedelta(hours=1), components=[str(website.pk)])
    response = client.post(url("maintenance-create", page), data)
    maintenance = Incident.objects.get(kind=Incident.Kind.MAINTENANCE)
    detail = url("maintenance-detail", page, incident=maintenance.pk)
    assert response["Location"] == detail
    assert maintenance.status == "scheduled"
    assert list(maintenance.components.all()) == [website]
    assert local(maintenance.scheduled_for) == local(start)

    assert client.post(detail, {"status": "in_progress", "body": "Started."}).status_code == 302
    website.refresh_from_db()
    assert website.status == "under_maintenance"
    assert client.post(detail, {"status": "completed", "body": "Done."}).status_code == 302
    website.refresh_from_db()
    assert website.status == "operational"
    listing = client.get(url("maintenances", page)).content.decode()
    assert "Database upgrade" in listing
    # The incidents' list is for incidents only, and the incident URL does not open a maintenance.
    assert client.get(url("incident-detail", page, incident=maintenance.pk)).status_code == 404


def test_maintenance_errors_name_the_field(personas, page):
    client = client_for(personas.engineer)
    now = timezone.now()
    cases = [
        (maintenance_data(now + timedelta(hours=2), now + timedelta(hours=1)), "scheduled_until"),
        (maintenance_data(now - timedelta(hours=3), now - timedelta(hours=2)), "scheduled_until"),
        (maintenance_data(now + timedelta(hours=1), now + timedelta(days=9)), "scheduled_until"),
        (maintenance_data(now, now + timedelta(hours=1), scheduled_for="soon"), "scheduled_for"),
        (maintenance_data(now, now + timedelta(hours=1), name=""), "name"),
    ]
    for data, field in cases:
        response = client.post(url("maintenance-create", page), data)
        assert response.status_code == 400, field
        assert field in response.context["form"].errors, (field, response.context["form"].errors)
    assert not Incident.objects.exists()


def test_media_event_announcement(personas, page, stack):
    event = make_event(personas.organization, days_ahead=5, stack=stack)
    client = client_for(personas.engineer)
    form = client.get(url("maintenance-create", page), {"media_event": event.pk}).context["form"]
    assert form.initial["media_event"] == event.pk
    # The window announcements keep: from capacity up (45 min before air) to the end of the tail.
    assert form.initial["scheduled_for"] == event.air_start - services.ANNOUNCEMENT_LEAD
    assert form.initial["scheduled_until"] == event.air_end + services.ANNOUNCEMENT_TAIL
    data = maintenance_data(event.air_start, event.air_end, media_event=str(event.pk))
    assert client.post(url("maintenance-create", page), data).status_code == 302
    assert Incident.objects.get().media_event == event

    foreign = make_event(personas.other_organization)
    response = client.post(url("maintenance-create", page), {**data, "media_event": str(foreign.pk)})
    assert response.status_code == 400
    assert "media_event" in response.context["form"].errors


# --- Subscribers, audit, preview -------------------------------------------------------------------------


def test_subscribers_are_counted_and_secrets_never_shown(personas, page, website):
    now = timezone.now()
    Subscriber.objects.create(page=page, channel="email", email="fan@example.com", confirmed_at=now)
    Subscriber.objects.create(page=page, channel="email", email="maybe@example.com")
    Subscriber.objects.create(
        page=page, channel="email", email="gone@example.com", confirmed_at=now, unsubscribed_at=now
    )
    hook = Subscriber.objects.create(
        page=page,
        channel="webhook",
        endpoint="https://hooks.example.com/services/T000/B000/secret-token",
        secret="whsec-very-secret",
        confirmed_at=now,
    )
    hook.components.add(website)
    response = client_for(personas.member).get(url("subscribers", page))
    body = response.content.decode()
    assert response.context["counts"] == {
        "total": 4,
        "active": 2,
        "pending": 1,
        "unsubscribed": 1,
        "email": 1,
        "webhook": 1,
    }
    assert "fan@example.com" in body
    assert "hooks.example.com" in body
    assert "secret-token" not in body
    assert "whsec-very-secret" not in body
    assert "1 component" in body


def test_audit_log_records_who_and_when(personas, page, website):
    before = timezone.now()
    client = client_for(personas.engineer)
    client.post(url("incident-create", page), incident_data(**{f"component_{website.pk}": "major_outage"}))
    entries = list(page.audit.order_by("at", "pk"))
    assert [entry.action for entry in entries] == ["component status", "open incident"]
    assert all(entry.actor == personas.engineer and entry.at >= before for entry in entries)
    body = client_for(personas.member).get(url("audit", page)).content.decode()
    assert body.count('data-testid="audit-row"') == 2
    assert "Nadia Engineer" in body
    assert "operational" in body
    assert "major_outage" in body


def test_preview_renders_the_public_page_without_drafts(personas, page, website):
    pytest.importorskip("status.public_context")
    open_incident(page, personas.engineer, name="Visible incident", component_statuses={website: "major_outage"})
    services.incident_create(page=page, by=None, name="Secret draft", body="Probe.", draft=True)
    response = client_for(personas.member).get(url("preview", page), {"lang": "fr"})
    assert response.status_code == 200
    body = response.content.decode()
    assert page.name in body
    assert "Visible incident" in body
    assert "Secret draft" not in body
    assert 'lang="fr"' in body
    assert response["Cache-Control"] == "private, no-store"
    assert "Content-Security-Policy" in response


def test_organization_navigation_links_to_status_pages(personas):
    body = client_for(personas.member).get(reverse("organization-dashboard", args=["maison-lumiere"])).content.decode()
    assert reverse("status-manage-list", args=["maison-lumiere"]) in body


# --- The provider-wide page ----------------------------------------------------------------------------------


def test_engineers_run_the_provider_wide_page(personas):
    client = client_for(personas.engineer)
    overview = reverse("engineering-status-overview")
    assert client.get(overview)["Location"] == reverse("engineering-status-create")
    response = client.post(reverse("engineering-status-create"), page_form(name="Primetime", slug="primetime"))
    page = StatusPage.objects.get(slug="primetime")
    assert page.organization is None
    assert response["Location"] == reverse("engineering-status-components")
    # One provider page: the creation screen sends to it.
    assert client.get(reverse("engineering-status-create"))["Location"] == overview

    assert client.post(reverse("engineering-status-component-create"), {"name": "Portal"}).status_code == 302
    component = page.components.get()
    data = incident_data(**{f"component_{component.pk}": "degraded_performance"})
    assert client.post(reverse("engineering-status-incident-create"), data).status_code == 302
    incident = page.incidents.get()
    assert (
        client.get(reverse("engineering-status-incident-detail", kwargs={"incident": incident.pk})).status_code == 200
    )
    for name in ("overview", "components", "incidents", "maintenances", "subscribers", "audit", "settings"):
        assert client.get(reverse(f"engineering-status-{name}")).status_code == 200, name
    form = client.get(reverse("engineering-status-component-update", kwargs={"component": component.pk}))
    assert "stack" not in form.context["form"].fields


@pytest.mark.parametrize("persona", ["owner", "member", "outsider"])
def test_clients_cannot_open_the_provider_wide_page(personas, persona):
    page = StatusPage.objects.create(name="Primetime", slug="primetime")
    client = client_for(personas.by_name(persona))
    assert client.get(reverse("engineering-status-overview")).status_code == 403
    assert client.post(reverse("engineering-status-settings"), page_form(name="Taken")).status_code == 403
    assert client.get(reverse("engineering-status-create")).status_code == 403
    page.refresh_from_db()
    assert page.name == "Primetime"


def test_anonymous_is_sent_to_sign_in_from_the_provider_page(db):
    response = client_for(None).get(reverse("engineering-status-overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
