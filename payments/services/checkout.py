"""Checkout: a payment attempt for an accepted booking, and the page where the customer pays.

Two clicks on "pay" are serialised by the booking's row lock (bookings/locks.py): the attempt number is
counted under it, so two checkouts never both take number n, and a second click finds the first one's
attempt (open: reused; still being opened: "try again in a moment")."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings import locks as booking_locks
from bookings import rules as booking_rules
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from payments.errors import PaymentError, PaymentNotAllowed
from payments.gateways import CheckoutRequest, GatewayError, Item, get_gateway
from payments.models import Payment

logger = logging.getLogger(__name__)

# A checkout that closes within this much of now is not worth opening.
MINIMUM_CHECKOUT_TIME = timedelta(minutes=2)
# A checkout being created (the gateway call takes a few seconds at most) blocks a second one.
CHECKOUT_IN_PROGRESS = timedelta(seconds=30)


def _lock_booking(booking_id: int) -> Booking:
    """The booking row, locked: what serialises two checkouts of one booking. settings.BOOKING_LOCKS is
    the test-only switch that shows the race without it (tests/payments/test_concurrent_checkout.py)."""
    if settings.BOOKING_LOCKS:
        return booking_locks.lock_booking(booking_id=booking_id)
    return Booking.objects.select_related("companion", "companion__user", "customer").get(pk=booking_id)


def _next_attempt(booking_id: int) -> int:
    """Call under the booking's lock: the count is then final until the caller commits."""
    return Payment.objects.filter(booking_id=booking_id).count() + 1


def payment_create(*, booking: Booking, expires_at: datetime | None = None) -> Payment:
    """A new attempt for the booking's total, with an order_id Midtrans accepts (≤ 50 characters of
    letters, digits and dashes) that is never reused. Takes the booking's lock (a no-op when the caller
    already holds it) before counting the attempts. Raises BookingBusy when the booking stays locked."""
    with transaction.atomic():
        _lock_booking(booking.pk)
        attempt = _next_attempt(booking.pk)
        return Payment.objects.create(
            booking=booking,
            order_id=f"{booking.reference}-{attempt}",
            amount=booking.total,
            expires_at=expires_at or booking.payment_deadline,
        )


def checkout_items(booking: Booking) -> list[Item]:
    """What Midtrans shows the customer; the lines always sum to the booking's total."""
    items = [
        Item(
            id="companion-time",
            name=_("%(name)s, %(hours)d h") % {"name": booking.companion.display_name[:30], "hours": booking.hours},
            price=booking.hourly_rate,
            quantity=booking.hours,
        ),
        Item(id="service-fee", name=_("Service fee"), price=booking.service_fee),
    ]
    if booking.discount:
        items.append(Item(id="discount", name=_("Discount"), price=-booking.discount))
    return items


def payment_checkout(*, booking_id: int, actor: User, finish_url: str, now: datetime | None = None) -> Payment:
    """Where the customer pays for an accepted booking. An attempt still open is reused (so a second
    click never makes a second charge possible); otherwise a new attempt gets a checkout that closes
    at the booking's payment deadline. Raises PaymentError, or BookingBusy when the booking stays locked."""
    now = now or timezone.now()
    booking_services.booking_apply_deadline(booking_id=booking_id, now=now)
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        if booking.customer_id != actor.pk:
            raise PaymentNotAllowed(_("Only the customer can pay for this booking."))
        if (
            booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
            or booking.payments.filter(status=Payment.Status.PAID).exists()
        ):
            raise PaymentError(_("This booking is already paid."))
        # Who may pay and when is the bookings rule (the page's Pay button asks the same question).
        actions = booking_rules.available_actions(booking, actor, now)
        if booking_rules.Action.PAY not in actions:
            raise PaymentError(actions.reason(booking_rules.Action.PAY))
        if booking.payment_deadline - now < MINIMUM_CHECKOUT_TIME:
            raise PaymentError(_("The time to pay for this booking has passed."))
        if booking.payments.filter(
            status=Payment.Status.CREATED, redirect_url="", created_at__gt=now - CHECKOUT_IN_PROGRESS
        ).exists():
            # Another click is opening the payment page right now: one checkout, never two.
            raise PaymentError(_("Your payment page is being prepared. Please try again in a moment."))
        reusable = (
            booking.payments.filter(
                status__in=(Payment.Status.CREATED, Payment.Status.PENDING), expires_at__gt=now + MINIMUM_CHECKOUT_TIME
            )
            .exclude(redirect_url="")
            .first()
        )
        if reusable is not None:
            return reusable
        payment = payment_create(booking=booking, expires_at=booking.payment_deadline)
        request = CheckoutRequest(
            order_id=payment.order_id,
            amount=payment.amount,
            items=checkout_items(booking),
            customer_name=booking.customer.get_short_name() or booking.customer.email,
            customer_email=booking.customer.email,
            customer_phone=str(booking.customer.phone or ""),
            expires_at=payment.expires_at,
            finish_url=finish_url,
        )
    # The provider is called after the commit, holding no lock: a slow provider never stalls bookings.
    return open_checkout_page(payment, request)


def open_checkout_page(payment: Payment, request: CheckoutRequest) -> Payment:
    """Asks the provider for the payment page of a recorded attempt (call after its commit, holding no lock).
    A refusal marks the attempt failed and raises PaymentError (the payer may try again)."""
    try:
        checkout = get_gateway().create_checkout(request)
    except GatewayError as error:
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.FAILED, checkout_response={"error": str(error), **error.response}
        )
        logger.warning("checkout for %s failed: %s", payment.order_id, error)
        raise PaymentError(_("The payment page could not be opened. Please try again in a moment.")) from error
    Payment.objects.filter(pk=payment.pk).update(redirect_url=checkout.redirect_url, checkout_response=checkout.raw)
    payment.refresh_from_db()
    return payment


def simulator_choose(*, order_id: str, action: str, webhook_url: str) -> bool | None:
    """A button on the dev simulator's checkout page (PAYMENT_GATEWAY=simulator): the simulator changes
    its transaction and notifies our webhook over HTTP, like Midtrans. Returns whether the notification
    was taken (None when the action loses it on purpose, to show reconciliation at work)."""
    from payments.gateways.simulator import ACTIONS, SimulatorGateway

    if settings.PAYMENT_GATEWAY != "simulator" or action not in ACTIONS:
        raise PaymentError(_("Choose one of the buttons."))
    gateway = SimulatorGateway()
    try:
        notification = gateway.act(order_id, action)
    except GatewayError as error:
        raise PaymentError(str(error)) from error
    if action == "pay_silently":
        return None
    return gateway.deliver(notification, webhook_url=webhook_url)
