from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, translation
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from accounts import services as account_services
from accounts.models import Role
from companions import selectors as companion_selectors
from core.i18n import SUPPORTED_LANGUAGES
from privacy import deletion as privacy_deletion
from privacy import retention as privacy_retention
from promotions import services as promotion_services


def _welcome_offer(user) -> dict | None:
    """The welcome discount (issue 16) as the home page offers it: to visitors and to customers who have
    never booked; None when it is off or not for this person."""
    basis_points = settings.WELCOME_DISCOUNT_BASIS_POINTS
    if basis_points <= 0:
        return None
    if user.is_authenticated and (user.role != Role.CUSTOMER or not promotion_services.is_first_booking(user)):
        return None
    percent = basis_points // 100 if basis_points % 100 == 0 else formats.number_format(basis_points / 100, 2)
    return {"percent": percent, "cap": settings.WELCOME_DISCOUNT_CAP}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {**companion_selectors.search_choices(), "welcome_offer": _welcome_offer(request.user)}
    return render(request, "core/home.html", context)


def _legal_page(request: HttpRequest, *, document: str, version: str, extra: dict | None = None) -> HttpResponse:
    language = translation.get_language()
    if language not in SUPPORTED_LANGUAGES:
        language = settings.LANGUAGE_CODE
    context = {"legal_template": f"core/legal/{document}_{language}.html", "version": version, **(extra or {})}
    return render(request, f"core/{document}.html", context)


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    return _legal_page(request, document="terms", version=settings.TERMS_VERSION)


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    # The retention periods as configured (each a setting), beside the policy's text (issue 15).
    extra = {"periods": privacy_retention.periods(), "grace_days": privacy_deletion.grace_days()}
    return _legal_page(request, document="privacy", version=settings.PRIVACY_VERSION, extra=extra)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (cookie + safe redirect), plus saving the choice on the account."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if language in SUPPORTED_LANGUAGES and request.user.is_authenticated:
        account_services.user_set_language(user=request.user, language=language)
    return response
