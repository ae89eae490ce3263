"""The tenant isolation matrix: one entry per API resource and per organization page.

Every app adds its endpoints here. ``tests/accounts/test_tenant_isolation.py``
runs each entry for an attacker of organization A against organization B's
objects, and fails when a URL pattern of the project has no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiToken, Invitation, Membership, Organization
from events.models import MediaEvent
from stacks.models import Stack


@dataclass(frozen=True)
class ApiResource:
    """A tenant-owned API resource: how to make one of B's objects and what an attack sends."""

    basename: str
    make_foreign: Callable[[Organization], object]
    lookup: Callable[[object], str]
    create_payload: Callable[[Organization], dict] | None = None
    update_payload: dict | None = None
    deletable: bool = True
    # The field that names the tenant-owned parent in a create payload.
    parent_field: str = "organization"


@dataclass(frozen=True)
class OrganizationPage:
    """A page under /o/<org>/; ``make_object`` gives a B object for pages that take a pk."""

    url_name: str
    method: str = "get"
    make_object: Callable[[Organization], object] | None = None
    data: dict = field(default_factory=dict)
    extra_kwargs: dict = field(default_factory=dict)
    object_kwargs: Callable[[object], dict] = lambda obj: {"pk": obj.pk}


def _foreign_membership(organization: Organization) -> Membership:
    from tests.conftest import make_user

    user = make_user(f"someone-{organization.slug}@example.com")
    return Membership.objects.create(user=user, organization=organization, role=Membership.Role.MEMBER)


def _foreign_invitation(organization: Organization) -> Invitation:
    return Invitation.objects.create(
        organization=organization,
        email=f"invitee@{organization.slug}.example",
        role=Membership.Role.MEMBER,
        expires_at=timezone.now() + timedelta(days=7),
    )


def make_stack(organization: Organization, name: str = "Website") -> Stack:
    return Stack.objects.create(
        organization=organization,
        name=name,
        landing_url=f"https://www.{organization.slug}.example/",
        normal_peak_rps=40,
    )


def make_event(organization: Organization, *, days_ahead: int = 10, **fields) -> MediaEvent:
    stack = fields.pop("stack", None) or organization.stacks.first() or make_stack(organization)
    air_start = timezone.now() + timedelta(days=days_ahead)
    values = {
        "title": f"Segment of {organization.name}",
        "air_start": air_start,
        "air_end": air_start + timedelta(minutes=12),
        "expected_audience": 2_000_000,
        "status": MediaEvent.Status.SUBMITTED,
        "landing_urls": [stack.landing_url],
        **fields,
    }
    return MediaEvent.objects.create(organization=organization, stack=stack, **values)


def _event_payload(organization: Organization) -> dict:
    stack = organization.stacks.first() or make_stack(organization)
    start = timezone.now() + timedelta(days=20)
    return {
        "organization": organization.slug,
        "stack": stack.pk,
        "title": "Intrusion",
        "air_start": start.isoformat(),
        "air_end": (start + timedelta(minutes=10)).isoformat(),
        "expected_audience": 1000,
    }


API_RESOURCES = [
    ApiResource(
        basename="organization",
        make_foreign=lambda organization: organization,
        lookup=lambda organization: organization.slug,
        update_payload={"name": "Taken over"},
        deletable=False,
    ),
    ApiResource(
        basename="membership",
        make_foreign=_foreign_membership,
        lookup=lambda membership: str(membership.pk),
        update_payload={"role": "owner"},
    ),
    ApiResource(
        basename="invitation",
        make_foreign=_foreign_invitation,
        lookup=lambda invitation: str(invitation.pk),
        create_payload=lambda organization: {
            "organization": organization.slug,
            "email": "intruder@example.com",
            "role": "owner",
        },
    ),
]

API_RESOURCES += [
    ApiResource(
        basename="stack",
        make_foreign=make_stack,
        lookup=lambda stack: str(stack.pk),
        create_payload=lambda organization: {
            "organization": organization.slug,
            "name": "Intruder",
            "landing_url": "https://intruder.example/",
        },
        update_payload={"name": "Taken over"},
    ),
    ApiResource(
        basename="event",
        make_foreign=make_event,
        lookup=lambda event: str(event.pk),
        create_payload=_event_payload,
        update_payload={"title": "Taken over"},
        deletable=False,
    ),
]


