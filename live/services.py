"""What engineers do in the live room: write a note, declare an incident on the client's status page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from events.models import MediaEvent
from live.models import RoomNote
from status import services as status_services
from status.models import Component, Incident, StatusPage

NOTE_LIMIT = 2000


def _require_engineer(user: User) -> None:
    if not getattr(user, "is_engineer", False):
        raise PermissionDenied(_("Only engineers write in the live room."))


def room_note_post(*, event: MediaEvent, by: User, text: str) -> RoomNote:
    """Append an engineer's note to the room's timeline."""
    _require_engineer(by)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    if len(text) > NOTE_LIMIT:
        raise ValidationError({"text": _("Keep the note under %(limit)s characters.") % {"limit": NOTE_LIMIT}})
    return RoomNote.objects.create(event=event, author=by, kind=RoomNote.Kind.NOTE, text=text)


def room_incident_declare(
    *,
    event: MediaEvent,
    by: User,
    name: str,
    body: str,
    impact: str,
    components: list[Component],
    component_status: str,
) -> Incident:
    """Open an incident on the organization's status page with the affected components, and say so in the room."""
    _require_engineer(by)
    page = StatusPage.objects.filter(organization=event.organization_id).first()
    if page is None:
        raise ValidationError({"components": _("The organization has no status page to declare the incident on.")})
    if any(component.page_id != page.pk for component in components):
        raise ValidationError({"components": _("Choose components of the organization's status page.")})
    with transaction.atomic():
        incident = status_services.incident_create(
            page=page,
            by=by,
            name=name,
            body=body,
            impact=impact,
            component_statuses=dict.fromkeys(components, component_status),
        )
        RoomNote.objects.create(
            event=event,
            author=by,
            kind=RoomNote.Kind.ACTION,
            text=_("Incident declared on the status page: %(name)s (%(impact)s impact)")
            % {"name": incident.name, "impact": incident.get_impact_display()},
        )
    return incident
