"""Demo money for `make run`, through the real services and the simulator: a paid booking, and a
booking that ended last week (paid, completed), so a companion has earnings available to pay out."""

import json

from django.conf import settings
from django.utils import timezone

from bookings.models import Booking
from payments import services
from payments.gateways.simulator import ACTIONS, notification_for
from payments.models import Payment, SimulatorTransaction


def demo_pay(booking: Booking, *, now=None, method: str = "pay_qris") -> Payment:
    """Pays like a customer on the simulator's checkout page; the notification is applied in-process
    (the seed runs without a web server)."""
    now = now or timezone.now()
    payment = services.payment_checkout(
        booking_id=booking.pk, actor=booking.customer, finish_url=f"{settings.SITE_URL}/", now=now
    )
    # What the checkout page's button does, at `now` (which may lie in the past for history).
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    record.transaction_status, record.payment_type = ACTIONS[method]
    record.save(update_fields=["transaction_status", "payment_type"])
    notification = notification_for(record)
    services.payment_apply_notification(payload=notification, raw_body=json.dumps(notification), now=now)
    payment.refresh_from_db()
    return payment