def _readiness_run(organization: Organization):
    from readiness.models import ReadinessRun

    return ReadinessRun.objects.create(event=make_event(organization), total_checks=0)


def _scaling_plan(organization: Organization):
    from scaling.models import ScalingPlan

    return ScalingPlan.objects.create(event=make_event(organization), fingerprint="x")


def _plan_target(organization: Organization):
    from django.utils import timezone

    from scaling.models import PlanTarget

    return PlanTarget.objects.create(
        plan=_scaling_plan(organization),
        kind="rds_instance",
        identifier="arn:aws:rds:eu-west-3:123456789012:db:shop",
        name="shop",
        region="eu-west-3",
        now={"read_replicas": 0},
        target={"read_replicas": 1},
        scale_up_at=timezone.now(),
        needs_separate_approval=True,
    )


API_RESOURCES += [
    ApiResource(
        basename="readiness-run",
        make_foreign=_readiness_run,
        lookup=lambda run: str(run.pk),
        create_payload=lambda organization: {"event": make_event(organization, days_ahead=30).pk},
        deletable=False,
        parent_field="event",
    ),
]

API_RESOURCES += [
    ApiResource(
        basename="scaling-plan",
        make_foreign=_scaling_plan,
        lookup=lambda plan: str(plan.pk),
        create_payload=lambda organization: {"event": make_event(organization, days_ahead=40).pk},
        deletable=False,
        parent_field="event",
    ),
]

# API resources that belong to a user rather than an organization, checked by
# their own tests (tests/api/test_tokens.py): another user's token is a 404.
USER_OWNED_API = {"token": ApiToken}

ORGANIZATION_PAGES = [
    OrganizationPage("organization-dashboard"),
    OrganizationPage("organization-members"),
    OrganizationPage("organization-members", method="post", data={"email": "x@example.com", "role": "owner"}),
    OrganizationPage("organization-settings"),
    OrganizationPage(
        "organization-settings",
        method="post",
        data={"name": "Taken over", "timezone": "Europe/Paris", "contact_email": "x@example.com"},
    ),
    OrganizationPage("membership-role", method="post", make_object=_foreign_membership, data={"role": "owner"}),
    OrganizationPage("membership-remove", method="post", make_object=_foreign_membership),
    OrganizationPage("invitation-revoke", method="post", make_object=_foreign_invitation),
    OrganizationPage("event-list"),
    OrganizationPage("event-create"),
    OrganizationPage("event-create", method="post", data={"event-title": "Intrusion"}),
    OrganizationPage("event-detail", make_object=make_event),
    OrganizationPage("event-update", make_object=make_event),
    OrganizationPage("event-update", method="post", make_object=make_event, data={"event-title": "Taken over"}),
    OrganizationPage("event-assign", method="post", make_object=make_event),
    OrganizationPage(
        "event-transition", method="post", make_object=make_event, data={"reason": "x"}, extra_kwargs={"name": "cancel"}
    ),
    OrganizationPage("readiness-start", method="post", make_object=make_event),
    OrganizationPage(
        "readiness-run", make_object=_readiness_run, object_kwargs=lambda run: {"pk": run.event_id, "run": run.pk}
    ),
    OrganizationPage("scaling-plan-create", method="post", make_object=make_event),
    OrganizationPage(
        "scaling-plan-action",
        method="post",
        make_object=_scaling_plan,
        object_kwargs=lambda plan: {"pk": plan.event_id, "plan": plan.pk, "action": "cancel"},
    ),
    OrganizationPage(
        "scaling-recommendation-approve",
        method="post",
        make_object=_plan_target,
        object_kwargs=lambda target: {"pk": target.plan.event_id, "plan": target.plan_id, "target": target.pk},
        data={"confirm": "yes"},
    ),
    OrganizationPage("stack-list"),
    OrganizationPage("stack-create"),
    OrganizationPage("stack-create", method="post", data={"name": "Intruder", "landing_url": "https://x.example/"}),
    OrganizationPage("stack-update", make_object=make_stack),
    OrganizationPage("stack-update", method="post", make_object=make_stack, data={"name": "Taken over"}),
    OrganizationPage("stack-resources", make_object=make_stack),
    OrganizationPage("stack-resources", method="post", make_object=make_stack, data={"action": "refresh"}),
    OrganizationPage("cloud-account"),
    OrganizationPage(
        "cloud-account",
        method="post",
        data={"role_arn": "arn:aws:iam::123456789012:role/Intruder", "regions": ["eu-west-3"], "tag_key": "x"},
    ),
    OrganizationPage("cloud-template"),
    OrganizationPage(
        "automation-switch", method="post", data={"paused": "yes", "reason": "intrusion", "confirm": "yes"}
    ),
    OrganizationPage("scaling-policy"),
    OrganizationPage("scaling-policy", method="post", data={"safety_factor": "1.0", "max_instances": "1"}),
    OrganizationPage("forecast-settings"),
    OrganizationPage("forecast-settings", method="post", data={"visit_rate": "0.5"}),
]


