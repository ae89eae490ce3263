"""Forms of the live room."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from live.services import NOTE_LIMIT
from status.models import Component, ComponentStatus, Incident

AFFECTED_STATUSES = [
    (value, label) for value, label in ComponentStatus.choices if value not in {"operational", "under_maintenance"}
]


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=NOTE_LIMIT, widget=forms.Textarea(attrs={"rows": 2}))


class IncidentForm(forms.Form):
    name = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("What the public reads"), widget=forms.Textarea(attrs={"rows": 3}))
    impact = forms.ChoiceField(
        label=_("Impact"),
        choices=[(value, label) for value, label in Incident.Impact.choices if value in {"minor", "major", "critical"}],
        initial="major",
    )
    components = forms.ModelMultipleChoiceField(
        label=_("Affected components"),
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    component_status = forms.ChoiceField(
        label=_("Their status"), choices=AFFECTED_STATUSES, initial="degraded_performance"
    )

    def __init__(self, *args, page=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = (
            Component.objects.filter(page=page) if page is not None else Component.objects.none()
        )
