"""Writing and publishing reviews, and hiding one (staff). Every write is one transaction on the booking's
row lock, so the two sides' submissions and the publishing sweep never miss or double a publication."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import locks as booking_locks
from bookings.errors import BookingBusy
from bookings.models import Booking
from companions import services as companion_services
from reviews import rules
from reviews.errors import ReviewError, ReviewNotAllowed
from reviews.models import STAR_FIELDS, TEXT_MAX_LENGTH, Direction, Review, SafetyReport


def review_submit(
    *, booking_id: int, author, stars: dict[str, int], text: str = "", now: datetime | None = None
) -> Review:
    """The author's review of the other side of a completed booking. Publishes both reviews when this one
    is the second. Raises ReviewError (translated) and stores nothing on bad input or when not allowed;
    a second submission (double click, another tab, a replayed POST) is refused by the database too."""
    now = now or timezone.now()
    text = (text or "").strip()
    for name in STAR_FIELDS:
        value = stars.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ReviewError(_("Choose 1 to 5 stars."), field=name)
    if len(text) > TEXT_MAX_LENGTH:
        raise ReviewError(_("A review can be at most %(count)d characters.") % {"count": TEXT_MAX_LENGTH}, field="text")
    with transaction.atomic():
        # The booking's locks, in the one order (bookings/locks.py: customer, companion, booking) and
        # with its short timeout: the other side's submission waits here, so exactly one of the two sees
        # both reviews and publishes them.
        try:
            booking = _lock_booking(booking_id)
        except Booking.DoesNotExist:
            raise ReviewNotAllowed(_("Only the customer and the companion of a booking can review it.")) from None
        existing = list(Review.objects.select_for_update().filter(booking=booking))
        direction = rules.check_may_write(booking, author, now, written={review.direction for review in existing})
        subject = booking.companion.user if direction == Direction.OF_COMPANION else booking.customer
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    booking=booking,
                    direction=direction,
                    author=author,
                    subject=subject,
                    companion=booking.companion,
                    text=text,
                    window_closes_at=rules.window_closes_at(booking),
                    created_at=now,
                    **{name: stars[name] for name in STAR_FIELDS},
                )
        except IntegrityError:
            raise ReviewNotAllowed(_("You have already reviewed this booking. A review cannot be changed.")) from None
        if existing:  # the other side wrote first: both are published now, together
            _publish([review, *existing], now=now)
    return review


def reviews_publish_due(*, now: datetime | None = None, booking_id: int | None = None) -> int:
    """Publishes the reviews whose window has closed (all, or one booking's); returns how many. Run by the
    beat every few minutes and by the review page before it reads; a second run publishes nothing more."""
    now = now or timezone.now()
    due = Review.objects.filter(published_at__isnull=True, window_closes_at__lte=now)
    if booking_id is not None:
        due = due.filter(booking_id=booking_id)
    published = 0
    for review_id, due_booking_id in list(due.values_list("pk", "booking_id")[:1000]):
        try:
            with transaction.atomic():
                _lock_booking(due_booking_id)
                review = Review.objects.select_for_update().filter(pk=review_id, published_at=None).first()
                if review is not None:
                    _publish([review], now=now)
                    published += 1
        except ReviewError:
            continue  # the booking is busy: the next sweep (or page) publishes it
    return published


def _lock_booking(booking_id: int) -> Booking:
    """Every review write takes the booking's locks first, in the one order (bookings/locks.py: customer,
    companion, booking) and with its short timeout, before any review row or the companion's rating:
    two review writes never wait on each other in opposite orders."""
    try:
        booking_locks.lock_booking_parties(booking_id=booking_id)
        return booking_locks.lock_booking(booking_id=booking_id)
    except BookingBusy as busy:
        raise ReviewError(busy.message) from busy


def _publish(reviews: list[Review], *, now: datetime) -> None:
    """Inside the caller's transaction: stamps each review published (once) and counts the public ones
    in the companion's rating."""
    for review in reviews:
        updated = Review.objects.filter(pk=review.pk, published_at=None).update(published_at=now)
        review.published_at = now
        if not updated or review.direction != Direction.OF_COMPANION:
            continue
        hidden = Review.objects.filter(pk=review.pk).values_list("hidden_at", flat=True).get()  # fresh, locked
        if hidden is None:
            companion_services.profile_rating_change(profile_id=review.companion_id, count=1, stars=review.overall)
        else:  # published as "removed by Kompanion": the profile's list changes, not the rating
            companion_services.profile_pages_changed(profile_id=review.companion_id)


def review_hide(*, review_id: int, staff, reason: str, now: datetime | None = None) -> Review:
    """Staff hide a review (its stars leave the rating; the page says it was removed by Kompanion)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Say why the review is hidden."), field="hidden_reason")
    booking_id = Review.objects.filter(pk=review_id).values_list("booking_id", flat=True).get()
    with transaction.atomic():
        _lock_booking(booking_id)  # the order every review write takes, before the review and the rating
        review = Review.objects.select_for_update().get(pk=review_id)
        if review.hidden_at is not None:
            return review
        review.hidden_at, review.hidden_reason, review.hidden_by = now, reason[:500], staff
        review.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
        if review.published_at is not None and review.direction == Direction.OF_COMPANION:
            companion_services.profile_rating_change(profile_id=review.companion_id, count=-1, stars=-review.overall)
    return review


def review_reply(*, review_id: int, author, text: str, now: datetime | None = None) -> Review:
    """The companion's one public answer to a published review of them. A second answer (a double
    click, a replayed POST) is refused: the write is conditional on there being none yet."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise ReviewError(_("Write your answer."), field="reply")
    if len(text) > TEXT_MAX_LENGTH:
        raise ReviewError(
            _("An answer can be at most %(count)d characters.") % {"count": TEXT_MAX_LENGTH}, field="reply"
        )
    with transaction.atomic():
        review = Review.objects.filter(pk=review_id).first()
        if review is None:
            raise ReviewNotAllowed(_("Only the companion a review is about can answer it."))
        rules.check_may_reply(review, author)
        answered = Review.objects.filter(pk=review.pk, replied_at__isnull=True).update(reply=text, replied_at=now)
        if not answered:
            raise ReviewNotAllowed(_("You have already answered this review. An answer cannot be changed."))
        companion_services.profile_pages_changed(profile_id=review.companion_id)
        review.reply, review.replied_at = text, now
    return review


def safety_report_send(*, review_id: int, author, details: str, now: datetime | None = None) -> SafetyReport:
    """The author's confidential report to staff with their review of 2 stars or less; once."""
    now = now or timezone.now()
    details = (details or "").strip()
    if not details:
        raise ReviewError(_("Tell us what happened."), field="details")
    if len(details) > TEXT_MAX_LENGTH:
        raise ReviewError(_("At most %(count)d characters.") % {"count": TEXT_MAX_LENGTH}, field="details")
    review = Review.objects.filter(pk=review_id).first()
    if not rules.may_report(review, author, reported=hasattr(review, "safety_report")):
        raise ReviewNotAllowed(_("A safety report can be sent once, with your own review of 1 or 2 stars."))
    try:
        with transaction.atomic():
            return SafetyReport.objects.create(review=review, details=details, created_at=now)
    except IntegrityError:
        raise ReviewNotAllowed(_("A safety report can be sent once, with your own review of 1 or 2 stars.")) from None
