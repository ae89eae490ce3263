"""Status page screens: the list, creation, overview, settings, preview, subscribers and audit log."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView

from portal.forms import add_service_errors
from status import services
from status.forms import StatusPageForm
from status.models import Incident, StatusPage, Subscriber
from status.views.manage_base import ManageMixin

UNRESOLVED = ["investigating", "identified", "monitoring"]
MAINTENANCE_OPEN = ["scheduled", "in_progress", "verifying"]


def with_shown_changes(entries):
    """Give each audit entry its changes as (field, "before → after") pairs for display."""
    for entry in entries:
        entry.shown_changes = [
            (field, " → ".join(str(part) for part in value) if isinstance(value, list) else str(value))
            for field, value in (entry.changes or {}).items()
        ]
    return entries


class PageListView(ManageMixin, ListView):
    """An organization's status pages, with what is going on on each."""

    page_required = False
    template_name = "status/manage/page_list.html"
    context_object_name = "status_pages"

    def get_queryset(self):
        return (
            StatusPage.objects.in_organization(self.organization)
            .annotate(
                component_count=Count("components", distinct=True),
                open_count=Count(
                    "incidents",
                    filter=Q(incidents__kind=Incident.Kind.INCIDENT, incidents__status__in=UNRESOLVED),
                    distinct=True,
                ),
            )
            .order_by("name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_create"] = self.may_create_page()
        for status_page in context["status_pages"]:
            status_page.manage_url = self.url("overview", pk=status_page.pk)
        return context


class PageCreateView(ManageMixin, TemplateView):
    page_required = False
    template_name = "status/manage/page_form.html"

    def _check(self):
        if not self.may_create_page():
            raise PermissionDenied

    def _existing_provider_page(self) -> StatusPage | None:
        if self.new_page_organization() is not None:
            return None
        return StatusPage.objects.filter(organization__isnull=True).order_by("pk").first()

    def get(self, request, *args, **kwargs):
        self._check()
        if self._existing_provider_page():
            return redirect(self.url("overview"))
        initial = {}
        if self.organization is not None:
            initial = {"name": self.organization.name, "slug": self.organization.slug, "time_zone": "Europe/Paris"}
        form = StatusPageForm(initial=initial, user=request.user)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self._check()
        if self._existing_provider_page():
            return redirect(self.url("overview"))
        form = StatusPageForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self.render_invalid(form=form)
        fields = form.service_fields()
        logo = fields.pop("logo", None)
        try:
            with transaction.atomic():
                page = services.page_create(
                    organization=self.new_page_organization(),
                    by=request.user,
                    password=form.cleaned_data["password"],
                    **fields,
                )
                if logo:
                    services.page_update(page=page, by=request.user, logo=logo)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_invalid(form=form)
        messages.success(request, _("Status page “%(name)s” created. Add its components next.") % {"name": page.name})
        self.page = page
        return redirect(self.url("components"))


class PageOverviewView(ManageMixin, TemplateView):
    """One page at a glance: components, open incidents, maintenance, subscribers, latest changes."""

    template_name = "status/manage/page_overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = self.page
        incidents = page.incidents.select_related("page")
        open_incidents = list(
            incidents.filter(kind=Incident.Kind.INCIDENT)
            .filter(Q(is_draft=True) | Q(status__in=UNRESOLVED))
            .order_by("-is_draft", "-started_at")
        )
        maintenances = list(
            incidents.filter(kind=Incident.Kind.MAINTENANCE, status__in=MAINTENANCE_OPEN).order_by("scheduled_for")
        )
        for incident in open_incidents:
            incident.manage_url = self.url("incident-detail", incident=incident.pk)
        for maintenance in maintenances:
            maintenance.manage_url = self.url("maintenance-detail", incident=maintenance.pk)
        context.update(
            components=list(page.components.select_related("group").order_by("group__position", "position", "pk")),
            open_incidents=open_incidents,
            maintenances=maintenances,
            active_subscribers=page.subscribers.filter(
                confirmed_at__isnull=False, unsubscribed_at__isnull=True
            ).count(),
            recent_audit=with_shown_changes(list(page.audit.select_related("actor")[:8])),
        )
        return context


class PageSettingsView(ManageMixin, TemplateView):
    template_name = "status/manage/page_form.html"

    def _form(self, data=None, files=None):
        # Edit a copy, so a refused change does not leak into the rest of the screen.
        return StatusPageForm(data, files, instance=StatusPage.objects.get(pk=self.page.pk), user=self.request.user)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self._form()))

    def post(self, request, *args, **kwargs):
        self.require_manage()
        form = self._form(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_invalid(form=form)
        try:
            services.page_update(
                page=self.page, by=request.user, password=form.cleaned_data["password"], **form.service_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error)
            self.page.refresh_from_db()
            return self.render_invalid(form=form)
        messages.success(request, _("Settings saved; the public page follows in a few seconds."))
        return redirect(self.url("settings"))


class PagePreviewView(ManageMixin, TemplateView):
    """The public page as it would be published now, drafts left out, in the chosen language."""

    template_name = "status/manage/preview_unavailable.html"

    def get(self, request, *args, **kwargs):
        language = request.GET.get("lang") or self.page.language
        if language not in StatusPage.Language.values:
            language = self.page.language
        try:
            from status.public_context import page_context
            from status.publish import Renderer
        except ImportError:
            return self.render_to_response(self.get_context_data(), status=503)
        context = page_context(self.page, language=language, preview=True)
        public_root = reverse("status-page", kwargs={"slug": self.page.slug})
        snapshot = Renderer(self.page, published_at=timezone.now().timestamp()).html(
            "status/public/page.html", context, language=language, root=public_root
        )
        response = HttpResponse(snapshot.body, content_type=snapshot.content_type)
        for header, value in snapshot.headers.items():
            response[header] = value
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        return response


class SubscribersView(ManageMixin, ListView):
    """Who follows the page. Read-only; webhook secrets and addresses' paths are never shown."""

    template_name = "status/manage/subscribers.html"
    context_object_name = "subscribers"
    paginate_by = 50

    def get_queryset(self):
        return self.page.subscribers.annotate(component_count=Count("components")).order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        active = Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
        context["counts"] = self.page.subscribers.aggregate(
            total=Count("pk"),
            active=Count("pk", filter=active),
            pending=Count("pk", filter=Q(confirmed_at__isnull=True, unsubscribed_at__isnull=True)),
            unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
            email=Count("pk", filter=active & Q(channel=Subscriber.Channel.EMAIL)),
            webhook=Count("pk", filter=active & Q(channel=Subscriber.Channel.WEBHOOK)),
        )
        for subscriber in context["subscribers"]:
            # A webhook address can carry a token in its path or query: show its host only.
            subscriber.shown_endpoint = urlsplit(subscriber.endpoint).hostname or "" if subscriber.endpoint else ""
        return context


class AuditView(ManageMixin, ListView):
    """Every change to the page: who, when, what."""

    template_name = "status/manage/audit.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self):
        return self.page.audit.select_related("actor").order_by("-at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        with_shown_changes(context["entries"])
        return context
