"""Status page changes: every one checked, audited, and followed by a re-publish of the page's snapshots.

Who may do what: engineers everything; an organization's owners manage their own page's settings and
components, and post incidents and maintenance when the page lets clients post.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from portal.exceptions import Conflict
from status import markdown
from status.models import (
    INCIDENT_FLOW,
    MAINTENANCE_FLOW,
    UNRESOLVED_STATUSES,
    Component,
    ComponentGroup,
    ComponentStatus,
    Incident,
    IncidentUpdate,
    StatusAuditEntry,
    StatusPage,
)
from status.uptime import record_interval

MAINTENANCE_REMINDER = timedelta(minutes=60)
ANNOUNCEMENT_LEAD = timedelta(minutes=45)
ANNOUNCEMENT_TAIL = timedelta(hours=2)


# --- Who may do what -----------------------------------------------------------


def can_manage(page: StatusPage, user: User | None) -> bool:
    """Engineers, and owners of the page's organization (the provider-wide page is engineers' only)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_engineer:
        return True
    return page.organization is not None and page.organization.role_of(user) == "owner"


def can_post(page: StatusPage, user: User | None) -> bool:
    """Engineers post incidents and maintenance; owners too when the page lets clients post."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_engineer or (page.clients_can_post and can_manage(page, user))


def _require_manage(page: StatusPage, user: User | None) -> None:
    if not can_manage(page, user):
        raise PermissionDenied(_("Only engineers and the organization's owners change this status page."))


def _require_post(page: StatusPage, user: User | None) -> None:
    if not can_post(page, user):
        raise PermissionDenied(_("Only engineers post on this status page (owners too when the page allows it)."))


def audit(page: StatusPage, actor: User | None, action: str, subject: str = "", **changes) -> None:
    StatusAuditEntry.objects.create(
        page=page, actor=actor if actor and actor.is_authenticated else None, action=action, subject=subject[:255],
        changes=changes,
    )  # fmt: skip


def _republish(page: StatusPage) -> None:
    from status.publish import request_publish

    page_id = page.pk
    transaction.on_commit(lambda: request_publish(page_id))


def _notify(update: IncidentUpdate) -> None:
    if not update.deliver_notifications or update.incident.is_draft:
        return
    from status.notify import notify_incident_update

    update_id = update.pk
    transaction.on_commit(lambda: notify_incident_update(update_id))


def _notify_component(component_id: int, old: str, new: str) -> None:
    from status.notify import notify_component_update

    transaction.on_commit(lambda: notify_component_update(component_id, old, new))


# --- Pages, groups, components -------------------------------------------------


def _check_client_posting(by: User, fields: dict, page: StatusPage | None = None) -> None:
    wanted = fields.get("clients_can_post")
    if wanted is not None and not by.is_engineer and (page is None or wanted != page.clients_can_post):
        raise PermissionDenied(_("Only a provider engineer lets the client's owners post."))


def page_create(*, organization: Organization | None, by: User, password: str = "", **fields) -> StatusPage:
    """Create a status page for an organization (owners, engineers) or the provider-wide page (engineers)."""
    _check_client_posting(by, fields)
    if organization is None:
        if not by.is_engineer:
            raise PermissionDenied(_("Only engineers create the provider-wide status page."))
    elif not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only engineers and the organization's owners create its status page."))
    page = StatusPage(organization=organization, **fields)
    if password:
        page.set_password(password)
    _check_password(page)
    page.full_clean()
    with transaction.atomic():
        page.save()
        audit(page, by, "create page", page.name, **{field: str(value) for field, value in fields.items()})
        _republish(page)
    return page


def _check_password(page: StatusPage) -> None:
    if page.visibility == StatusPage.Visibility.PASSWORD and not page.password_hash:
        raise ValidationError({"password": _("Set a password: this page is private with a password.")})


def page_update(*, page: StatusPage, by: User, password: str = "", **fields) -> StatusPage:
    _require_manage(page, by)
    _check_client_posting(by, fields, page)
    before = {field: getattr(page, field) for field in fields}
    for field, value in fields.items():
        setattr(page, field, value)
    if password:
        page.set_password(password)
    _check_password(page)
    page.full_clean()
    with transaction.atomic():
        page.save()
        changed = {field: [str(before[field]), str(value)] for field, value in fields.items() if before[field] != value}
        audit(page, by, "update page", page.name, **changed, **({"password": "changed"} if password else {}))
        _republish(page)
    return page


def group_save(*, page: StatusPage, by: User, group: ComponentGroup | None = None, **fields) -> ComponentGroup:
    _require_manage(page, by)
    group = group or ComponentGroup(page=page)
    for field, value in fields.items():
        setattr(group, field, value)
    group.full_clean()
    with transaction.atomic():
        group.save()
        audit(page, by, "save group", group.name, **{key: str(value) for key, value in fields.items()})
        _republish(page)
    return group


def group_delete(*, group: ComponentGroup, by: User) -> None:
    """Delete a group; its components stay, ungrouped."""
    page = group.page
    _require_manage(page, by)
    with transaction.atomic():
        audit(page, by, "delete group", group.name)
        group.delete()
        _republish(page)


def _check_probe_url(component: Component) -> None:
    if not component.probe_url:
        return
    from portal.netguard import validate_public_url

    try:
        validate_public_url(component.probe_url)
    except ValidationError as error:
        raise ValidationError({"probe_url": error.messages}) from None


def component_save(*, page: StatusPage, by: User, component: Component | None = None, **fields) -> Component:
    """Create or change a component (its status changes through ``component_status_set``)."""
    _require_manage(page, by)
    fields.pop("status", None)
    component = component or Component(page=page)
    for field, value in fields.items():
        setattr(component, field, value)
    if component.group_id and component.group.page_id != page.pk:
        raise ValidationError({"group": _("Choose a group of this page.")})
    if component.stack_id and component.stack.organization_id != page.organization_id:
        raise ValidationError({"stack": _("Choose a stack of this page's organization.")})
    component.full_clean()
    _check_probe_url(component)
    with transaction.atomic():
        if component.probe_url and component.next_probe_at is None:
            component.next_probe_at = timezone.now()
        component.save()
        audit(page, by, "save component", component.name, **{key: str(value) for key, value in fields.items()})
        _republish(page)
    return component


def component_delete(*, component: Component, by: User) -> None:
    page = component.page
    _require_manage(page, by)
    with transaction.atomic():
        audit(page, by, "delete component", component.name)
        component.delete()
        _republish(page)


def component_status_set(
    *, component: Component, status: str, by: User | None, at: datetime | None = None, why: str = ""
) -> tuple[str, str]:
    """Change a component's status now: close its uptime interval, audit, re-publish. Return (old, new).

    ``by`` is None when a probe or the clock acts; a person needs the right to post on the page.
    """
    if by is not None:
        _require_post(component.page, by)
    if status not in ComponentStatus.values:
        raise ValidationError({"status": _("Choose one of: %(values)s.") % {"values": ", ".join(ComponentStatus)}})
    at = at or timezone.now()
    with transaction.atomic():
        locked = Component.objects.select_for_update().select_related("page").get(pk=component.pk)
        old = locked.status
        if old == status:
            return old, status
        record_interval(locked, old, locked.status_since, at)
        Component.objects.filter(pk=locked.pk).update(status=status, status_since=at, updated_at=at)
        audit(locked.page, by, "component status", locked.name, old=old, new=status, why=why)
        _republish(locked.page)
        _notify_component(locked.pk, old, status)
    component.status, component.status_since = status, at
    return old, status


# --- Incidents -------------------------------------------------------------------


def _affected(
    page: StatusPage, component_statuses: dict[Component, str], by: User | None, at: datetime
) -> list[dict[str, str]]:
    affected = []
    for component, new_status in component_statuses.items():
        if component.page_id != page.pk:
            raise ValidationError({"components": _("Choose components of this page.")})
        old, new = component_status_set(component=component, status=new_status, by=by, at=at)
        affected.append({"code": component.public_id, "name": component.name, "old_status": old, "new_status": new})
    return affected


def _planned(page: StatusPage, component: Component, new_status: str) -> dict[str, str]:
    if component.page_id != page.pk:
        raise ValidationError({"components": _("Choose components of this page.")})
    if new_status not in ComponentStatus.values:
        raise ValidationError({"components": _("Choose one of: %(values)s.") % {"values": ", ".join(ComponentStatus)}})
    return {"code": component.public_id, "name": component.name, "old_status": component.status,
            "new_status": new_status}  # fmt: skip


def _clean_text(field: str, value: str, *, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Keep it under %(limit)d characters.") % {"limit": limit}})
    return value


def incident_create(
    *,
    page: StatusPage,
    by: User | None,
    name: str,
    body: str,
    status: str = Incident.Status.INVESTIGATING,
    impact: str = Incident.Impact.MINOR,
    component_statuses: dict[Component, str] | None = None,
    deliver_notifications: bool = True,
    started_at: datetime | None = None,
    draft: bool = False,
) -> Incident:
    """Open an incident with its first update (a backfilled past incident may start resolved, in the past)."""
    if by is not None:
        _require_post(page, by)
    name = _clean_text("name", name, limit=200)
    body = _clean_text("body", body, limit=20_000)
    if status not in INCIDENT_FLOW[:4]:
        raise ValidationError({"status": _("An incident starts as investigating, identified, monitoring or resolved.")})
    if impact not in {"none", "minor", "major", "critical"}:
        raise ValidationError({"impact": _("Choose none, minor, major or critical.")})
    now = timezone.now()
    started_at = started_at or now
    if started_at > now + timedelta(minutes=5):
        raise ValidationError({"started_at": _("An incident cannot start in the future.")})
    backfilled = started_at < now - timedelta(minutes=5)
    with transaction.atomic():
        incident = Incident.objects.create(
            page=page, kind=Incident.Kind.INCIDENT, name=name, status=status, impact=impact, is_draft=draft,
            started_at=started_at, created_at=started_at,
            resolved_at=started_at if status == Incident.Status.RESOLVED else None,
            monitoring_at=started_at if status == Incident.Status.MONITORING else None,
        )  # fmt: skip
        statuses = component_statuses or {}
        incident.components.set(statuses)
        # A backfilled incident tells history; it does not change today's component statuses. A draft keeps
        # the statuses it asks for, applied when it is published.
        if draft:
            affected = [_planned(page, component, new_status) for component, new_status in statuses.items()]
        else:
            affected = [] if backfilled else _affected(page, statuses, by, now)
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, body_html=markdown.render(body), display_at=started_at,
            created_at=started_at, deliver_notifications=deliver_notifications and not backfilled,
            affected_components=affected, author=by,
        )  # fmt: skip
        audit(page, by, "open incident" if not draft else "draft incident", name, status=status, impact=impact)
        if not draft:
            _republish(page)
            _notify(update)
    return incident


def _check_move(incident: Incident, status: str) -> None:
    flow = MAINTENANCE_FLOW if incident.is_maintenance else INCIDENT_FLOW
    if status not in flow:
        raise ValidationError({"status": _("Choose one of: %(values)s.") % {"values": ", ".join(flow)}})
    current = incident.status
    if incident.is_maintenance:
        if flow.index(status) < flow.index(current) or current == "completed":
            raise Conflict(
                _("This maintenance is %(status)s; it cannot go back.") % {"status": incident.get_status_display()},
                allowed_next_statuses=flow[flow.index(current) :] if current != "completed" else [],
            )
        return
    if status == "postmortem" and current not in {"resolved", "postmortem"}:
        raise Conflict(_("Resolve the incident before its post-mortem."), allowed_next_statuses=["resolved"])
    if current == "postmortem" and status != "postmortem":
        raise Conflict(_("The post-mortem is published: the incident is closed."), allowed_next_statuses=[])


def incident_update_post(
    *,
    incident: Incident,
    by: User | None,
    status: str,
    body: str,
    component_statuses: dict[Component, str] | None = None,
    deliver_notifications: bool = True,
) -> IncidentUpdate:
    """Post an update: a new status and message, and the components' new statuses.

    Resolving (or completing a maintenance) sets the incident's components back to operational unless the
    update says otherwise.
    """
    page = incident.page
    if by is not None:
        _require_post(page, by)
    body = _clean_text("body", body, limit=20_000)
    now = timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        _check_move(incident, status)
        statuses = dict(component_statuses or {})
        if status in {"resolved", "completed"}:
            for component in incident.components.all():
                statuses.setdefault(component, ComponentStatus.OPERATIONAL)
        elif incident.is_maintenance and status == "in_progress":
            for component in incident.components.all():
                statuses.setdefault(component, ComponentStatus.UNDER_MAINTENANCE)
        incident.components.add(*statuses)
        affected = [] if incident.is_draft else _affected(page, statuses, by, now)
        incident.status = status
        if status == "monitoring" and not incident.monitoring_at:
            incident.monitoring_at = now
        if status in {"resolved", "completed"} and not incident.resolved_at:
            incident.resolved_at = now
        if status in UNRESOLVED_STATUSES | {"scheduled", "in_progress", "verifying"}:
            incident.resolved_at = None
        incident.save()
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, body_html=markdown.render(body), display_at=now,
            deliver_notifications=deliver_notifications, affected_components=affected, author=by,
        )  # fmt: skip
        audit(page, by, "update incident", incident.name, status=status)
        if not incident.is_draft:
            _republish(page)
            _notify(update)
    return update


def incident_publish(*, incident: Incident, by: User) -> Incident:
    """Publish a draft incident (opened by a probe): its components take their statuses now."""
    _require_post(incident.page, by)
    with transaction.atomic():
        moved = Incident.objects.filter(pk=incident.pk, is_draft=True).update(is_draft=False, updated_at=timezone.now())
        if moved != 1:
            raise Conflict(_("This incident is already published."))
        incident.refresh_from_db()
        first = incident.updates.order_by("display_at", "pk").first()
        if first is not None and first.affected_components:
            # The statuses the draft asked for apply now (a probe's draft usually finds them already set).
            components = {item.public_id: item for item in incident.components.all()}
            wanted = {components[row["code"]]: row["new_status"] for row in first.affected_components
                      if row["code"] in components}  # fmt: skip
            first.affected_components = _affected(incident.page, wanted, by, timezone.now())
            first.save(update_fields=["affected_components", "updated_at"])
        audit(incident.page, by, "publish incident", incident.name)
        _republish(incident.page)
        if first is not None:
            _notify(first)
    return incident


def postmortem_publish(*, incident: Incident, by: User, body: str) -> Incident:
    _require_post(incident.page, by)
    body = _clean_text("postmortem_body", body, limit=100_000)
    if incident.is_maintenance:
        raise Conflict(_("Maintenance has no post-mortem."))
    if incident.status not in {"resolved", "postmortem"}:
        raise Conflict(_("Resolve the incident before its post-mortem."), allowed_next_statuses=["resolved"])
    with transaction.atomic():
        incident.postmortem_body = body
        incident.postmortem_published_at = incident.postmortem_published_at or timezone.now()
        incident.status = Incident.Status.POSTMORTEM
        incident.save()
        audit(incident.page, by, "publish post-mortem", incident.name)
        _republish(incident.page)
    return incident


# --- Scheduled maintenance ---------------------------------------------------------


def maintenance_schedule(
    *,
    page: StatusPage,
    by: User,
    name: str,
    body: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[Component] | None = None,
    auto_transition: bool = True,
    deliver_notifications: bool = True,
    media_event=None,
) -> Incident:
    """Announce a maintenance window (or a booked media event) with its components."""
    _require_post(page, by)
    name = _clean_text("name", name, limit=200)
    body = _clean_text("body", body, limit=20_000)
    if scheduled_until <= scheduled_for:
        raise ValidationError({"scheduled_until": _("The window must end after it starts.")})
    if scheduled_until < timezone.now():
        raise ValidationError({"scheduled_until": _("This window is already over.")})
    if scheduled_until - scheduled_for > timedelta(days=7):
        raise ValidationError({"scheduled_until": _("Keep a maintenance window under 7 days.")})
    for component in components or []:
        if component.page_id != page.pk:
            raise ValidationError({"components": _("Choose components of this page.")})
    if media_event is not None and media_event.organization_id != page.organization_id:
        raise ValidationError({"media_event": _("Choose an event of this page's organization.")})
    with transaction.atomic():
        maintenance = Incident.objects.create(
            page=page, kind=Incident.Kind.MAINTENANCE, name=name, status=Incident.Status.SCHEDULED,
            impact=Incident.Impact.MAINTENANCE, scheduled_for=scheduled_for, scheduled_until=scheduled_until,
            started_at=scheduled_for, auto_transition=auto_transition, media_event=media_event,
        )  # fmt: skip
        maintenance.components.set(components or [])
        update = IncidentUpdate.objects.create(
            incident=maintenance, status="scheduled", body=body, body_html=markdown.render(body),
            deliver_notifications=deliver_notifications, author=by,
        )  # fmt: skip
        audit(page, by, "schedule maintenance", name, scheduled_for=str(scheduled_for), until=str(scheduled_until))
        _republish(page)
        _notify(update)
    return maintenance


def maintenances_advance(*, now: datetime | None = None) -> dict[str, int]:
    """Start and complete the windows that are due, and remind subscribers an hour before (beat, each minute).

    Each move is claimed with a conditional update, so two beats never post it twice.
    """
    now = now or timezone.now()
    counts = {"started": 0, "completed": 0, "reminded": 0}
    windows = Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, auto_transition=True)
    for maintenance in windows.filter(status="scheduled", scheduled_for__lte=now, scheduled_until__gt=now):
        # Fault suite (issue 8, scenario 5): the claim used to be a no-op update (status="scheduled" ->
        # "scheduled") that every racing beat won, and "in_progress" -> "in_progress" is an allowed move, so
        # two beats posted "has begun" twice. Lock the row and re-check it is still scheduled instead.
        with transaction.atomic():
            if not Incident.objects.select_for_update().filter(pk=maintenance.pk, status="scheduled").exists():
                continue  # another beat started it
            try:
                incident_update_post(
                    incident=maintenance, by=None, status="in_progress",
                    body=_("The scheduled maintenance has begun."),
                )  # fmt: skip
            except Conflict:
                continue
        counts["started"] += 1
    for maintenance in windows.filter(status__in=["scheduled", "in_progress", "verifying"], scheduled_until__lte=now):
        try:
            incident_update_post(
                incident=maintenance, by=None, status="completed", body=_("The scheduled maintenance is complete.")
            )
        except Conflict:
            continue
        counts["completed"] += 1
    due = Incident.objects.filter(
        kind=Incident.Kind.MAINTENANCE,
        status="scheduled",
        reminder_sent_at__isnull=True,
        scheduled_for__gt=now,
        scheduled_for__lte=now + MAINTENANCE_REMINDER,
    )
    for maintenance in due:
        if Incident.objects.filter(pk=maintenance.pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now):
            from status.notify import notify_maintenance_reminder

            maintenance_id = maintenance.pk
            transaction.on_commit(lambda maintenance_id=maintenance_id: notify_maintenance_reminder(maintenance_id))
            counts["reminded"] += 1
    return counts


def announcements_follow(event, *, cancelled: bool = False) -> int:
    """Keep a media event's announcements on status pages true: moved with its air window, closed if cancelled.

    An announcement opens 45 minutes before air (when capacity is raised) and lasts two hours past air end
    (the tail), like the ones the portal creates.
    """
    count = 0
    open_statuses = ["scheduled", "in_progress", "verifying"]
    for announcement in Incident.objects.filter(media_event=event, status__in=open_statuses):
        if cancelled:
            incident_update_post(
                incident=announcement, by=None, status="completed",
                body=_("The broadcast was cancelled: nothing to expect."),
            )  # fmt: skip
        elif announcement.status == "scheduled":
            Incident.objects.filter(pk=announcement.pk).update(
                scheduled_for=event.air_start - ANNOUNCEMENT_LEAD,
                scheduled_until=event.air_end + ANNOUNCEMENT_TAIL,
                started_at=event.air_start - ANNOUNCEMENT_LEAD,
                reminder_sent_at=None,
                updated_at=timezone.now(),
            )
            audit(announcement.page, None, "move announcement", announcement.name, air_start=str(event.air_start))
            _republish(announcement.page)
        count += 1
    return count
