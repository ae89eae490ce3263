from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from accounts.views.mixins import OrganizationMixin
from cloud import policies, services
from cloud.forms import AccountLinkForm, AttachByTagForm, UnitRpsForm
from cloud.models import CloudAccount, StackResource
from cloud.verification import simulated_account
from portal.forms import add_service_errors
from stacks.models import Stack


def attached_message(count: int) -> str:
    return ngettext("%(count)d resource attached.", "%(count)d resources attached.", count) % {"count": count}


class AccountView(OrganizationMixin, TemplateView):
    """The AWS link: how to create the role, the role ARN, its verification, and what was discovered."""

    template_name = "cloud/account.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = services.account_for(organization=self.organization)
        form = kwargs.get("form") or AccountLinkForm(
            initial={"role_arn": account.role_arn, "regions": account.regions, "tag_key": account.tag_key}
        )
        provider = settings.PROVIDER_AWS_ACCOUNT_ID
        discovered = services.discovered_resources(account)
        by_kind: dict[str, list] = {}
        for resource in discovered:
            by_kind.setdefault(StackResource.Kind(str(resource.kind)).label, []).append(resource)
        context.update(
            account=account,
            form=form,
            trust_policy=json.dumps(
                policies.trust_policy(provider_account_id=provider, external_id=account.external_id), indent=2
            ),
            readiness_policy=json.dumps(policies.readiness_permissions_policy(), indent=2),
            scaling_policy=json.dumps(policies.scaling_permissions_policy(), indent=2),
            discovered_by_kind=sorted(by_kind.items()),
            busy=account.status == CloudAccount.Status.VERIFYING,
            simulated_role_arn=f"arn:aws:iam::{provider}:role/PrimetimeAccess" if simulated_account() else "",
        )
        return context

    def post(self, request, *args, **kwargs):
        account = services.account_for(organization=self.organization)
        if request.POST.get("action") == "discover":
            try:
                services.account_discover_request(account=account, by=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Reading the account's resources; this page updates when it is done."))
            return redirect("cloud-account", org=self.organization.slug)
        form = AccountLinkForm(request.POST)
        if not self.can_manage:
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                services.account_link(account=account, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Role saved; checking it now."))
                return redirect("cloud-account", org=self.organization.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TemplateDownloadView(OrganizationMixin, View):
    def get(self, request, org):
        account = services.account_for(organization=self.organization)
        body = policies.cloudformation_template(
            provider_account_id=settings.PROVIDER_AWS_ACCOUNT_ID, external_id=account.external_id
        )
        response = HttpResponse(body, content_type="application/x-yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="primetime-access-role.yaml"'
        return response


class StackResourcesView(OrganizationMixin, TemplateView):
    """A stack's cloud resources with their capacity, and what can be attached from the account."""

    template_name = "cloud/stack_resources.html"

    def get_stack(self) -> Stack:
        return get_object_or_404(Stack.objects.in_organization(self.organization), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stack = self.get_stack()
        account = services.account_for(organization=self.organization)
        attached = list(StackResource.objects.filter(stack=stack))
        attached_ids = {row.identifier for row in attached}
        context.update(
            stack=stack,
            account=account,
            resources=attached,
            available=[r for r in services.discovered_resources(account) if r.identifier not in attached_ids],
            tag_form=kwargs.get("tag_form") or AttachByTagForm(initial={"tag_value": ""}),
        )
        return context

    def post(self, request, *args, **kwargs):
        stack = self.get_stack()
        action = request.POST.get("action")
        try:
            if action == "attach":
                rows = services.stack_resources_attach(
                    stack=stack, identifiers=request.POST.getlist("identifier"), by=request.user
                )
                messages.success(request, attached_message(len(rows)))
            elif action == "attach_tag":
                form = AttachByTagForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(tag_form=form), status=400)
                rows = services.stack_resources_attach_by_tag(
                    stack=stack, tag_value=form.cleaned_data["tag_value"], by=request.user
                )
                messages.success(request, attached_message(len(rows)))
            elif action == "refresh":
                services.stack_resources_refresh_request(stack=stack, by=request.user)
                messages.success(request, _("Reading the capacity again; reload in a moment."))
            elif action in {"unit_rps", "remove"}:
                row = get_object_or_404(StackResource.objects.filter(stack=stack), pk=request.POST.get("resource"))
                if action == "remove":
                    services.stack_resource_remove(resource=row, by=request.user)
                    messages.success(request, _("%(name)s removed from the stack.") % {"name": row.name})
                else:
                    form = UnitRpsForm(request.POST)
                    if not form.is_valid():
                        messages.error(request, " ".join(form.errors.get("unit_rps", [])))
                    else:
                        services.stack_resource_update(
                            resource=row, unit_rps=form.cleaned_data["unit_rps"], by=request.user
                        )
                        messages.success(request, _("Throughput saved."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("stack-resources", org=self.organization.slug, pk=stack.pk)
