from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cloud.models import validate_role_arn

REGIONS = [
    "eu-west-3",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "ap-southeast-1",
]


class AccountLinkForm(forms.Form):
    role_arn = forms.CharField(
        label=_("Role ARN"),
        max_length=2048,
        validators=[validate_role_arn],
        help_text=_(
            "The RoleArn output of the CloudFormation stack, e.g. arn:aws:iam::123456789012:role/PrimetimeAccess."
        ),
    )
    regions = forms.MultipleChoiceField(
        label=_("Regions where the stack runs"),
        choices=[(region, region) for region in REGIONS],
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    tag_key = forms.CharField(
        label=_("Tag key"),
        max_length=128,
        help_text=_("Resources tagged with this key are offered for the stack named by the tag's value."),
    )


class AttachByTagForm(forms.Form):
    tag_value = forms.CharField(label=_("Tag value"), max_length=256)


class UnitRpsForm(forms.Form):
    unit_rps = forms.IntegerField(
        label=_("Requests/s one unit serves"), min_value=1, max_value=1_000_000, required=False
    )
