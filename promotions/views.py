"""The referral programme's pages: "Invite friends" (settings) and the invitation link a friend opens."""

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Role
from core.formatting import format_basis_points, format_rupiah
from promotions import referrals


def _offer(language: str) -> dict:
    return {
        "percent": format_basis_points(settings.REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS, language=language),
        "cap": settings.REFERRAL_WELCOME_DISCOUNT_CAP,
        "voucher": settings.REFERRAL_VOUCHER_AMOUNT,
        "cut_points": settings.REFERRAL_COMMISSION_CUT_BASIS_POINTS // 100,
        "cut_days": settings.REFERRAL_COMMISSION_CUT_DAYS,
        "per_year": settings.REFERRAL_REWARDS_PER_YEAR,
    }


def share_message(link: str, language: str) -> str:
    """The prefilled WhatsApp message (in the inviter's language; Indonesian by default)."""
    percent = format_basis_points(settings.REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS, language=language)
    cap = format_rupiah(settings.REFERRAL_WELCOME_DISCOUNT_CAP, language=language)
    return _(
        "Hi! I use Kompanion to book verified companions for events, hangouts and trips. Sign up with my link "
        "and get %(percent)s off your first booking (up to %(cap)s): %(link)s"
    ) % {"percent": percent, "cap": cap, "link": link}


@never_cache
@login_required
@require_GET
def invite(request: HttpRequest) -> HttpResponse:
    user = request.user
    language = getattr(request, "LANGUAGE_CODE", "id")
    code = referrals.referral_code_for(user)
    # The canonical address, as every link we send out (README: WhatsApp and email links follow SITE_URL),
    # not the host this page happened to be served on: the link travels to other people's phones.
    link = f"{settings.SITE_URL.rstrip('/')}{reverse('promotions:landing', args=[code.code])}"
    message = share_message(link, language)
    now = timezone.now()
    context = {
        "code": code.code,
        "link": link,
        "whatsapp_url": "https://wa.me/?text=" + quote(message, safe=""),
        "share_message": message,
        "offer": _offer(language),
        "invitations": referrals.invitations(user),
        "rewards": referrals.my_rewards(user, now),
        "is_companion": user.role == Role.COMPANION,
        "now": now,
    }
    return render(request, "promotions/invite.html", context)


@never_cache
@require_GET
def invitation_landing(request: HttpRequest, code: str) -> HttpResponse:
    """A friend's invitation: the code is kept in the session for the sign-up form. An unknown code shows
    the page without an offer (never a 404 that would tell codes apart from non-codes by status alone)."""
    link = referrals.find_referral_code(code)
    if request.user.is_authenticated:
        messages_text = _("You already have an account: invitations are for new members.")
        return render(
            request,
            "promotions/landing.html",
            {"valid": False, "signed_in": True, "note": messages_text, "offer": _offer(request.LANGUAGE_CODE)},
        )
    if link is not None:
        request.session[referrals.SESSION_KEY] = link.code
    inviter = referrals.short_name(link.user) if link is not None else ""
    context = {
        "valid": link is not None,
        "signed_in": False,
        "inviter": inviter,
        "offer": _offer(getattr(request, "LANGUAGE_CODE", "id")),
        "signup_url": reverse("account_signup"),
        "companion_signup_url": reverse("account_signup") + "?role=companion",
    }
    return render(request, "promotions/landing.html", context)
