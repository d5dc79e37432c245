"""Concurrent review submissions on PostgreSQL, each on its own connection: the same review twice gives
one row; both sides at once publish both exactly once and count the companion's rating once."""

import threading

import pytest
from django.db import connections

from accounts.models import User
from companions.models import CompanionProfile
from reviews import services
from reviews.errors import ReviewError
from reviews.models import Review
from tests.concurrency import at_once
from tests.reviews.helpers import STARS, completed_booking


def submit_together(booking, authors: list) -> list:
    """Each author submits at the same moment from a thread (its own connection); returns outcomes."""
    start = threading.Barrier(len(authors))
    outcomes: list = [None] * len(authors)

    def run(index: int) -> None:
        try:
            author = User.objects.get(pk=authors[index].pk)
            start.wait(timeout=10)
            services.review_submit(booking_id=booking.pk, author=author, stars=STARS, now=booking.closed_at)
            outcomes[index] = "ok"
        except ReviewError as error:
            outcomes[index] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(authors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_the_same_review_sent_twice_at_once_is_stored_once(reference_data, settings):
    settings.LOCK_TIMEOUT_MS = 10_000  # this test is about who wins, not about the wait
    booking = completed_booking()
    outcomes = submit_together(booking, [booking.customer, booking.customer, booking.customer])
    assert outcomes.count("ok") == 1, outcomes
    assert Review.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_both_sides_at_once_publish_both_and_count_the_rating_once(reference_data, settings):
    settings.LOCK_TIMEOUT_MS = 10_000
    booking = completed_booking()
    outcomes = submit_together(booking, [booking.customer, booking.companion.user])
    assert outcomes == ["ok", "ok"]
    assert Review.objects.filter(published_at__isnull=False).count() == 2
    profile = CompanionProfile.objects.get(pk=booking.companion_id)
    assert (profile.rating_count, profile.rating_total) == (1, STARS["overall"])


@pytest.mark.django_db(transaction=True)
def test_a_hide_racing_the_second_review_never_counts_the_hidden_stars(reference_data, settings):
    """Staff hide the customer's review while the companion sends theirs (which publishes both): in
    whichever order they run, both succeed (one lock order, no deadlock) and the rating stays empty."""
    from tests.factories import StaffFactory

    settings.LOCK_TIMEOUT_MS = 10_000
    booking = completed_booking()
    first = services.review_submit(booking_id=booking.pk, author=booking.customer, stars=STARS, now=booking.closed_at)
    staff = StaffFactory()
    author = User.objects.get(pk=booking.companion.user_id)
    errors = at_once(
        lambda: services.review_hide(review_id=first.pk, staff=staff, reason="Kata-kata kasar"),
        lambda: services.review_submit(booking_id=booking.pk, author=author, stars=STARS, now=booking.closed_at),
    )
    assert errors == []
    profile = CompanionProfile.objects.get(pk=booking.companion_id)
    assert (profile.rating_count, profile.rating_total) == (0, 0)
    assert Review.objects.filter(published_at__isnull=False).count() == 2
