from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView

from accounts.views.mixins import OrganizationMixin
from portal.forms import add_service_errors
from stacks import services
from stacks.forms import StackForm
from stacks.models import Stack


class StackListView(OrganizationMixin, ListView):
    template_name = "stacks/stack_list.html"
    context_object_name = "stacks"

    def get_queryset(self):
        return (
            Stack.objects.in_organization(self.organization)
            .annotate(resource_count=Count("resources"))
            .order_by("name")
        )


class StackFormView(OrganizationMixin, FormView):
    template_name = "stacks/stack_form.html"
    form_class = StackForm
    stack = None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if "pk" in self.kwargs:
            self.stack = get_object_or_404(Stack.objects.in_organization(self.organization), pk=self.kwargs["pk"])
            # Edit a copy, so a refused change does not leak into the page.
            kwargs["instance"] = Stack.objects.get(pk=self.stack.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(stack=self.stack, **kwargs)

    def form_valid(self, form):
        fields = {field: form.cleaned_data[field] for field in StackForm.Meta.fields}
        try:
            if self.stack is None:
                stack = services.stack_create(organization=self.organization, by=self.request.user, **fields)
            else:
                stack = services.stack_update(stack=self.stack, by=self.request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Stack “%(name)s” saved.") % {"name": stack.name})
        return redirect("stack-list", org=self.organization.slug)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
