"""Paying in tests: the simulator's checkout, its signed notification, the real service (on the fixed
clock of tests/bookings/helpers.py)."""

from datetime import timedelta

from bookings import services as booking_services
from payments.demo import demo_pay
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request

PAID_AT = NOW + timedelta(minutes=10)


def accepted(profile=None, customer=None, start=START, hours=2):
    profile = profile or make_companion()
    booking = request(customer or new_customer(), profile, start, hours)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    return booking


def paid(method="pay_qris", **kwargs):
    """A confirmed booking paid with `method` (pay_qris: refundable by API; pay_va: manual refund)."""
    booking = accepted(**kwargs)
    payment = demo_pay(booking, now=PAID_AT, method=method)
    booking.refresh_from_db()
    return booking, payment


def accepted_on_the_real_clock(days_ahead: int = 1):
    """For pages and the simulator, which read the real time: accepted now, starting days ahead."""
    from django.utils import timezone

    from companions import selectors

    profile = make_companion()
    now = timezone.now()
    start = selectors.free_start_times(
        profile, start=now + timedelta(days=days_ahead), end=now + timedelta(days=days_ahead + 7), hours=2
    )[0]
    booking = booking_services.booking_request(
        customer=new_customer(),
        profile=profile,
        start=start,
        hours=2,
        activity=profile.activities.first(),
        meeting_place="Kopi Tuku, Grand Indonesia",
    )
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user)
    booking.refresh_from_db()
    return booking


def settle_by_simulator(booking, *, now):
    """The provider says the customer paid: a new checkout and the simulator's signed settlement notification,
    applied by the real service at `now` (the property tests' clock)."""
    from payments import services
    from payments.gateways.simulator import notification_for
    from payments.models import SimulatorTransaction

    payment = services.payment_create(booking=booking, expires_at=booking.payment_deadline)
    record = SimulatorTransaction.objects.create(
        order_id=payment.order_id,
        gross_amount=payment.amount,
        expires_at=payment.expires_at,
        transaction_status="settlement",
        payment_type="qris",
    )
    services.payment_apply_notification(payload=notification_for(record), raw_body="{}", now=now)
