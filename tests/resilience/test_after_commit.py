"""Issue 11, failure 2: a side effect after commit never turns a committed success into an error page.

Each after-commit callback is robust (logged, never raised) and its work is swept: a page-cache version
bump that could not reach Redis is recorded in PostgreSQL and applied once Redis answers again (by the
beat task, or by the next page-cache read of the process that recorded it); a task that could not be
queued is left for its sweep."""

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from companions import page_cache
from companions import selectors as companion_selectors
from companions.models import CompanionProfile
from core import after_commit
from core.models import DeferredCacheDelete
from core.tasks import apply_deferred_cache_deletes_task
from tests.bookings.helpers import booking_form, make_companion
from tests.factories import CustomerFactory
from tests.resilience.outage import redis_down

# A cache that works and keeps its data across the switches below (LocMemCache shares it by LOCATION).
WORKING_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "after-commit"}}


class CacheBroken(Exception):
    pass


@pytest.mark.django_db(transaction=True)  # real commits, so the after-commit callbacks really run
def test_a_failing_bump_after_a_companion_pauses_is_logged_and_the_pause_stands(
    reference_data, settings, monkeypatch, caplog
):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600

    def broken_bump(key):
        raise CacheBroken("the cache refused")

    monkeypatch.setattr(page_cache, "_bump", broken_bump)
    profile = make_companion()
    client = Client()
    client.force_login(profile.user)
    with caplog.at_level(logging.ERROR):
        response = client.post(reverse("companions:listing"), {"paused": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("companions:dashboard")
    assert CompanionProfile.objects.get(pk=profile.pk).is_paused is True
    assert [record.getMessage() for record in caplog.records if "on_commit" in record.getMessage()] == [
        "Error calling profile_changed.<locals>.bump_profile_pages in on_commit() during transaction"
        " (the cache refused)."
    ]


def book(client, profile, start):
    return client.post(
        reverse("bookings:new", args=[profile.slug]),
        booking_form(start),
    )


def profile_version(slug):
    return cache.get(page_cache.PROFILE_VERSION_KEY.format(slug=slug))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("applied_by", ["beat task", "next read"])
def test_a_bump_missed_during_the_outage_is_applied_once_redis_is_back(
    reference_data, settings, monkeypatch, applied_by
):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    profile = make_companion()
    customer = CustomerFactory()
    now = timezone.now()
    start = companion_selectors.free_start_times(
        profile, start=now + timedelta(days=2), end=now + timedelta(days=5), hours=2
    )[0]
    client = Client()
    client.force_login(customer)
    page = reverse("companions:profile", args=[profile.slug])

    with override_settings(CACHES=WORKING_CACHE):
        cache.clear()
        assert client.get(page).status_code == 200  # cached, at the profile's current version
        before = profile_version(profile.slug)
        assert before is not None

    with redis_down(monkeypatch):
        response = book(client, profile, start)
        booking = Booking.objects.get(customer=customer)
        assert response.status_code == 302
        assert response["Location"] == reverse("bookings:detail", args=[booking.reference])
        # The bumps after commit could not reach Redis: recorded in PostgreSQL instead.
        assert sorted(DeferredCacheDelete.objects.values_list("key", flat=True)) == [
            page_cache.PROFILE_VERSION_KEY.format(slug=profile.slug),
            page_cache.SEARCH_VERSION_KEY,
        ]
        assert apply_deferred_cache_deletes_task() == 0  # still down: the rows stay
        assert DeferredCacheDelete.objects.count() == 2

    with override_settings(CACHES=WORKING_CACHE):
        # Redis is back with what it held: the page cached before the booking would be served.
        assert profile_version(profile.slug) == before
        if applied_by == "beat task":
            assert apply_deferred_cache_deletes_task() == 2
            assert profile_version(profile.slug) is None
        assert client.get(page).status_code == 200
        assert DeferredCacheDelete.objects.count() == 0
        after = profile_version(profile.slug)
        assert after is not None and after != before  # the page was rendered afresh
        cache.clear()


@pytest.mark.django_db(transaction=True)
def test_a_task_that_cannot_be_queued_leaves_the_change_standing(reference_data, monkeypatch, caplog):
    profile = make_companion()
    with redis_down(monkeypatch), caplog.at_level(logging.WARNING):
        with transaction.atomic():
            CompanionProfile.objects.filter(pk=profile.pk).update(is_paused=True)
            after_commit.enqueue(apply_deferred_cache_deletes_task)
    assert CompanionProfile.objects.get(pk=profile.pk).is_paused is True
    assert [record.getMessage() for record in caplog.records if record.name == "core.after_commit"] == [
        "task core.tasks.apply_deferred_cache_deletes_task() not queued (OperationalError): left for its sweep"
    ]
