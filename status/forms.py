"""Forms of the status page screens: they parse and check input; status/services.py decides and writes."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import MediaEvent
from status.models import (
    INCIDENT_FLOW,
    MAINTENANCE_FLOW,
    Component,
    ComponentGroup,
    ComponentStatus,
    Incident,
    StatusPage,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The publisher inlines the logo in the page (status/publish.py): these formats, up to this size.
LOGO_MAX_BYTES = 256 * 1024
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}
PASSWORD_MIN_LENGTH = 8
OPEN_STATUSES = INCIDENT_FLOW[:4]

PAGE_FIELDS = [
    "name",
    "slug",
    "custom_domain",
    "logo",
    "accent_colour",
    "time_zone",
    "language",
    "visibility",
    "clients_can_post",
    "probe_failures_to_degrade",
    "probe_successes_to_recover",
    "probes_open_draft_incidents",
]


class StatusPageForm(forms.ModelForm):
    """A page's settings. The password is never shown back; leaving it empty keeps the current one."""

    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        min_length=PASSWORD_MIN_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("For a page private with a password. Leave empty to keep the current password."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = StatusPage
        fields = PAGE_FIELDS
        widgets = {
            "accent_colour": forms.TextInput(attrs={"type": "color"}),
            "logo": forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        }
        labels = {"slug": _("Address"), "accent_colour": _("Accent colour")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = _(
            "The page answers at /status/ followed by this address. Lower-case letters, digits, dashes."
        )
        # Granting clients the right to post is the provider's call, not the client's.
        if not user.is_engineer:
            self.fields["clients_can_post"].disabled = True
            self.fields["clients_can_post"].help_text = _("Only a provider engineer changes this.")

    def clean_custom_domain(self) -> str | None:
        value = (self.cleaned_data.get("custom_domain") or "").strip().lower().rstrip(".")
        return value or None

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if "logo" not in self.files:
            return logo
        if logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(_("Keep the logo under 256 KB."))
        image = getattr(logo, "image", None)
        if image is None or image.format not in LOGO_FORMATS:
            raise forms.ValidationError(_("Give a PNG, JPEG or WebP image."))
        return logo

    def service_fields(self) -> dict:
        """Return the changed settings for page_create/page_update (the logo only when a new one came)."""
        fields = {name: self.cleaned_data[name] for name in PAGE_FIELDS if name in self.cleaned_data}
        if self.cleaned_data.get("remove_logo"):
            fields["logo"] = ""
        elif "logo" not in self.files:
            fields.pop("logo", None)
        if self.fields["clients_can_post"].disabled:
            fields.pop("clients_can_post", None)
        return fields


class DefaultsMixin:
    """Number fields left empty take the model's default instead of failing."""

    optional_with_default: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.optional_with_default:
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in self.optional_with_default:
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = self._meta.model._meta.get_field(name).default
        return cleaned


class ComponentGroupForm(DefaultsMixin, forms.ModelForm):
    optional_with_default = ("position",)

    class Meta:
        model = ComponentGroup
        fields = ["name", "description", "position"]
        help_texts = {"position": _("Groups show in increasing position.")}


class ComponentForm(DefaultsMixin, forms.ModelForm):
    optional_with_default = ("position", "probe_interval_seconds")
    probe_url = forms.URLField(
        label=_("URL to probe"),
        required=False,
        max_length=2048,
        assume_scheme="https",
        help_text=_("Optional. A public https address checked regularly; the component follows its answers."),
    )

    class Meta:
        model = Component
        fields = [
            "name",
            "description",
            "group",
            "position",
            "only_show_if_degraded",
            "showcase",
            "start_date",
            "probe_url",
            "probe_interval_seconds",
            "stack",
        ]
        widgets = {"start_date": DATE_WIDGET}
        labels = {"stack": _("Linked stack"), "group": _("Group")}
        help_texts = {
            "position": _("Components show in increasing position within their group."),
            "start_date": _("Uptime is counted from this day. Empty: from when the component was added."),
            "stack": _("Optional: the stack this component stands for."),
        }

    def __init__(self, *args, page: StatusPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = page.groups.order_by("position", "pk")
        self.fields["group"].empty_label = _("No group")
        if page.organization_id is None:
            del self.fields["stack"]
        else:
            self.fields["stack"].queryset = page.organization.stacks.order_by("name")
            self.fields["stack"].empty_label = _("No stack")

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


def component_field_name(component: Component) -> str:
    return f"component_{component.pk}"


class ComponentStatusesMixin:
    """One select per component of the page: its new status, or no change."""

    empty_choice_label = _("Not affected")

    def add_component_fields(self, components, *, initial: dict[int, str] | None = None) -> None:
        self.status_components = list(components)
        choices = [("", self.empty_choice_label), *ComponentStatus.choices]
        for component in self.status_components:
            label = f"{component.group.name} · {component.name}" if component.group_id else component.name
            self.fields[component_field_name(component)] = forms.ChoiceField(
                label=label, choices=choices, required=False, initial=(initial or {}).get(component.pk, "")
            )

    def component_fields(self):
        return [self[component_field_name(component)] for component in self.status_components]

    def component_statuses(self) -> dict[Component, str]:
        statuses = {}
        for component in self.status_components:
            value = self.cleaned_data.get(component_field_name(component))
            if value:
                statuses[component] = value
        return statuses


class IncidentForm(ComponentStatusesMixin, forms.Form):
    """Open an incident, or backfill a past one with its start time."""

    name = forms.CharField(label=_("Incident name"), max_length=200, help_text=_("e.g. “Checkout is slow”."))
    status = forms.ChoiceField(
        label=_("Status"), choices=[(value, Incident.Status(value).label) for value in OPEN_STATUSES]
    )
    impact = forms.ChoiceField(
        label=_("Impact"),
        choices=[(value, Incident.Impact(value).label) for value in ("none", "minor", "major", "critical")],
        initial=Incident.Impact.MINOR,
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown: **bold**, _italic_, [links](https://example.com), lists. Shown on the public page."),
    )
    deliver_notifications = forms.BooleanField(label=_("Notify subscribers"), required=False, initial=True)
    started_at = forms.DateTimeField(
        label=_("Started at"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("Leave empty for now. Give a past time to backfill an incident that already happened."),
    )

    def __init__(self, *args, page: StatusPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_component_fields(page.components.select_related("group").order_by("group__position", "position"))


class IncidentUpdateForm(ComponentStatusesMixin, forms.Form):
    """Post an update on an incident or a maintenance: a status, a message, components' new statuses."""

    status = forms.ChoiceField(label=_("Status"))
    body = forms.CharField(
        label=_("Message"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Markdown. Say what changed and what happens next."),
    )
    deliver_notifications = forms.BooleanField(label=_("Notify subscribers"), required=False, initial=True)

    empty_choice_label = _("No change")

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        if incident.is_maintenance:
            current = incident.status if incident.status in MAINTENANCE_FLOW else MAINTENANCE_FLOW[0]
            values = MAINTENANCE_FLOW[MAINTENANCE_FLOW.index(current) :]
        else:
            values = OPEN_STATUSES
        self.fields["status"].choices = [(value, Incident.Status(value).label) for value in values]
        self.fields["status"].initial = incident.status if incident.status in values else values[0]
        self.add_component_fields(
            incident.page.components.select_related("group").order_by("group__position", "position")
        )


class PostmortemForm(forms.Form):
    postmortem_body = forms.CharField(
        label=_("Post-mortem"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Markdown. What happened, why, and what changes so it does not happen again."),
    )


class MaintenanceForm(forms.Form):
    """Schedule a maintenance window, or announce a booked media event."""

    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("e.g. “Database upgrade”."))
    scheduled_for = forms.DateTimeField(label=_("From"), widget=DATETIME_WIDGET)
    scheduled_until = forms.DateTimeField(label=_("Until"), widget=DATETIME_WIDGET)
    components = forms.ModelMultipleChoiceField(
        label=_("Affected components"),
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They show “under maintenance” while the window is in progress."),
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Markdown. What is done, and what visitors may notice."),
    )
    auto_transition = forms.BooleanField(
        label=_("Start and complete on time"),
        required=False,
        initial=True,
        help_text=_("The window starts and completes by itself; otherwise post the updates yourself."),
    )
    deliver_notifications = forms.BooleanField(
        label=_("Notify subscribers"),
        required=False,
        initial=True,
        help_text=_("Now, and with a reminder an hour before the start."),
    )
    media_event = forms.ModelChoiceField(
        label=_("Announce a media event"),
        queryset=MediaEvent.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Optional: show a booked broadcast as an announcement."),
    )

    def __init__(self, *args, page: StatusPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = page.components.select_related("group").order_by(
            "group__position", "position"
        )
        if page.organization_id is None:
            del self.fields["media_event"]
        else:
            self.fields["media_event"].queryset = (
                MediaEvent.objects.in_organization(page.organization)
                .filter(air_end__gte=timezone.now())
                .exclude(status=MediaEvent.Status.CANCELLED)
                .order_by("air_start")
            )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("scheduled_for"), cleaned.get("scheduled_until")
        if start and end and end <= start:
            self.add_error("scheduled_until", _("The window must end after it starts."))
        return cleaned


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ComponentStatus.choices)
