"""The live room: one page per event, its refreshing fragment, notes and the incident button."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.views.mixins import OrganizationMixin
from events.models import MediaEvent
from live import selectors, services
from live.forms import IncidentForm, NoteForm
from status.models import StatusPage

# How often the room's script fetches its fragment (tests shorten it through the setting).
REFRESH_SECONDS = 15


class RoomMixin(OrganizationMixin):
    def get_event(self) -> MediaEvent:
        # Resolved before any permission check: another organization's event is a 404, never a 403.
        return get_object_or_404(
            MediaEvent.objects.in_organization(self.organization).select_related("stack", "organization"),
            pk=self.kwargs["pk"],
        )


class LiveRoomView(RoomMixin, TemplateView):
    template_name = "live/room.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = self.get_event()
        page = StatusPage.objects.filter(organization=self.organization).first()
        is_engineer = self.request.user.is_engineer
        context.update(
            event=event,
            status_page=page,
            refresh_seconds=getattr(settings, "LIVE_ROOM_REFRESH_SECONDS", REFRESH_SECONDS),
            note_form=NoteForm() if is_engineer else None,
            incident_form=IncidentForm(page=page) if is_engineer and page is not None else None,
            **selectors.live_context(event, now=timezone.now()),
        )
        return context


class LiveRoomFragmentView(RoomMixin, TemplateView):
    """The part of the room that refreshes itself: the page's script swaps it in every few seconds."""

    template_name = "live/_live.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = self.get_event()
        context.update(event=event, **selectors.live_context(event, now=timezone.now()))
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class RoomNoteCreateView(RoomMixin, View):
    def post(self, request, org, pk):
        event = self.get_event()
        if not request.user.is_engineer:
            raise PermissionDenied
        form = NoteForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(form.errors.get("text") or _("Write the note."))
            services.room_note_post(event=event, by=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("live-room", org=self.organization.slug, pk=event.pk)


class IncidentDeclareView(RoomMixin, View):
    def post(self, request, org, pk):
        event = self.get_event()
        if not request.user.is_engineer:
            raise PermissionDenied
        page = StatusPage.objects.filter(organization=self.organization).first()
        form = IncidentForm(request.POST, page=page)
        if not form.is_valid():
            messages.error(request, _("The incident was not declared: %(errors)s") % {"errors": _errors(form)})
            return redirect("live-room", org=self.organization.slug, pk=event.pk)
        try:
            incident = services.room_incident_declare(
                event=event,
                by=request.user,
                name=form.cleaned_data["name"],
                body=form.cleaned_data["body"],
                impact=form.cleaned_data["impact"],
                components=list(form.cleaned_data["components"]),
                component_status=form.cleaned_data["component_status"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Incident “%(name)s” is on the status page.") % {"name": incident.name})
        return redirect("live-room", org=self.organization.slug, pk=event.pk)


def _errors(form) -> str:
    return "; ".join(f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items())
