"""Issue 11, failure 1: while Redis is down, the site serves from PostgreSQL.

The cache and the broker are configured as production configures them (config/settings/base.py with
REDIS_URL set), pointed at a port nothing listens on. A signed-in customer browses, books, logs out and
logs in again: every answer is 2xx or 3xx. The payment webhook answers 503 JSON (Midtrans retries it),
/healthz answers 503, and the login limits still count (in PostgreSQL meanwhile)."""

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from companions import selectors as companion_selectors
from core.cache import CacheUnavailable, unguarded
from core.models import CacheFallbackEntry
from notifications.models import Delivery
from notifications.sending import deliveries_due
from payments.models import PaymentNotification
from tests.bookings.helpers import booking_form, make_companion
from tests.factories import TEST_PASSWORD, CustomerFactory
from tests.resilience.outage import production_settings, redis_down

pytestmark = pytest.mark.django_db


def test_production_uses_the_resilient_cache_and_database_sessions(monkeypatch):
    production = production_settings(monkeypatch, "redis://127.0.0.1:6379/0")
    assert production["CACHES"]["default"]["BACKEND"] == "core.cache.ResilientRedisCache"
    assert production["CACHES"]["default"]["FALLBACK_KEY_PREFIXES"] == ["allauth:rl:"]
    assert production["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"


def queued_for_sweep() -> int:
    return len(deliveries_due(now=timezone.now() + timedelta(hours=1)))


def log_in(client, email, password=TEST_PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


@pytest.mark.django_db(transaction=True)  # real commits: the after-commit work (page cache, tasks) runs
def test_a_signed_in_customer_browses_books_and_logs_in_again_while_redis_is_down(
    reference_data, monkeypatch, settings, caplog
):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600  # the page cache on, as in production
    profile = make_companion()
    customer = CustomerFactory()
    now = timezone.now()
    start = companion_selectors.free_start_times(
        profile, start=now + timedelta(days=2), end=now + timedelta(days=5), hours=2
    )[0]
    client = Client()
    assert log_in(client, customer.email).status_code == 302  # signed in before the outage

    with redis_down(monkeypatch), caplog.at_level(logging.WARNING):
        anonymous = Client()
        answers = {
            "anonymous search": anonymous.get(reverse("companions:search")),
            "anonymous profile": anonymous.get(reverse("companions:profile", args=[profile.slug])),
            "home": client.get(reverse("home")),
            "terms": client.get(reverse("terms")),
            "search": client.get(reverse("companions:search")),
            "profile": client.get(reverse("companions:profile", args=[profile.slug])),
            "bookings": client.get(reverse("bookings:list")),
            "book": client.post(
                reverse("bookings:new", args=[profile.slug]),
                booking_form(start),
            ),
            "logout": client.post(reverse("account_logout")),
            "login page": client.get(reverse("account_login")),
            "login": log_in(client, customer.email),
            "bookings again": client.get(reverse("bookings:list")),
        }
        assert {name: answer.status_code for name, answer in answers.items()} == {
            "anonymous search": 200,
            "anonymous profile": 200,
            "home": 200,
            "terms": 200,
            "search": 200,
            "profile": 200,
            "bookings": 200,
            "book": 302,
            "logout": 302,
            "login page": 200,
            "login": 302,
            "bookings again": 200,
        }
        assert client.session[SESSION_KEY] == str(customer.pk)
        booking = Booking.objects.get(customer=customer)
        assert booking.status == BookingStatus.REQUESTED and booking.start == start
        assert answers["book"]["Location"] == reverse("bookings:detail", args=[booking.reference])
        assert client.get(answers["book"]["Location"]).status_code == 200
        # The outage is logged, not raised; a minute's worth of cache calls makes one line, no trace.
        outage_lines = [record for record in caplog.records if record.name == "core.cache"]
        assert len(outage_lines) == 1 and outage_lines[0].exc_info is None
        # The booking's messages could not be queued: their deliveries wait, pending, for the sweep.
        assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == queued_for_sweep()
        assert queued_for_sweep() > 0


def test_the_payment_webhook_answers_503_json_while_the_limiter_cannot_count(monkeypatch):
    body = {"order_id": "KMP-1", "status_code": "200", "gross_amount": "100000.00", "signature_key": "x"}
    with redis_down(monkeypatch):
        response = Client().post(
            reverse("payments:midtrans_notification"), json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "retry", "reason": "rate limiter unavailable"}
    assert PaymentNotification.objects.count() == 0


def test_an_unsigned_twilio_callback_is_answered_503_while_the_limiter_cannot_count(monkeypatch):
    """Only unsigned callbacks are counted (signed ones always get through): without a counter they are
    refused for now, with a status Twilio retries, and nothing is recorded."""
    with redis_down(monkeypatch):
        response = Client().post(
            reverse("notifications:twilio_status"),
            urlencode({"MessageSid": "SM123", "MessageStatus": "delivered"}),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE="forged",
        )
    assert response.status_code == 503
    assert Delivery.objects.count() == 0


def test_healthz_says_503_while_redis_is_down(monkeypatch):
    with redis_down(monkeypatch):
        response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "down", "broker": "down"}
    # The reason names the connection failure, not the resilient cache's silent miss.
    assert response.json()["errors"]["cache"] in {"ConnectionError", "TimeoutError", "CacheUnavailable"}


def test_failed_logins_are_still_limited_while_redis_is_down(monkeypatch):
    """allauth's login_failed limit (5 per 5 minutes per account) keeps counting, in PostgreSQL."""
    customer = CustomerFactory()
    client = Client()
    with redis_down(monkeypatch):
        statuses = [log_in(client, customer.email, password="wrong-password").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        assert log_in(client, customer.email).status_code == 429  # the right password waits too
        assert SESSION_KEY not in client.session
        assert CacheFallbackEntry.objects.filter(cache_key__contains="allauth:rl:").exists()
        # Another account from the same address is not refused (per-account limit; 10/m per address).
        other = CustomerFactory()
        assert log_in(Client(), other.email).status_code == 302


def test_a_successful_login_during_the_outage_does_not_count_as_a_failure(monkeypatch):
    customer = CustomerFactory()
    with redis_down(monkeypatch):
        for _ in range(8):
            client = Client()
            assert log_in(client, customer.email).status_code == 302
            assert client.session[SESSION_KEY] == str(customer.pk)


def test_a_failure_is_a_miss_or_raises_only_when_asked(monkeypatch):
    with redis_down(monkeypatch):
        assert cache.get("anything", "default") == "default"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("a", 1) is False
        assert cache.set("a", 1) is None
        with pytest.raises(ValueError, match="not found"):
            cache.incr("a")
        with pytest.raises(CacheUnavailable), unguarded():
            cache.get("anything")
