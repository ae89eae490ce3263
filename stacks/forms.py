from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.fields import LinesField
from stacks.models import Stack


class StackForm(forms.ModelForm):
    landing_url = forms.URLField(
        label=_("Landing page"),
        max_length=500,
        assume_scheme="https",
        help_text=Stack._meta.get_field("landing_url").help_text,
    )
    health_url = forms.URLField(
        label=_("API health URL"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=Stack._meta.get_field("health_url").help_text,
    )
    key_urls = LinesField(
        label=_("Key pages"),
        help_text=_("One address per line: the pages visitors will open after the landing page."),
    )

    class Meta:
        model = Stack
        fields = ["name", "landing_url", "key_urls", "health_url", "cdn_hostname", "normal_peak_rps"]
