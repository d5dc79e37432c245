"""Every cookie the site sets, across the main journeys, under production cookie settings (defect 15).

The production settings (config/settings/https.py) are applied over the test settings, and every
request comes through the TLS proxy (X-Forwarded-Proto: https). Each Set-Cookie header of every answer,
redirects included, is collected; each must be Secure, SameSite, and HttpOnly, since no script reads a
cookie: HTMX gets the CSRF token from the page (hx-headers), never from document.cookie.
"""

from datetime import timedelta
from http.cookies import Morsel

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from companions import selectors as companion_selectors
from config.settings import https
from tests.bookings.helpers import booking_form, make_companion
from tests.factories import TEST_PASSWORD, signup_data

pytestmark = pytest.mark.django_db

# HTTPS hardening as production has it, minus the redirect (every request below already says https).
PRODUCTION_COOKIES = {name: value for name, value in vars(https).items() if name.isupper()}
PRODUCTION_COOKIES["SECURE_SSL_REDIRECT"] = False


class RecordingClient(Client):
    """A test client that keeps every Set-Cookie it was sent, with the request that caused it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, HTTP_X_FORWARDED_PROTO="https", **kwargs)
        self.set_cookies: list[tuple[str, Morsel]] = []

    def request(self, **request):
        response = super().request(**request)
        where = f"{request.get('REQUEST_METHOD', 'GET')} {request.get('PATH_INFO')}"
        self.set_cookies.extend((where, morsel) for morsel in response.cookies.values())
        return response


def walk_the_main_journeys(client: RecordingClient) -> None:
    profile = make_companion()
    now = timezone.now()
    start = companion_selectors.free_start_times(
        profile, start=now + timedelta(days=2), end=now + timedelta(days=5), hours=2
    )[0]

    # Sign-up, confirming the email, login.
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("account_signup")).status_code == 200
    signup = signup_data()
    assert client.post(reverse("account_signup"), signup, follow=True).status_code == 200
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/accounts/confirm-email/" in line)
    confirm = link[link.index("/accounts/confirm-email/") :].strip()
    assert client.get(confirm).status_code == 200
    assert client.post(confirm, follow=True).status_code == 200
    assert client.get(reverse("account_login")).status_code == 200
    login = client.post(reverse("account_login"), {"login": "rina@example.id", "password": TEST_PASSWORD}, follow=True)
    assert login.status_code == 200 and login.context["user"].is_authenticated

    # Search, a profile, a booking request and its page.
    assert client.get(reverse("companions:search")).status_code == 200
    assert client.get(reverse("companions:profile", args=[profile.slug])).status_code == 200
    book_url = reverse("bookings:new", args=[profile.slug])
    assert client.get(book_url, {"start": start.isoformat(), "hours": 2}).status_code == 200
    booked = client.post(
        book_url,
        booking_form(start),
        follow=True,
    )
    assert booked.status_code == 200 and booked.redirect_chain, "the booking request was not accepted"
    assert client.get(reverse("bookings:list")).status_code == 200

    # Settings, the language switch, logout.
    assert client.get(reverse("accounts:settings")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True).status_code == 200
    assert client.post(reverse("account_logout"), follow=True).status_code == 200


@override_settings(**PRODUCTION_COOKIES)
def test_every_cookie_of_the_main_journeys_is_secure_httponly_and_same_site():
    client = RecordingClient()
    walk_the_main_journeys(client)

    names = {morsel.key for _, morsel in client.set_cookies}
    # The journeys did set the cookies they should (else the test would prove nothing).
    assert {"__Host-sessionid", "__Host-csrftoken", "kompanion_language"} <= names
    # Flash messages live in the session: no messages cookie at all (Django deleted it without Secure).
    assert "messages" not in names
    weak = [
        f"{where}: {morsel.OutputString()}"
        for where, morsel in client.set_cookies
        if not (morsel["secure"] and morsel["httponly"] and morsel["samesite"] in ("Lax", "Strict"))
    ]
    assert weak == []
