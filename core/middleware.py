"""Language choice and idle session timeout."""

import time

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from core.i18n import SUPPORTED_LANGUAGES


class UserLanguageMiddleware:
    """Pick the page language: the language cookie (set by the switch), else the signed-in user's
    saved preference, else Indonesian.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language on purpose: many
    Indonesians run their phones in English yet expect Kompanion in Bahasa Indonesia, and the
    product is Bahasa first. Must run after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in SUPPORTED_LANGUAGES:
            user = request.user
            language = user.preferred_language if user.is_authenticated else None
        if language not in SUPPORTED_LANGUAGES:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


class IdleTimeoutMiddleware:
    """End sessions that sat idle for too long; staff get a much shorter idle window.

    The expiry is pushed forward at most once a minute, so an active session is not rewritten on
    every request.
    """

    TOUCH_KEY = "_last_touch"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            timeout = settings.STAFF_SESSION_IDLE_TIMEOUT if user.is_staff else settings.SESSION_IDLE_TIMEOUT
            now = int(time.time())
            if now - request.session.get(self.TOUCH_KEY, 0) >= 60:
                request.session[self.TOUCH_KEY] = now
                request.session.set_expiry(timeout)
        return self.get_response(request)
