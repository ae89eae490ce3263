from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from accounts.views.mixins import OrganizationMixin
from events import services
from events.forecast import ForecastParameters
from events.forms import ForecastProfileForm
from events.models import ForecastProfile
from portal.forms import add_service_errors


class ForecastSettingsView(OrganizationMixin, FormView):
    """The organization's forecast parameters: empty fields keep the published defaults."""

    manager_required = True
    template_name = "events/forecast_settings.html"
    form_class = ForecastProfileForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = ForecastProfile.objects.filter(organization=self.organization).first()
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        defaults = ForecastParameters()
        for name, field in form.fields.items():
            field.widget.attrs["placeholder"] = str(getattr(defaults, name))
            field.help_text = _("Default: %(value)s") % {"value": getattr(defaults, name)}
        return form

    def form_valid(self, form):
        values = {field: form.cleaned_data[field] for field in ForecastProfile.PARAMETER_FIELDS}
        try:
            services.forecast_profile_update(organization=self.organization, by=self.request.user, values=values)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            self.request, _("Forecast parameters saved; the forecasts of upcoming events are being updated.")
        )
        return redirect("forecast-settings", org=self.organization.slug)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
