"""Incidents and scheduled maintenance: lists, open or schedule, the timeline with its update form,
publish a draft, the post-mortem. A Markdown preview button renders the message on the server."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from events.models import MediaEvent
from portal.exceptions import Conflict
from portal.forms import add_service_errors
from status import markdown, services
from status.forms import IncidentForm, IncidentUpdateForm, MaintenanceForm, PostmortemForm
from status.models import ComponentStatus, Incident
from status.views.manage_base import ManageMixin

CLOSED = {"postmortem", "completed"}


def _preview(request) -> str | None:
    """Return the sanitized HTML of the message when the preview button was pressed."""
    if "preview" not in request.POST:
        return None
    return markdown.render(request.POST.get("body", ""))


def _status_label(value: str) -> str:
    return ComponentStatus(value).label if value in ComponentStatus.values else value


class IncidentListView(ManageMixin, ListView):
    """Incidents: drafts first (a probe opened them, an engineer publishes), then open ones, then history."""

    template_name = "status/manage/incident_list.html"
    context_object_name = "incidents"
    paginate_by = 25
    kind = Incident.Kind.INCIDENT
    detail_name = "incident-detail"
    order_within_rank = ("-started_at", "-pk")

    def ranks(self) -> list[When]:
        """Drafts first, then what is still open; everything else after."""
        return [
            When(is_draft=True, then=Value(0)),
            When(status__in=["investigating", "identified", "monitoring"], then=Value(1)),
        ]

    def get_queryset(self):
        ranks = self.ranks()
        return (
            self.page.incidents.filter(kind=self.kind)
            .annotate(rank=Case(*ranks, default=Value(len(ranks)), output_field=IntegerField()))
            .order_by("rank", *self.order_within_rank)
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for incident in context["incidents"]:
            incident.manage_url = self.url(self.detail_name, incident=incident.pk)
        return context


class MaintenanceListView(IncidentListView):
    """Scheduled maintenance: open windows first, soonest first; then past ones."""

    template_name = "status/manage/maintenance_list.html"
    kind = Incident.Kind.MAINTENANCE
    detail_name = "maintenance-detail"
    order_within_rank = ("scheduled_for", "-pk")

    def ranks(self) -> list[When]:
        return [When(status__in=["scheduled", "in_progress", "verifying"], then=Value(0))]


class MarkdownFormMixin:
    """Create views whose form has a Markdown message: preview it, or save through a service."""

    def submit(self, form, save):
        """Preview, or validate and call ``save(cleaned_data)``; a service's field errors land on the form."""
        preview = _preview(self.request)
        if preview is not None:
            form.is_valid()
            return self.render_to_response(self.get_context_data(form=form, preview_html=preview))
        if not form.is_valid():
            return self.render_invalid(form=form)
        try:
            return save(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_invalid(form=form)


class IncidentCreateView(MarkdownFormMixin, ManageMixin, TemplateView):
    """Open an incident (or backfill a past one, or keep it as a draft)."""

    template_name = "status/manage/incident_form.html"

    def get(self, request, *args, **kwargs):
        self.require_post()
        return self.render_to_response(self.get_context_data(form=IncidentForm(page=self.page)))

    def post(self, request, *args, **kwargs):
        self.require_post()
        form = IncidentForm(request.POST, page=self.page)
        draft = request.POST.get("action") == "draft"

        def save(data):
            incident = services.incident_create(
                page=self.page,
                by=request.user,
                name=data["name"],
                body=data["body"],
                status=data["status"],
                impact=data["impact"],
                component_statuses=form.component_statuses(),
                deliver_notifications=data["deliver_notifications"],
                started_at=data["started_at"],
                draft=draft,
            )
            if draft:
                messages.success(request, _("Draft saved. It is not public until you publish it."))
            else:
                messages.success(request, _("Incident opened; the public page follows in a few seconds."))
            return redirect(self.url("incident-detail", incident=incident.pk))

        return self.submit(form, save)


class MaintenanceCreateView(MarkdownFormMixin, ManageMixin, TemplateView):
    """Schedule a maintenance window, or announce a booked media event (``?media_event=<id>`` prefills it)."""

    template_name = "status/manage/maintenance_form.html"

    def _initial(self) -> dict:
        if self.page.organization_id is None or not self.request.GET.get("media_event", "").isdigit():
            return {}
        event = (
            MediaEvent.objects.in_organization(self.page.organization)
            .filter(pk=self.request.GET["media_event"])
            .first()
        )
        if event is None:
            return {}
        return {
            "media_event": event.pk,
            "name": _("On air: %(title)s") % {"title": event.title},
            # The window announcements keep when the event moves (status.services.announcements_follow).
            "scheduled_for": event.air_start - services.ANNOUNCEMENT_LEAD,
            "scheduled_until": event.air_end + services.ANNOUNCEMENT_TAIL,
            "body": _("We are on air: many visitors are expected. The site has been prepared for them."),
            "auto_transition": True,
            "deliver_notifications": True,
        }

    def get(self, request, *args, **kwargs):
        self.require_post()
        form = MaintenanceForm(page=self.page, initial=self._initial())
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self.require_post()
        form = MaintenanceForm(request.POST, page=self.page)

        def save(data):
            maintenance = services.maintenance_schedule(
                page=self.page,
                by=request.user,
                name=data["name"],
                body=data["body"],
                scheduled_for=data["scheduled_for"],
                scheduled_until=data["scheduled_until"],
                components=list(data["components"]),
                auto_transition=data["auto_transition"],
                deliver_notifications=data["deliver_notifications"],
                media_event=data.get("media_event"),
            )
            messages.success(request, _("Maintenance scheduled and announced on the public page."))
            return redirect(self.url("maintenance-detail", incident=maintenance.pk))

        return self.submit(form, save)


class IncidentDetailView(ManageMixin, TemplateView):
    """An incident's (or a maintenance's) timeline, with the forms to post an update and the post-mortem."""

    template_name = "status/manage/incident_detail.html"
    kind = Incident.Kind.INCIDENT
    detail_name = "incident-detail"

    def get_incident(self) -> Incident:
        return get_object_or_404(self.page.incidents.filter(kind=self.kind), pk=self.kwargs["incident"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        incident = self.incident
        updates = list(incident.updates.select_related("author").order_by("-display_at", "-pk"))
        for update in updates:
            update.changes = [
                (entry.get("name", ""), _status_label(entry.get("old_status", "")), _status_label(entry["new_status"]))
                for entry in update.affected_components
                if entry.get("new_status")
            ]
        closed = incident.status in CLOSED
        if self.can_post_page and not closed:
            context.setdefault("update_form", IncidentUpdateForm(incident=incident))
        if self.can_post_page and not incident.is_maintenance and incident.status in {"resolved", "postmortem"}:
            context.setdefault("postmortem_form", PostmortemForm(initial={"postmortem_body": incident.postmortem_body}))
        context.update(
            incident=incident,
            updates=updates,
            affected=list(incident.components.order_by("position", "pk")),
            postmortem_html=markdown.render(incident.postmortem_body) if incident.postmortem_body else "",
            public_incident_url=None
            if incident.is_draft
            else reverse("status-incident", kwargs={"slug": self.page.slug, "public_id": incident.public_id}),
            back_url=self.url("maintenances" if incident.is_maintenance else "incidents"),
            post_url=self.url(self.detail_name, incident=incident.pk),
            publish_url=self.url("incident-publish", incident=incident.pk),
            postmortem_url=self.url("incident-postmortem", incident=incident.pk),
        )
        return context

    def get(self, request, *args, **kwargs):
        self.incident = self.get_incident()
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        """Post an update."""
        self.incident = self.get_incident()
        self.require_post()
        form = IncidentUpdateForm(request.POST, incident=self.incident)
        preview = _preview(request)
        if preview is not None:
            form.is_valid()
            return self.render_to_response(self.get_context_data(update_form=form, preview_html=preview))
        if not form.is_valid():
            return self.render_invalid(update_form=form)
        data = form.cleaned_data
        try:
            services.incident_update_post(
                incident=self.incident,
                by=request.user,
                status=data["status"],
                body=data["body"],
                component_statuses=form.component_statuses(),
                deliver_notifications=data["deliver_notifications"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_invalid(update_form=form)
        except Conflict as error:
            form.add_error(None, error.message)
            return self.render_invalid(status=409, update_form=form)
        messages.success(request, _("Update posted."))
        return redirect(self.url(self.detail_name, incident=self.incident.pk))


class MaintenanceDetailView(IncidentDetailView):
    kind = Incident.Kind.MAINTENANCE
    detail_name = "maintenance-detail"


class PostmortemView(IncidentDetailView):
    """Publish (or correct) a resolved incident's post-mortem."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.incident = self.get_incident()
        self.require_post()
        form = PostmortemForm(request.POST)
        if not form.is_valid():
            return self.render_invalid(postmortem_form=form)
        try:
            services.postmortem_publish(
                incident=self.incident, by=request.user, body=form.cleaned_data["postmortem_body"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_invalid(postmortem_form=form)
        except Conflict as error:
            form.add_error(None, error.message)
            return self.render_invalid(status=409, postmortem_form=form)
        messages.success(request, _("Post-mortem published."))
        return redirect(self.url("incident-detail", incident=self.incident.pk))


class IncidentPublishView(ManageMixin, View):
    """Publish a draft incident: it goes public and its components take their statuses."""

    def post(self, request, *args, **kwargs):
        incident = get_object_or_404(self.page.incidents.filter(kind=Incident.Kind.INCIDENT), pk=kwargs["incident"])
        self.require_post()
        try:
            services.incident_publish(incident=incident, by=request.user)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Incident published."))
        return redirect(self.url("incident-detail", incident=incident.pk))