# --- Status pages (status/views/manage_*.py, status/api.py) ---------------------------------------


def make_status_page(organization: Organization):
    from status.models import StatusPage

    return StatusPage.objects.create(
        organization=organization, name=f"{organization.name} status", slug=f"{organization.slug}-status"
    )


def _status_page_of(organization: Organization):
    from status.models import StatusPage

    return StatusPage.objects.filter(organization=organization).first() or make_status_page(organization)


def make_status_group(organization: Organization):
    from status.models import ComponentGroup

    return ComponentGroup.objects.create(page=_status_page_of(organization), name="Shop")


def make_status_component(organization: Organization):
    from status.models import Component

    return Component.objects.create(page=_status_page_of(organization), name="Website")


def make_status_incident(organization: Organization):
    from status.models import Incident, IncidentUpdate

    incident = Incident.objects.create(page=_status_page_of(organization), name="Checkout is slow", status="resolved")
    IncidentUpdate.objects.create(incident=incident, status="resolved", body="Fixed.", body_html="<p>Fixed.</p>")
    return incident


def make_status_draft(organization: Organization):
    from status.models import Incident

    return Incident.objects.create(
        page=_status_page_of(organization), name="Website degraded", status="investigating", is_draft=True
    )


def make_status_maintenance(organization: Organization):
    from status.models import Incident

    start = timezone.now() + timedelta(days=2)
    return Incident.objects.create(
        page=_status_page_of(organization),
        kind=Incident.Kind.MAINTENANCE,
        name="Database upgrade",
        status="scheduled",
        impact="maintenance",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
        started_at=start,
    )


def _on_page(key: str):
    return lambda obj: {"pk": obj.page_id, key: obj.pk}


API_RESOURCES += [
    ApiResource(
        basename="status-page",
        make_foreign=make_status_page,
        lookup=lambda page: page.public_id,
        create_payload=lambda organization: {"organization": organization.slug, "name": "Intruder", "slug": "intruder"},
        update_payload={"name": "Taken over"},
        deletable=False,
    ),
    ApiResource(
        basename="status-component-group",
        make_foreign=make_status_group,
        lookup=lambda group: group.public_id,
        create_payload=lambda organization: {"status_page": _status_page_of(organization).public_id, "name": "X"},
        update_payload={"name": "Taken over"},
        parent_field="status_page",
    ),
    ApiResource(
        basename="status-component",
        make_foreign=make_status_component,
        lookup=lambda component: component.public_id,
        create_payload=lambda organization: {"status_page": _status_page_of(organization).public_id, "name": "X"},
        update_payload={"status": "major_outage"},
        parent_field="status_page",
    ),
    ApiResource(
        basename="status-incident",
        make_foreign=make_status_incident,
        lookup=lambda incident: incident.public_id,
        create_payload=lambda organization: {
            "status_page": _status_page_of(organization).public_id,
            "name": "Fake outage",
            "body": "Everything is down.",
        },
        deletable=False,
        parent_field="status_page",
    ),
    ApiResource(
        basename="status-maintenance",
        make_foreign=make_status_maintenance,
        lookup=lambda maintenance: maintenance.public_id,
        create_payload=lambda organization: {
            "status_page": _status_page_of(organization).public_id,
            "name": "Fake maintenance",
            "body": "Down for a while.",
            "scheduled_for": (timezone.now() + timedelta(days=1)).isoformat(),
            "scheduled_until": (timezone.now() + timedelta(days=1, hours=1)).isoformat(),
        },
        deletable=False,
        parent_field="status_page",
    ),
]

