from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts import services
from accounts.forms import InvitationSignUpForm
from accounts.models import User
from portal.forms import add_service_errors


class InvitationAcceptView(View):
    """Where an invitation link lands: join when signed in, else sign in or create the account."""

    template_name = "accounts/invitation_accept.html"

    def dispatch(self, request, token):
        try:
            self.invitation = services.invitation_from_token(token)
        except services.InvitationInvalid as error:
            return render(request, "accounts/invitation_invalid.html", {"reason": error.messages[0]}, status=410)
        self.token = token
        self.has_account = User.objects.filter(email__iexact=self.invitation.email).exists()
        return super().dispatch(request, token)

    def get(self, request, token, form=None, status=200):
        if form is None and not request.user.is_authenticated and not self.has_account:
            form = InvitationSignUpForm(email=self.invitation.email)
        return render(
            request,
            self.template_name,
            {"invitation": self.invitation, "has_account": self.has_account, "form": form},
            status=status,
        )

    def post(self, request, token):
        if request.user.is_authenticated:
            try:
                membership = services.invitation_accept(token=token, user=request.user)
            except services.InvitationInvalid as error:
                return render(request, "accounts/invitation_invalid.html", {"reason": error.messages[0]}, status=409)
        else:
            if self.has_account:
                return redirect_to_login(request.get_full_path())
            form = InvitationSignUpForm(request.POST, email=self.invitation.email)
            if not form.is_valid():
                return self.get(request, token, form=form, status=400)
            try:
                user, membership = services.user_register_from_invitation(
                    token=token, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password1"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
                return self.get(request, token, form=form, status=400)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to %(name)s.") % {"name": membership.organization.name})
        return redirect("organization-dashboard", org=membership.organization.slug)
