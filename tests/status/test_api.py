"""The status pages' REST API: roles, lifecycles, field-named errors and 409 conflicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from status import services
from status.models import Component, Incident, StatusPage
from tests.conftest import api_client_for
from tests.tenancy_matrix import make_event, make_status_page


@pytest.fixture
def page(personas) -> StatusPage:
    return make_status_page(personas.organization)


@pytest.fixture
def website(page) -> Component:
    return Component.objects.create(page=page, name="Website", position=1)


def api(name: str, *args) -> str:
    return reverse(f"api:{name}", args=args)


def incident_payload(page: StatusPage, **overrides) -> dict:
    return {"status_page": page.public_id, "name": "Checkout is slow", "body": "Looking into it.", **overrides}


# --- Who may do what ----------------------------------------------------------------------------------


def test_member_reads_but_cannot_change(personas, page, website):
    client = api_client_for(personas.member)
    listed = client.get(api("status-page-list")).json()["results"]
    assert [row["id"] for row in listed] == [page.public_id]
    assert listed[0]["organization"] == "maison-lumiere"
    assert "password" not in listed[0]
    components = client.get(api("status-component-list"), {"status_page": page.public_id}).json()["results"]
    assert [row["id"] for row in components] == [website.public_id]

    assert client.patch(api("status-page-detail", page.public_id), {"name": "Mine"}).status_code == 403
    assert client.post(api("status-incident-list"), incident_payload(page)).status_code == 403
    assert client.post(api("status-component-list"), {"status_page": page.public_id, "name": "X"}).status_code == 403
    response = client.patch(api("status-component-detail", website.public_id), {"status": "major_outage"})
    assert response.status_code == 403
    assert response.json()["errors"] == {}
    page.refresh_from_db()
    website.refresh_from_db()
    assert (page.name, website.status) == ("Maison Lumière status", "operational")
    assert not Incident.objects.exists()


def test_owner_posts_incidents_only_when_the_page_allows(personas, page, website):
    owner = api_client_for(personas.owner)
    assert owner.post(api("status-incident-list"), incident_payload(page)).status_code == 403
    assert owner.patch(api("status-component-detail", website.public_id), {"status": "major_outage"}).status_code == 403
    # Owners manage the rest of their page.
    response = owner.patch(api("status-component-detail", website.public_id), {"name": "Shop"})
    assert response.status_code == 200
    assert response.json()["name"] == "Shop"
    # ...but cannot grant themselves the right to post.
    assert owner.patch(api("status-page-detail", page.public_id), {"clients_can_post": True}).status_code == 403

    engineer = api_client_for(personas.engineer)
    assert engineer.patch(api("status-page-detail", page.public_id), {"clients_can_post": True}).status_code == 200
    response = owner.post(api("status-incident-list"), incident_payload(page))
    assert response.status_code == 201
    assert response.json()["incident_updates"][0]["author"] == personas.owner.email


def test_outsider_gets_404_everywhere(personas, page, website):
    incident = services.incident_create(page=page, by=personas.engineer, name="Down", body="Down.")
    client = api_client_for(personas.outsider)
    assert client.get(api("status-page-detail", page.public_id)).status_code == 404
    assert (
        client.post(api("status-incident-updates", incident.public_id), {"status": "resolved", "body": "x"}).status_code
        == 404
    )
    assert client.post(api("status-incident-publish", incident.public_id)).status_code == 404
    assert client.get(api("status-incident-list")).json()["results"] == []
    response = client.post(api("status-incident-list"), incident_payload(page))
    assert response.status_code == 400
    assert "status_page" in response.json()["errors"]


def test_anonymous_is_refused(db):
    assert api_client_for(None).get(api("status-page-list")).status_code == 401


# --- Pages ---------------------------------------------------------------------------------------------


def test_pages_are_created_with_field_errors_and_a_password_never_returned(personas):
    owner = api_client_for(personas.owner)
    payload = {"organization": "maison-lumiere", "name": "Status", "slug": "lumiere", "visibility": "password"}
    response = owner.post(api("status-page-list"), payload)
    assert response.status_code == 400
    assert "password" in response.json()["errors"]

    response = owner.post(
        api("status-page-list"),
        {
            **payload,
            "password": "open-sesame-42",
            "custom_domain": "Status.Lumiere.Example",
            "accent_colour": "#111111",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_password"] is True
    assert body["custom_domain"] == "status.lumiere.example"
    assert "password" not in body
    assert "open-sesame" not in response.content.decode()
    page = StatusPage.objects.get(public_id=body["id"])
    assert page.check_password("open-sesame-42")
    assert page.audit.get().actor == personas.owner

    bad = owner.post(
        api("status-page-list"), {**payload, "slug": "lumiere", "accent_colour": "red", "time_zone": "Mars"}
    )
    assert bad.status_code == 400
    assert {"slug", "accent_colour"} <= set(bad.json()["errors"])
    assert (
        owner.post(
            api("status-page-list"),
            {**payload, "slug": "self-granted", "password": "open-sesame-42", "clients_can_post": True},
        ).status_code
        == 403
    )


def test_only_engineers_create_the_provider_wide_page(personas):
    payload = {"organization": None, "name": "Primetime", "slug": "primetime"}
    assert api_client_for(personas.owner).post(api("status-page-list"), payload).status_code == 403
    response = api_client_for(personas.engineer).post(api("status-page-list"), payload)
    assert response.status_code == 201
    assert response.json()["organization"] is None
    provider = response.json()["id"]
    listed = api_client_for(personas.owner).get(api("status-page-list")).json()["results"]
    assert provider not in {row["id"] for row in listed}


# --- Components and groups -------------------------------------------------------------------------------


def test_components_and_groups(personas, page):
    client = api_client_for(personas.owner)
    group = client.post(api("status-component-group-list"), {"status_page": page.public_id, "name": "Shop"})
    assert group.status_code == 201
    group_id = group.json()["id"]
    response = client.post(
        api("status-component-list"),
        {"status_page": page.public_id, "name": "Checkout", "group": group_id, "position": 2},
    )
    assert response.status_code == 201, response.json()
    component = response.json()
    assert component["group"] == group_id
    assert component["status"] == "operational"
    assert client.get(api("status-component-group-detail", group_id)).json()["components"] == [component["id"]]

    ssrf = client.post(
        api("status-component-list"),
        {"status_page": page.public_id, "name": "Metadata", "probe_url": "http://169.254.169.254/latest/"},
    )
    assert ssrf.status_code == 400
    assert "probe_url" in ssrf.json()["errors"]

    other_page_group = services.group_save(
        page=make_status_page(personas.other_organization), by=personas.engineer, name="Foreign"
    )
    response = client.patch(api("status-component-detail", component["id"]), {"group": other_page_group.public_id})
    assert response.status_code == 400
    assert "group" in response.json()["errors"]

    assert client.delete(api("status-component-group-detail", group_id)).status_code == 204
    assert Component.objects.get(public_id=component["id"]).group is None
    assert client.delete(api("status-component-detail", component["id"])).status_code == 204
    assert not page.components.exists()


def test_component_status_change_is_audited(personas, page, website):
    client = api_client_for(personas.engineer)
    response = client.patch(api("status-component-detail", website.public_id), {"status": "degraded_performance"})
    assert response.status_code == 200
    assert response.json()["status"] == "degraded_performance"
    entry = page.audit.get(action="component status")
    assert (entry.actor, entry.changes["old"], entry.changes["new"]) == (
        personas.engineer,
        "operational",
        "degraded_performance",
    )
    bad = client.patch(api("status-component-detail", website.public_id), {"status": "on_fire"})
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


# --- Incidents -------------------------------------------------------------------------------------------


def test_open_update_resolve_postmortem(personas, page, website):
    client = api_client_for(personas.engineer)
    response = client.post(
        api("status-incident-list"),
        incident_payload(page, impact="major", components=[{"id": website.public_id, "status": "major_outage"}]),
    )
    assert response.status_code == 201, response.json()
    incident = response.json()
    assert incident["status"] == "investigating"
    assert incident["components"] == [website.public_id]
    assert incident["public_url"].endswith(f"/status/{page.slug}/incidents/{incident['id']}/")
    website.refresh_from_db()
    assert website.status == "major_outage"

    updates = api("status-incident-updates", incident["id"])
    response = client.post(updates, {"status": "monitoring", "body": "A fix is out."})
    assert response.status_code == 201
    assert response.json()["monitoring_at"] is not None
    response = client.post(updates, {"status": "resolved", "body": "All good."})
    body = response.json()
    assert body["status"] == "resolved"
    assert [update["status"] for update in body["incident_updates"]] == ["resolved", "monitoring", "investigating"]
    assert body["incident_updates"][0]["affected_components"] == [
        {"code": website.public_id, "name": "Website", "old_status": "major_outage", "new_status": "operational"}
    ]
    website.refresh_from_db()
    assert website.status == "operational"

    postmortem = api("status-incident-postmortem", incident["id"])
    response = client.post(postmortem, {"postmortem_body": "A *full* disk."})
    assert response.status_code == 200
    assert response.json()["status"] == "postmortem"
    conflict = client.post(updates, {"status": "investigating", "body": "Again?"})
    assert conflict.status_code == 409
    assert conflict.json()["allowed_next_statuses"] == []


def test_postmortem_before_resolution_is_a_conflict(personas, page):
    client = api_client_for(personas.engineer)
    incident = client.post(api("status-incident-list"), incident_payload(page)).json()
    response = client.post(api("status-incident-postmortem", incident["id"]), {"postmortem_body": "Too early."})
    assert response.status_code == 409
    assert response.json()["allowed_next_statuses"] == ["resolved"]
    response = client.post(api("status-incident-updates", incident["id"]), {"status": "postmortem", "body": "x"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_incident_errors_name_the_field(personas, page, website):
    client = api_client_for(personas.engineer)
    response = client.post(api("status-incident-list"), {"status_page": page.public_id, "name": "", "impact": "huge"})
    assert response.status_code == 400
    assert {"name", "body", "impact"} <= set(response.json()["errors"])
    foreign = Component.objects.create(page=make_status_page(personas.other_organization), name="Foreign")
    response = client.post(
        api("status-incident-list"),
        incident_payload(page, components=[{"id": foreign.public_id, "status": "major_outage"}]),
    )
    assert response.status_code == 400
    assert "components" in response.json()["errors"]
    response = client.post(api("status-incident-list"), incident_payload(page, status="completed"))
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = client.post(api("status-incident-list"), incident_payload(page, started_at=future))
    assert response.status_code == 400
    assert "started_at" in response.json()["errors"]
    foreign.refresh_from_db()
    assert foreign.status == "operational"
    assert not Incident.objects.exists()


def test_backfilled_incident(personas, page, website):
    started = timezone.now() - timedelta(days=2)
    response = api_client_for(personas.engineer).post(
        api("status-incident-list"),
        incident_payload(
            page,
            status="resolved",
            started_at=started.isoformat(),
            components=[{"id": website.public_id, "status": "major_outage"}],
        ),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["resolved_at"] == body["started_at"]
    assert body["incident_updates"][0]["deliver_notifications"] is False
    incident = Incident.objects.get()
    assert abs(incident.started_at - started) < timedelta(seconds=1)
    website.refresh_from_db()
    assert website.status == "operational"


def test_draft_is_published_once(personas, page):
    client = api_client_for(personas.engineer)
    draft = client.post(api("status-incident-list"), incident_payload(page, draft=True)).json()
    assert draft["is_draft"] is True
    assert draft["public_url"] is None
    drafts = client.get(api("status-incident-list"), {"is_draft": "true"}).json()["results"]
    assert [row["id"] for row in drafts] == [draft["id"]]

    response = client.post(api("status-incident-publish", draft["id"]))
    assert response.status_code == 200
    assert response.json()["is_draft"] is False
    again = client.post(api("status-incident-publish", draft["id"]))
    assert again.status_code == 409
    assert "already published" in again.json()["detail"]


# --- Maintenance ------------------------------------------------------------------------------------------


def maintenance_payload(page: StatusPage, start, end, **overrides) -> dict:
    return {
        "status_page": page.public_id,
        "name": "Database upgrade",
        "body": "Read-only for a few minutes.",
        "scheduled_for": start.isoformat(),
        "scheduled_until": end.isoformat(),
        **overrides,
    }


def test_maintenance_lifecycle(personas, page, website):
    client = api_client_for(personas.engineer)
    start = timezone.now() + timedelta(days=1)
    response = client.post(
        api("status-maintenance-list"),
        maintenance_payload(page, start, start + timedelta(hours=1), components=[website.public_id]),
    )
    assert response.status_code == 201, response.json()
    maintenance = response.json()
    assert (maintenance["status"], maintenance["components"]) == ("scheduled", [website.public_id])
    # Incidents and maintenance are apart.
    assert client.get(api("status-incident-detail", maintenance["id"])).status_code == 404

    updates = api("status-maintenance-updates", maintenance["id"])
    assert client.post(updates, {"status": "in_progress", "body": "Started."}).status_code == 201
    website.refresh_from_db()
    assert website.status == "under_maintenance"
    assert client.post(updates, {"status": "completed", "body": "Done."}).status_code == 201
    website.refresh_from_db()
    assert website.status == "operational"
    back = client.post(updates, {"status": "in_progress", "body": "Again."})
    assert back.status_code == 409
    wrong = api_client_for(personas.engineer).post(
        api("status-maintenance-list"), maintenance_payload(page, start, start + timedelta(hours=1))
    )
    response = client.post(api("status-maintenance-updates", wrong.json()["id"]), {"status": "resolved", "body": "x"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_maintenance_errors_name_the_field(personas, page, stack):
    client = api_client_for(personas.engineer)
    now = timezone.now()
    cases = [
        (maintenance_payload(page, now + timedelta(hours=2), now + timedelta(hours=1)), "scheduled_until"),
        (maintenance_payload(page, now - timedelta(hours=2), now - timedelta(hours=1)), "scheduled_until"),
        (maintenance_payload(page, now, now + timedelta(days=8)), "scheduled_until"),
        (maintenance_payload(page, now, now + timedelta(hours=1), scheduled_for="tomorrow"), "scheduled_for"),
        (maintenance_payload(page, now, now + timedelta(hours=1), components=["nosuchcompon"]), "components"),
        (
            maintenance_payload(
                page, now, now + timedelta(hours=1), media_event=make_event(personas.other_organization).pk
            ),
            "media_event",
        ),
    ]
    for payload, field in cases:
        response = client.post(api("status-maintenance-list"), payload)
        assert response.status_code == 400, field
        assert field in response.json()["errors"], (field, response.json())
    assert not Incident.objects.exists()

    event = make_event(personas.organization, stack=stack)
    response = client.post(
        api("status-maintenance-list"), maintenance_payload(page, event.air_start, event.air_end, media_event=event.pk)
    )
    assert response.status_code == 201
    assert response.json()["media_event"] == event.pk


def test_owner_schedules_maintenance_only_when_the_page_allows(personas, page):
    start = timezone.now() + timedelta(days=1)
    payload = maintenance_payload(page, start, start + timedelta(hours=1))
    owner = api_client_for(personas.owner)
    assert owner.post(api("status-maintenance-list"), payload).status_code == 403
    services.page_update(page=page, by=personas.engineer, clients_can_post=True)
    assert owner.post(api("status-maintenance-list"), payload).status_code == 201
