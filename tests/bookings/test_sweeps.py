"""The clock's transitions: `bookings_sweep(now=...)` declines unanswered requests, expires unpaid
bookings and completes ended ones; running it again (or late) changes nothing more. Holds past their
deadline stop counting at once, even if no sweep ever runs."""

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus
from tests.bookings.helpers import (
    HOUR,
    MINUTE,
    NOW,
    SECOND,
    START,
    events_of,
    last_notification_id,
    new_customer,
    notifications_after,
    request,
    world,
)

pytestmark = pytest.mark.django_db

S = BookingStatus
DAY = 24 * HOUR


def status_of(booking) -> str:
    return Booking.objects.values_list("status", flat=True).get(pk=booking.pk)


def test_nothing_is_due_before_the_deadlines(profile):
    customer = new_customer()
    requested = request(customer, profile)
    accepted = request(new_customer(), profile, start=START + 3 * HOUR)
    accepted = services.booking_accept(booking_id=accepted.pk, actor=profile.user, now=NOW + HOUR)
    confirmed = _confirmed(profile, new_customer(), start=START + 6 * HOUR)
    before = world()
    first_deadline = min(requested.response_deadline, accepted.payment_deadline, confirmed.complete_after)
    assert first_deadline == accepted.payment_deadline == NOW + 2 * HOUR
    assert services.bookings_sweep(now=first_deadline - SECOND) == 0
    assert world() == before


def test_an_unanswered_request_is_declined(profile):
    customer = new_customer()
    booking = request(customer, profile)
    mark = last_notification_id()
    assert services.bookings_sweep(now=booking.response_deadline) == 1
    booking.refresh_from_db()
    assert booking.status == S.DECLINED and booking.closed_at == booking.response_deadline
    assert events_of(booking)[1:] == [(None, S.REQUESTED, S.DECLINED, "no answer before the deadline")]
    assert notifications_after(mark) == sorted(
        [("booking_expired_unanswered", customer.pk), ("booking_expired_unanswered", profile.user.pk)]
    )


def test_an_unpaid_booking_expires(profile):
    customer = new_customer()
    booking = request(customer, profile)
    booking = services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    mark = last_notification_id()
    assert services.bookings_sweep(now=booking.payment_deadline - SECOND) == 0
    assert services.bookings_sweep(now=booking.payment_deadline) == 1
    booking.refresh_from_db()
    assert booking.status == S.EXPIRED
    assert events_of(booking)[-1] == (None, S.AWAITING_PAYMENT, S.EXPIRED, "not paid before the deadline")
    assert notifications_after(mark) == sorted(
        [("booking_expired_unpaid", customer.pk), ("booking_expired_unpaid", profile.user.pk)]
    )


def _confirmed(profile, customer, start=START):
    booking = request(customer, profile, start=start)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    return services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR + MINUTE)


def test_a_confirmed_booking_completes_a_day_after_its_end(profile):
    customer = new_customer()
    booking = _confirmed(profile, customer)
    mark = last_notification_id()
    assert services.bookings_sweep(now=booking.end) == 0
    assert services.bookings_sweep(now=booking.complete_after - SECOND) == 0
    assert services.bookings_sweep(now=booking.complete_after) == 1
    booking.refresh_from_db()
    assert booking.status == S.COMPLETED and booking.closed_at == booking.complete_after
    assert events_of(booking)[-1] == (None, S.CONFIRMED, S.COMPLETED, "ended without a dispute")
    assert notifications_after(mark) == sorted(
        [("booking_completed", customer.pk), ("booking_completed", profile.user.pk)]
    )


def test_a_disputed_booking_is_not_completed(profile):
    customer = new_customer()
    booking = _confirmed(profile, customer)
    services.booking_dispute(
        booking_id=booking.pk, actor=customer, reason="Tidak sesuai yang dijanjikan.", now=booking.end + HOUR
    )
    before = world()
    assert services.bookings_sweep(now=booking.complete_after + 30 * DAY) == 0
    assert world() == before
    assert status_of(booking) == S.DISPUTED


