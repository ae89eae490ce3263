from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import ApiTokenForm, ProfileForm
from accounts.models import ApiToken, Membership
from portal.forms import add_service_errors
from portal.http import safe_next_url

NEW_TOKEN_SESSION_KEY = "primetime.new_api_token"  # noqa: S105 - a session key name


@login_required
def profile(request):
    """The user's own page: name, language, organizations and API tokens."""
    user = request.user
    profile_form = ProfileForm(instance=user)
    token_form = ApiTokenForm()
    new_key = None
    status = 200
    if request.method == "POST" and request.POST.get("action") == "profile":
        profile_form = ProfileForm(request.POST, instance=user)
        if profile_form.is_valid():
            profile_form.save()
            translation.activate(user.language)
            messages.success(request, _("Profile saved."))
            return redirect("profile")
        status = 400
    elif request.method == "POST" and request.POST.get("action") == "token":
        token_form = ApiTokenForm(request.POST)
        if token_form.is_valid():
            try:
                token, raw_key = services.api_token_create(user=user, name=token_form.cleaned_data["name"])
            except ValidationError as error:
                add_service_errors(token_form, error)
            else:
                # Post/redirect/get, so a reload cannot create a second token;
                # the key rides in the server-side session until shown once.
                request.session[NEW_TOKEN_SESSION_KEY] = raw_key
                messages.success(
                    request,
                    _("Token “%(name)s” created. Copy it now: it will not be shown again.") % {"name": token.name},
                )
                return redirect("profile")
        status = 400
    else:
        new_key = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    context = {
        "profile_form": profile_form,
        "token_form": token_form,
        "new_key": new_key,
        "tokens": ApiToken.objects.filter(user=user),
        "memberships": Membership.objects.filter(user=user).select_related("organization"),
    }
    response = render(request, "accounts/profile.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(
        request, _("Token “%(name)s” revoked; scripts using it are refused from now on.") % {"name": token.name}
    )
    return redirect("profile")


@require_POST
def language_switch(request):
    """Switch the interface language; signed-in users keep it in their profile."""
    language = request.POST.get("language", "")
    response = redirect(safe_next_url(request, "/"))
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", secure=request.is_secure(), httponly=True
        )
    return response
