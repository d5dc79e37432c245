"""Who may write, read and answer which review, and when: the one place that decides (views, templates,
selectors and services ask these functions; tests/reviews/test_visibility.py holds them to it).

- Only the two parties of a completed booking review it, once each, within WINDOW of its completion.
- Double-blind: a review is unpublished until both have written or the window closes; until then only
  its author sees it.
- The customer's review of the companion, once published and not hidden, is public.
- The companion's review of the customer is never public: besides its author, it is shown (once
  published) only to companions the customer has asked to book.
- The companion answers a published, not hidden review of them once, publicly.
- The author of a review of SAFETY_REPORT_MAX_STARS stars or less may send staff one confidential
  safety report with it; only staff read it.
- Staff read everything in the admin, where they hide a review with a reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from bookings import rules as booking_rules
from bookings.models import Booking, BookingStatus
from reviews.errors import ReviewNotAllowed
from reviews.models import Direction, Review

WINDOW = timedelta(days=14)
SAFETY_REPORT_MAX_STARS = 2


# The review each party of a booking writes (bookings.rules.role_of says who is which).
DIRECTION_OF_ROLE = {
    booking_rules.Role.CUSTOMER: Direction.OF_COMPANION,
    booking_rules.Role.COMPANION: Direction.OF_CUSTOMER,
}


def direction_of(booking: Booking, user) -> str | None:
    """The review `user` writes of this booking: of the companion (the customer), of the customer (the
    companion), or None for anyone else (staff included)."""
    return DIRECTION_OF_ROLE.get(booking_rules.role_of(booking, user))


def window_closes_at(booking: Booking) -> datetime | None:
    """When the booking's reviews are published at the latest and no more can be written (None: the
    booking is not completed)."""
    if booking.status != BookingStatus.COMPLETED or booking.closed_at is None:
        return None
    return booking.closed_at + WINDOW


def check_may_write(booking: Booking, user, now: datetime, *, written: set[str]) -> str:
    """The direction `user` may review this booking in now; raises ReviewNotAllowed (a translated
    message) otherwise. `written`: the directions already reviewed for this booking."""
    direction = direction_of(booking, user)
    if direction is None:
        raise ReviewNotAllowed(_("Only the customer and the companion of a booking can review it."))
    closes = window_closes_at(booking)
    if closes is None:
        raise ReviewNotAllowed(_("You can review a booking once it is completed."))
    if now >= closes:
        raise ReviewNotAllowed(_("The time to review this booking has ended (14 days after it was completed)."))
    if direction in written:
        raise ReviewNotAllowed(_("You have already reviewed this booking. A review cannot be changed."))
    return direction


def may_write(booking: Booking, user, now: datetime, *, written: set[str]) -> bool:
    try:
        check_may_write(booking, user, now, written=written)
    except ReviewNotAllowed:
        return False
    return True


def may_read(review: Review, user) -> bool:
    """Whether `user` may read `review` on a review page (the admin is staff's own). A hidden review's
    text is never shown, to its author neither; the page says it was removed by Kompanion. A review of a
    customer is read by other companions only in aggregate, on that customer's requests in their inbox
    (selectors.customer_reviews), never here."""
    if review.hidden_at is not None:
        return False
    if user is not None and getattr(user, "is_authenticated", False) and review.author_id == user.pk:
        return True
    return review.published_at is not None and review.direction == Direction.OF_COMPANION


def check_may_reply(review: Review, user) -> None:
    """Raises ReviewNotAllowed unless `user` is the companion a published, not hidden customer's review
    is about and has not answered it yet."""
    if (
        review.direction != Direction.OF_COMPANION
        or user is None
        or not getattr(user, "is_authenticated", False)
        or review.subject_id != user.pk
    ):
        raise ReviewNotAllowed(_("Only the companion a review is about can answer it."))
    if review.published_at is None or review.hidden_at is not None:
        raise ReviewNotAllowed(_("You can answer a review once it is published."))
    if review.replied_at is not None:
        raise ReviewNotAllowed(_("You have already answered this review. An answer cannot be changed."))


def may_reply(review: Review, user) -> bool:
    try:
        check_may_reply(review, user)
    except ReviewNotAllowed:
        return False
    return True


def may_report(review: Review | None, user, *, reported: bool) -> bool:
    """Whether `user` may send staff a safety report with their own low review (once)."""
    return (
        review is not None
        and user is not None
        and getattr(user, "is_authenticated", False)
        and review.author_id == user.pk
        and review.overall <= SAFETY_REPORT_MAX_STARS
        and not reported
    )