def test_one_sweep_handles_everything_due_and_a_second_or_late_one_changes_nothing(profile):
    requested = request(new_customer(), profile)
    unpaid = request(new_customer(), profile, start=START + 3 * HOUR)
    services.booking_accept(booking_id=unpaid.pk, actor=profile.user, now=NOW + HOUR)
    confirmed = _confirmed(profile, new_customer(), start=START + 6 * HOUR)
    answered = request(new_customer(), profile, start=START + DAY)
    services.booking_decline(booking_id=answered.pk, actor=profile.user, now=NOW + HOUR)
    at = confirmed.complete_after
    assert services.bookings_sweep(now=at) == 3
    statuses = [status_of(booking) for booking in (requested, unpaid, confirmed, answered)]
    assert statuses == [S.DECLINED, S.EXPIRED, S.COMPLETED, S.DECLINED]
    before = world()
    assert services.bookings_sweep(now=at) == 0
    assert services.bookings_sweep(now=at + 90 * DAY) == 0
    assert world() == before
    # The page-side refresh is idempotent too.
    assert services.booking_apply_deadline(booking_id=requested.pk, now=at) is False
    assert world() == before


def test_the_celery_task_runs_the_same_sweep(profile):
    # The task reads the real clock: move the deadline into the real past.
    from bookings.tasks import sweep_deadlines_task

    booking = request(new_customer(), profile)
    Booking.objects.filter(pk=booking.pk).update(response_deadline=booking.created_at.replace(year=2020))
    assert sweep_deadlines_task.delay().get() == 1
    assert status_of(booking) == S.DECLINED


def test_a_page_can_apply_a_passed_deadline(profile):
    booking = request(new_customer(), profile)
    assert services.booking_apply_deadline(booking_id=booking.pk, now=booking.response_deadline - SECOND) is False
    assert status_of(booking) == S.REQUESTED
    assert services.booking_apply_deadline(booking_id=booking.pk, now=booking.response_deadline) is True
    assert status_of(booking) == S.DECLINED


def test_an_accepted_request_is_not_declined_by_a_late_sweep(profile):
    booking = request(new_customer(), profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=booking.response_deadline - SECOND)
    # The response deadline has passed, the payment deadline not yet: nothing to do.
    assert services.bookings_sweep(now=booking.response_deadline + MINUTE) == 0
    assert status_of(booking) == S.AWAITING_PAYMENT


# --- An expired hold frees the slot -------------------------------------------------------------


def test_after_the_sweep_someone_else_can_request_the_slot(profile):
    first = request(new_customer(), profile)
    services.bookings_sweep(now=first.response_deadline)
    second = request(new_customer(), profile, now=first.response_deadline)
    assert second.status == S.REQUESTED and second.start == first.start


def test_an_overdue_request_frees_the_slot_without_any_sweep(profile):
    first = request(new_customer(), profile)
    later = first.response_deadline  # no sweep has run
    assert status_of(first) == S.REQUESTED
    second = request(new_customer(), profile, now=later)
    assert second.status == S.REQUESTED and second.start == first.start
    # The request service expired the old hold inside its own transaction, with its event.
    assert status_of(first) == S.DECLINED
    assert events_of(first)[-1] == (None, S.REQUESTED, S.DECLINED, "no answer before the deadline")


def test_an_overdue_unpaid_booking_frees_the_slot_without_any_sweep(profile):
    first = request(new_customer(), profile)
    first = services.booking_accept(booking_id=first.pk, actor=profile.user, now=NOW + HOUR)
    second = request(new_customer(), profile, now=first.payment_deadline)
    assert second.status == S.REQUESTED
    assert status_of(first) == S.EXPIRED


def test_a_hold_still_inside_its_deadline_keeps_the_slot(profile):
    from bookings.errors import SlotTaken

    first = request(new_customer(), profile)
    before = world()
    with pytest.raises(SlotTaken):
        request(new_customer(), profile, now=first.response_deadline - SECOND)
    assert world() == before
