from allauth.account.decorators import reauthentication_required
from allauth.account.views import SignupView as AllauthSignupView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import blocks, consents, hooks, services
from accounts.errors import AccountError
from accounts.forms import AccountSettingsForm, PhoneChangeForm
from accounts.models import WITHDRAWABLE_CONSENTS, ConsentDocument, Role
from core.errors import add_error_to_form


class SignupView(AllauthSignupView):
    """allauth's sign-up; `?role=companion` preselects the companion role."""

    def get_initial(self) -> dict:
        initial = super().get_initial()
        if self.request.GET.get("role") in Role.values:
            initial["role"] = self.request.GET["role"]
        # An invitation link (promotions) left its code in the session: shown, and still editable.
        if self.request.session.get(hooks.INVITATION_SESSION_KEY):
            initial["invitation_code"] = self.request.session[hooks.INVITATION_SESSION_KEY]
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
                return render(request, "accounts/settings.html", _settings_context(user, form))
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
    return render(request, "accounts/settings.html", _settings_context(user, form))


def _settings_context(user, form) -> dict:
    return {"form": form, "blocked": blocks.blocked_by(user), "consents": consents.consent_states(user)}


@require_POST
@login_required
def consent_change(request: HttpRequest, document: str) -> HttpResponse:
    """One click gives or withdraws a consent (WhatsApp, news and offers); it takes effect at once and is
    recorded with where it came from. `granted` is "1" or "0"; anything else changes nothing."""
    if document not in WITHDRAWABLE_CONSENTS:
        raise Http404
    granted = request.POST.get("granted")
    if granted not in ("0", "1"):
        messages.error(request, _("Nothing changed. Please try again."))
    else:
        meta = services.RequestMeta.from_request(request)
        consents.consent_set(
            user=request.user,
            document=document,
            granted=granted == "1",
            ip_address=meta.ip_address,
            user_agent=meta.user_agent,
        )
        label = ConsentDocument(document).label
        if granted == "1":
            messages.success(request, _("Consent given: %(consent)s.") % {"consent": label})
        else:
            messages.success(request, _("Consent withdrawn: %(consent)s. It takes effect now.") % {"consent": label})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = f"{reverse('accounts:settings')}#consents"
    return redirect(target)


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
