from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.models.users import ENGINEERS_GROUP
from cloud.models import StackResource
from events.models import MediaEvent
from runbooks.models import Phase, RunbookStep


class RunbookForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160)
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    resource_kind = forms.ChoiceField(
        label=_("Resource kind"), choices=[("", _("Any stack")), *StackResource.Kind.choices], required=False
    )
    active = forms.BooleanField(label=_("Suggested on events"), required=False, initial=True)
    intro = forms.CharField(
        label=_("Introduction (Markdown)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class StepForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RunbookStep.Kind.choices)
    title = forms.CharField(label=_("Step"), max_length=200)
    body = forms.CharField(label=_("Details (Markdown)"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    command = forms.CharField(label=_("Command, console link or argument"), max_length=1000, required=False)
    action = forms.ChoiceField(label=_("Action"), choices=[("", "—"), *RunbookStep.Action.choices], required=False)


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True)


class ExecutionStartForm(forms.Form):
    event = forms.ModelChoiceField(label=_("Event"), queryset=MediaEvent.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = (
            MediaEvent.objects.exclude(status=MediaEvent.Status.CANCELLED)
            .select_related("organization")
            .order_by("air_start")
        )
        self.fields["event"].label_from_instance = lambda event: f"{event.organization.name} · {event.title}"


class HandoverForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Hand over to"), queryset=User.objects.none())
    note = forms.CharField(label=_("Note for them"), required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, is_staff=True, groups__name=ENGINEERS_GROUP
        ).order_by("email")
