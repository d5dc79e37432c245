"""Reminders and nudges: found by a scan of the database, exactly one per booking, kind and person,
however often or late the scan runs."""

from datetime import timedelta

import pytest

from bookings import services as booking_services
from bookings.reminders import reminders_send
from notifications.models import Notification
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import paid

pytestmark = pytest.mark.django_db


def kinds(event: str) -> list[int]:
    return sorted(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))


def test_24h_and_2h_reminders_go_to_both_sides_once_each():
    booking, _payment = paid()
    both = sorted([booking.customer_id, booking.companion.user_id])
    assert reminders_send(now=START - timedelta(hours=30))["reminder_24h"] == 0  # too early
    for minutes in (0, 5, 60):  # the scan runs every few minutes: once is enough
        reminders_send(now=START - timedelta(hours=23) + timedelta(minutes=minutes))
    assert kinds("reminder_24h") == both
    for minutes in (0, 5, 30):
        reminders_send(now=START - timedelta(hours=2) + timedelta(minutes=minutes))
    assert kinds("reminder_2h") == both
    assert reminders_send(now=START + timedelta(minutes=1)) == {
        "reminder_24h": 0,
        "reminder_2h": 0,
        "nudge_answer": 0,
        "nudge_payment": 0,
    }


def test_a_late_scan_sends_only_the_reminder_that_still_makes_sense():
    booking, _payment = paid()
    reminders_send(now=START - timedelta(minutes=90))  # the scan was down all day
    assert kinds("reminder_24h") == [] and len(kinds("reminder_2h")) == 2


def test_a_cancelled_booking_gets_no_reminder():
    booking, _payment = paid()
    booking_services.booking_cancel(
        booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=1, hours=1)
    )
    reminders_send(now=START - timedelta(hours=20))
    assert kinds("reminder_24h") == []


def test_the_companion_is_nudged_before_the_answer_deadline_once():
    profile = make_companion()
    booking = request(new_customer(), profile)
    deadline = booking.response_deadline
    assert reminders_send(now=deadline - timedelta(hours=3))["nudge_answer"] == 0
    assert reminders_send(now=deadline - timedelta(minutes=90))["nudge_answer"] == 1
    assert reminders_send(now=deadline - timedelta(minutes=30))["nudge_answer"] == 0
    assert kinds("nudge_answer") == [profile.user_id]


def test_the_customer_is_nudged_before_the_payment_deadline_once():
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    reminders_send(now=booking.payment_deadline - timedelta(minutes=15))
    reminders_send(now=booking.payment_deadline - timedelta(minutes=5))
    assert kinds("nudge_payment") == [customer.pk]


def test_a_booking_paid_only_hours_ahead_gets_no_tomorrow_reminder():
    booking, _payment = paid()
    reminders_send(now=START - timedelta(hours=6))  # e.g. paid this morning for this afternoon
    assert kinds("reminder_24h") == []
    reminders_send(now=START - timedelta(hours=1))
    assert len(kinds("reminder_2h")) == 2
