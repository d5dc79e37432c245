from allauth.account.decorators import reauthentication_required
from allauth.account.views import SignupView as AllauthSignupView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import blocks, hooks, services
from accounts.errors import AccountError
from accounts.forms import AccountSettingsForm, PhoneChangeForm
from accounts.models import Role
from core.errors import add_error_to_form


class SignupView(AllauthSignupView):
    """allauth's sign-up; `?role=companion` preselects the companion role."""

    def get_initial(self) -> dict:
        initial = super().get_initial()
        if self.request.GET.get("role") in Role.values:
            initial["role"] = self.request.GET["role"]
        return initial


@never_cache
@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    locked = hooks.identity_locked(user)
    if request.method == "POST":
        form = AccountSettingsForm(request.POST, initial=AccountSettingsForm.initial_for(user), identity_locked=locked)
        if form.is_valid():
            try:
                services.user_update_settings(
                    user=user, meta=services.RequestMeta.from_request(request), **form.cleaned_data
                )
            except AccountError as error:
                add_error_to_form(form, error)
                return render(request, "accounts/settings.html", {"form": form, "blocked": blocks.blocked_by(user)})
            messages.success(request, _("Your settings are saved."))
            response = redirect("accounts:settings")
            # The saved language wins over an older switch made before.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.preferred_language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
            return response
    else:
        form = AccountSettingsForm(initial=AccountSettingsForm.initial_for(user), identity_locked=locked)
    return render(request, "accounts/settings.html", {"form": form, "blocked": blocks.blocked_by(user)})


@require_POST
@login_required
def unblock(request: HttpRequest, user_id: int) -> HttpResponse:
    """Undo a block this person made (someone else's block of them is not theirs to undo)."""
    if blocks.unblock(blocker=request.user, blocked_id=user_id):
        messages.success(request, _("Unblocked."))
    return redirect(f"{reverse('accounts:settings')}#blocked")


@never_cache
@login_required
@reauthentication_required
def phone_change(request: HttpRequest) -> HttpResponse:
    """Changing the number that receives WhatsApp and codes needs a fresh password check."""
    if request.method == "POST":
        form = PhoneChangeForm(request.POST)
        if form.is_valid():
            services.user_change_phone(user=request.user, phone=form.cleaned_data["phone"])
            messages.success(request, _("Your mobile number is updated."))
            return redirect("accounts:settings")
    else:
        form = PhoneChangeForm(initial={"phone": request.user.phone_display})
    return render(request, "accounts/phone_change.html", {"form": form})
