from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from events.models import ForecastProfile, MediaEvent
from portal.fields import LinesField

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.ModelForm):
    """The booking form: every field explained in plain words."""

    landing_urls = LinesField(
        label=_("Landing pages"),
        help_text=_("One address per line. Leave empty to use the stack's pages. Use https://."),
    )

    class Meta:
        model = MediaEvent
        fields = [
            "title",
            "kind",
            "stack",
            "channel",
            "programme",
            "air_start",
            "air_end",
            "expected_audience",
            "audience_share",
            "url_exposure",
            "landing_urls",
            "notes",
        ]
        widgets = {"air_start": DATETIME_WIDGET, "air_end": DATETIME_WIDGET, "notes": forms.Textarea(attrs={"rows": 4})}
        labels = {
            "title": _("What is it called?"),
            "kind": _("Kind of appearance"),
            "stack": _("Which site will people visit?"),
            "air_start": _("Air time"),
            "air_end": _("End of the segment"),
            "expected_audience": _("Expected audience"),
            "audience_share": _("Audience share (%)"),
        }
        help_texts = {
            "title": _("e.g. “Capital on M6: our founder's interview”."),
            "stack": _("The website or app the broadcast sends people to."),
            "channel": _("e.g. M6, France Inter, Le Monde."),
            "programme": _("e.g. Capital, Envoyé spécial."),
            "air_start": _("When your segment starts, in the organization's time zone. The spike starts here."),
            "air_end": _("When it ends, within 24 hours of the start."),
            "expected_audience": _("How many people watch or listen, as the channel announces it."),
            "audience_share": _("Optional: the channel's audience share for the slot, between 0 and 100."),
            "url_exposure": _("Is the address shown on screen, said aloud, or will people search for you?"),
            "notes": _("Anything the engineers should know: a promotion, a new feature, fragile pages."),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        stacks = organization.stacks.all()
        self.fields["stack"].queryset = stacks
        if self.instance.pk is None and not self.initial.get("stack"):
            # Most clients have one site: pick it rather than offering a blank.
            first = stacks.order_by("name").first()
            if first is not None:
                self.initial["stack"] = first.pk

    def _get_validation_exclusions(self):
        # The booking service checks the air window (and overlaps) and names the
        # field; the model's check constraint on it would only say "__all__".
        return {*super()._get_validation_exclusions(), "air_end"}
        self.fields["expected_audience"].widget.attrs.update(min=1, max=100_000_000, step=1000)


class RebroadcastForm(forms.Form):
    air_start = forms.DateTimeField(label=_("Rebroadcast air time"), required=False, widget=DATETIME_WIDGET)
    expected_audience = forms.IntegerField(
        label=_("Its audience"),
        required=False,
        min_value=1,
        max_value=100_000_000,
        help_text=_(
            "Leave empty to count half the first audience for the first rebroadcast, "
            "a quarter for the second, and so on."
        ),
    )


RebroadcastFormSet = forms.formset_factory(RebroadcastForm, extra=2, max_num=10, validate_max=True)


def rebroadcasts_from(formset) -> list[dict]:
    return [
        {"air_start": form.cleaned_data["air_start"], "expected_audience": form.cleaned_data.get("expected_audience")}
        for form in formset.forms
        if form.cleaned_data.get("air_start")
    ]


class TransitionForm(forms.Form):
    reason = forms.CharField(label=_("Why?"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(forms.Form):
    """The watch crew of an air window: the lead, and optionally a backup."""

    assignee = forms.ModelChoiceField(label=_("Lead engineer"), queryset=None)
    backup = forms.ModelChoiceField(label=_("Backup engineer"), queryset=None, required=False)

    def __init__(self, *args, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = engineers
        self.fields["backup"].queryset = engineers


class ForecastProfileForm(forms.ModelForm):
    class Meta:
        model = ForecastProfile
        fields = list(ForecastProfile.PARAMETER_FIELDS)
