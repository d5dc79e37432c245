"""Paths no URL can hold, language choice, idle session timeout and the request body size limit."""

import time

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers

from core.http import declared_length
from core.i18n import SUPPORTED_LANGUAGES


class NulInPathMiddleware:
    """A path holding a NUL byte (`/bookings/A%00B/`) is a bad request (400) before any view runs: a
    `<str:...>` URL would pass it on, and PostgreSQL refuses NUL in text, so the view's lookup would
    fail with an error (500) instead of finding nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise SuspiciousOperation("NUL byte in the request path")
        return self.get_response(request)


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


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose declared Content-Length is over REQUEST_MAX_BODY_BYTES, before
    anything reads its body (so it must come before CsrfViewMiddleware, which parses POST bodies in its
    process_view). A view with a tighter limit of its own (core.http.limit_body, e.g. the webhooks)
    answers in its own format instead. A body without Content-Length is not read at all by Django under
    WSGI, and one longer than it declares is read only up to what it declares."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "max_body_bytes", None) is not None:
            return None
        length = declared_length(request)
        if length is not None and length > settings.REQUEST_MAX_BODY_BYTES:
            megabytes = settings.UPLOAD_MAX_FILE_BYTES // (1024 * 1024)
            return render(request, "413.html", {"megabytes": megabytes}, status=413)
        return None