_NEW_PAGE = {"name": "Taken over", "slug": "taken-over", "time_zone": "Europe/Paris", "language": "en"}
_PAGE_SETTINGS = {**_NEW_PAGE, "accent_colour": "#000000", "visibility": "public"}
_PAGE_SETTINGS.update(probe_failures_to_degrade="3", probe_successes_to_recover="2")

ORGANIZATION_PAGES += [
    OrganizationPage("status-manage-list"),
    OrganizationPage("status-manage-create"),
    OrganizationPage("status-manage-create", method="post", data=_PAGE_SETTINGS),
    OrganizationPage("status-manage-overview", make_object=make_status_page),
    OrganizationPage("status-manage-settings", make_object=make_status_page),
    OrganizationPage("status-manage-settings", method="post", make_object=make_status_page, data=_PAGE_SETTINGS),
    OrganizationPage("status-manage-preview", make_object=make_status_page),
    OrganizationPage("status-manage-components", make_object=make_status_page),
    OrganizationPage(
        "status-manage-component-order",
        method="post",
        make_object=make_status_component,
        object_kwargs=lambda component: {"pk": component.page_id},
        data={"component-1": "5"},
    ),
    OrganizationPage("status-manage-component-create", make_object=make_status_page),
    OrganizationPage(
        "status-manage-component-create", method="post", make_object=make_status_page, data={"name": "Intruder"}
    ),
    OrganizationPage(
        "status-manage-component-update", make_object=make_status_component, object_kwargs=_on_page("component")
    ),
    OrganizationPage(
        "status-manage-component-update",
        method="post",
        make_object=make_status_component,
        object_kwargs=_on_page("component"),
        data={"name": "Taken over", "position": "0", "probe_interval_seconds": "60"},
    ),
    OrganizationPage(
        "status-manage-component-status",
        method="post",
        make_object=make_status_component,
        object_kwargs=_on_page("component"),
        data={"status": "major_outage"},
    ),
    OrganizationPage(
        "status-manage-component-delete",
        method="post",
        make_object=make_status_component,
        object_kwargs=_on_page("component"),
    ),
    OrganizationPage("status-manage-group-create", make_object=make_status_page),
    OrganizationPage(
        "status-manage-group-create", method="post", make_object=make_status_page, data={"name": "X", "position": "0"}
    ),
    OrganizationPage("status-manage-group-update", make_object=make_status_group, object_kwargs=_on_page("group")),
    OrganizationPage(
        "status-manage-group-update",
        method="post",
        make_object=make_status_group,
        object_kwargs=_on_page("group"),
        data={"name": "Taken over", "position": "0"},
    ),
    OrganizationPage(
        "status-manage-group-delete", method="post", make_object=make_status_group, object_kwargs=_on_page("group")
    ),
    OrganizationPage("status-manage-incidents", make_object=make_status_page),
    OrganizationPage("status-manage-incident-create", make_object=make_status_page),
    OrganizationPage(
        "status-manage-incident-create",
        method="post",
        make_object=make_status_page,
        data={"name": "Fake", "status": "investigating", "impact": "major", "body": "Down."},
    ),
    OrganizationPage(
        "status-manage-incident-detail", make_object=make_status_incident, object_kwargs=_on_page("incident")
    ),
    OrganizationPage(
        "status-manage-incident-detail",
        method="post",
        make_object=make_status_incident,
        object_kwargs=_on_page("incident"),
        data={"status": "investigating", "body": "Reopened by an intruder."},
    ),
    OrganizationPage(
        "status-manage-incident-publish",
        method="post",
        make_object=make_status_draft,
        object_kwargs=_on_page("incident"),
    ),
    OrganizationPage(
        "status-manage-incident-postmortem",
        method="post",
        make_object=make_status_incident,
        object_kwargs=_on_page("incident"),
        data={"postmortem_body": "Fake."},
    ),
    OrganizationPage("status-manage-maintenances", make_object=make_status_page),
    OrganizationPage("status-manage-maintenance-create", make_object=make_status_page),
    OrganizationPage(
        "status-manage-maintenance-create",
        method="post",
        make_object=make_status_page,
        data={
            "name": "Fake",
            "body": "Down.",
            "scheduled_for": "2030-01-01T10:00",
            "scheduled_until": "2030-01-01T11:00",
        },
    ),
    OrganizationPage(
        "status-manage-maintenance-detail", make_object=make_status_maintenance, object_kwargs=_on_page("incident")
    ),
    OrganizationPage(
        "status-manage-maintenance-detail",
        method="post",
        make_object=make_status_maintenance,
        object_kwargs=_on_page("incident"),
        data={"status": "in_progress", "body": "Started by an intruder."},
    ),
    OrganizationPage("status-manage-subscribers", make_object=make_status_page),
    OrganizationPage("status-manage-audit", make_object=make_status_page),
]


