"""What the review pages read, filtered by reviews/rules.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from bookings.models import Booking
from companions.review_facts import PublicReview
from reviews import rules
from reviews.models import Direction, Review, SafetyReport


def booking_reviews(booking: Booking, user) -> dict:
    """The booking's reviews as `user` (one of its parties) may see them: their own and the other side's
    (None while unpublished, hidden, or never shown to them)."""
    own_direction = rules.direction_of(booking, user)
    reviews = {review.direction: review for review in Review.objects.filter(booking=booking)}
    mine = reviews.get(own_direction) if own_direction else None
    other_direction = Direction.OF_CUSTOMER if own_direction == Direction.OF_COMPANION else Direction.OF_COMPANION
    other = reviews.get(other_direction)
    # The other side's review of the viewer: a customer never reads the companion's review of them (it
    # is for the companions they ask to book); a companion reads the customer's once it is published.
    theirs = other if other is not None and rules.may_read(other, user) else None
    return {
        "reported": mine is not None and SafetyReport.objects.filter(review=mine).exists(),
        "direction": own_direction,
        "mine": mine,
        "theirs": theirs,
        "other_written": other is not None,
        "written": set(reviews),
    }


def booking_review_summary(booking: Booking, user, now: datetime) -> dict | None:
    """The reviews card of the booking page (bookings/hooks.py), or None when it has none for `user`."""
    closes = rules.window_closes_at(booking)
    if closes is None or rules.direction_of(booking, user) is None:
        return None
    seen = booking_reviews(booking, user)
    return {
        **seen,
        "closes_at": closes,
        "can_write": rules.may_write(booking, user, now, written=seen["written"]),
        "url": reverse("reviews:write", args=[booking.reference]),
    }


def public_reviews(profile_id: int, limit: int) -> list[PublicReview]:
    """The companion's newest published customer reviews for the profile page (companions/review_facts.py),
    hidden ones as "removed"; one query. Only what anyone may read leaves this function."""
    rows = (
        Review.objects.filter(companion_id=profile_id, direction=Direction.OF_COMPANION, published_at__isnull=False)
        .select_related("author")
        .order_by("-published_at", "-pk")[:limit]
    )
    return [
        PublicReview(
            # A first name, never an email; "former user" once the author's data is erased (issue 15).
            author_name=review.author.get_short_name()
            if review.author.erased_at
            else (review.author.full_name.split() or [""])[0],
            published_at=review.published_at,
            overall=0 if review.hidden_at else review.overall,
            text="" if review.hidden_at else review.text,
            reply="" if review.hidden_at else review.reply,
            removed=review.hidden_at is not None,
        )
        for review in rows
    ]


@dataclass(frozen=True)
class CustomerReviews:
    """What companions wrote of one customer, for the companions that customer asks to book."""

    count: int
    average: float
    latest: list[str]  # the newest texts (up to 3)


def customer_reviews(customer_ids: list[int]) -> dict[int, CustomerReviews]:
    """Published, not hidden reviews of these customers by companions, for the requests in a companion's
    inbox: the customers asked that companion to book, which is what rules.may_read asks before a
    companion reads a review of a customer. One query: each customer's count and average come with their
    newest three reviews (window functions), however many they have."""
    by_customer = {"partition_by": [F("subject_id")]}
    rows = (
        Review.objects.filter(
            subject_id__in=customer_ids,
            direction=Direction.OF_CUSTOMER,
            published_at__isnull=False,
            hidden_at__isnull=True,
        )
        .annotate(
            position=Window(RowNumber(), order_by=[F("published_at").desc(), F("pk").desc()], **by_customer),
            total=Window(Count("pk"), **by_customer),
            mean=Window(Avg("overall"), **by_customer),
        )
        .filter(position__lte=3)
        .order_by("subject_id", "position")
        .values_list("subject_id", "total", "mean", "text")
    )
    found: dict[int, CustomerReviews] = {}
    for subject_id, total, mean, text in rows:
        if subject_id not in found:
            found[subject_id] = CustomerReviews(count=total, average=round(float(mean), 1), latest=[])
        if text:
            found[subject_id].latest.append(text)
    return found
