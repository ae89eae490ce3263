from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts import selectors, services
from accounts.forms import InvitationForm, RoleForm
from accounts.models import Invitation, Membership
from accounts.views.mixins import OrganizationMixin
from portal.forms import add_service_errors


class MembersView(OrganizationMixin, TemplateView):
    """The organization's people: members, roles, pending invitations, and the invite form."""

    template_name = "accounts/members.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        memberships = list(selectors.memberships_of(organization=self.organization))
        context.update(
            memberships=memberships,
            owner_count=sum(membership.is_owner for membership in memberships),
            pending_invitations=selectors.invitations_pending(organization=self.organization),
            role_choices=Membership.Role.choices,
            invite_form=kwargs.get("invite_form") or InvitationForm(),
        )
        return context

    def post(self, request, *args, **kwargs):
        """Invite someone."""
        if not self.can_manage:
            raise PermissionDenied
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invitation_create(
                    organization=self.organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return redirect("organization-members", org=self.organization.slug)
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class MembershipRoleView(OrganizationMixin, View):
    def post(self, request, org, pk):
        membership = get_object_or_404(Membership.objects.in_organization(self.organization), pk=pk)
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose owner or member."))
        else:
            try:
                services.membership_change_role(membership=membership, role=form.cleaned_data["role"], by=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("%(name)s is now %(role)s.")
                    % {"name": membership.user.display_name, "role": membership.get_role_display().lower()},
                )
        return redirect("organization-members", org=self.organization.slug)


class MembershipRemoveView(OrganizationMixin, View):
    def post(self, request, org, pk):
        membership = get_object_or_404(
            Membership.objects.in_organization(self.organization).select_related("user"), pk=pk
        )
        leaving = membership.user_id == request.user.pk
        try:
            services.membership_remove(membership=membership, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("organization-members", org=self.organization.slug)
        if leaving:
            messages.success(request, _("You left %(name)s.") % {"name": self.organization.name})
            return redirect("home")
        messages.success(request, _("%(name)s was removed.") % {"name": membership.user.display_name})
        return redirect("organization-members", org=self.organization.slug)


class InvitationRevokeView(OrganizationMixin, View):
    def post(self, request, org, pk):
        # Look up first, so a foreign invitation is a 404 for everyone; the
        # service then answers 403 to members.
        invitation = get_object_or_404(Invitation.objects.in_organization(self.organization), pk=pk)
        try:
            services.invitation_revoke(invitation=invitation, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
        return redirect("organization-members", org=self.organization.slug)