# --- Post-event reports (reports/views.py) ---------------------------------------------------------


def make_reported_event(organization: Organization) -> MediaEvent:
    """Make a completed event with a published report and an open calibration suggestion."""
    from reports.models import CalibrationSuggestion, EventReport

    event = make_event(organization, days_ahead=-1, status=MediaEvent.Status.COMPLETED)
    EventReport.objects.create(
        event=event, status=EventReport.Status.PUBLISHED, summary="Went well.", published_at=timezone.now()
    )
    CalibrationSuggestion.objects.create(
        organization=organization, event=event, parameter="visit_rate", observed=0.014, assumed=0.02
    )
    return event


def _calibration_of(organization: Organization):
    return make_reported_event(organization).calibration_suggestions.get()


ORGANIZATION_PAGES += [
    OrganizationPage("event-report", make_object=make_reported_event),
    OrganizationPage("event-report-pdf", make_object=make_reported_event),
    OrganizationPage("event-report-generate", method="post", make_object=make_reported_event),
    OrganizationPage("event-report-summary", method="post", make_object=make_reported_event, data={"summary": "x"}),
    OrganizationPage("event-report-publish", method="post", make_object=make_reported_event),
    OrganizationPage(
        "event-report-calibration",
        method="post",
        make_object=_calibration_of,
        object_kwargs=lambda suggestion: {"pk": suggestion.event_id, "suggestion": suggestion.pk, "decision": "accept"},
    ),
]


# --- Runbook executions a client reads (runbooks/urls_client.py) -----------------------------------


def make_runbook_execution(organization: Organization):
    from runbooks.library import starter_library_load
    from runbooks.models import Runbook, RunbookExecution

    starter_library_load()  # tests run without migrations; the data migration loads it elsewhere
    version = Runbook.objects.get(title="On-air watch").current_version
    return RunbookExecution.objects.create(version=version, organization=organization, event=make_event(organization))


ORGANIZATION_PAGES += [
    OrganizationPage("runbook-execution-list"),
    OrganizationPage("runbook-execution-detail", make_object=make_runbook_execution),
]


# --- Live room (live/views.py) ---------------------------------------------------------------------------------------

ORGANIZATION_PAGES += [
    OrganizationPage("live-room", make_object=make_event),
    OrganizationPage("live-room-fragment", make_object=make_event),
    OrganizationPage("live-room-note", method="post", make_object=make_event, data={"text": "Intrusion"}),
    OrganizationPage(
        "live-room-incident",
        method="post",
        make_object=make_event,
        data={"name": "Fake", "body": "Down.", "impact": "major", "component_status": "major_outage"},
    ),
]
