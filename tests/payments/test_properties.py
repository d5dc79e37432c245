"""Property-based (hypothesis): random sequences of provider notifications (delivered, duplicated,
lost, out of order), reconciliation runs, refund workers and booking events (cancel, dispute,
resolve, the clock), and a purchase of Kompanion Plus with its own attempts, the daily recognition of its
deferred revenue and a staff refund of its unused part (issue 17). After every step: the ledger balances, no
payment is applied twice, no account goes negative, the booking and its payments agree, and the purchase's
deferred revenue is exactly its price less what was recognised and refunded (nothing when unpaid)."""

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services as booking_services
from bookings.errors import BookingError
from bookings.models import Booking, BookingEvent, BookingStatus
from notifications.models import Notification
from payments import ledger, services
from payments.errors import PaymentError
from payments.gateways.simulator import notification_for
from payments.models import Journal, Payment, PaymentNotification, Refund, SimulatorTransaction
from products import services as product_services
from products.models import Package, Purchase
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request

pytestmark = pytest.mark.django_db

PROVIDER_STATUSES = ["pending", "settlement", "expire", "deny", "cancel", "capture", "refund"]
METHODS = ["qris", "bank_transfer"]

provider_says = st.tuples(
    st.just("provider"),
    st.integers(0, 1),  # booking
    st.integers(0, 1),  # attempt
    st.sampled_from(PROVIDER_STATUSES),
    st.sampled_from(METHODS),
    st.booleans(),  # delivered (False: the webhook is lost; only reconciliation can learn of it)
)
redeliver = st.tuples(st.just("redeliver"), st.integers(0, 30))  # a duplicate, or an old status late
operation = st.one_of(
    provider_says,
    provider_says,
    provider_says,  # (weights: what the provider says matters most)
    redeliver,
    redeliver,
    st.tuples(st.just("reconcile")),
    st.tuples(st.just("refund_worker")),
    st.tuples(st.just("cancel"), st.integers(0, 1), st.sampled_from(["customer", "companion"])),
    st.tuples(st.just("dispute"), st.integers(0, 1)),
    st.tuples(st.just("resolve"), st.integers(0, 1), st.sampled_from(["release", "full_refund", "partial_refund"])),
    st.tuples(st.just("tick"), st.integers(1, 60 * 30)),  # minutes
    # the purchase: what the provider says about one of its two attempts, the daily job, a staff refund
    st.tuples(st.just("purchase_provider"), st.integers(0, 1), st.sampled_from(PROVIDER_STATUSES), st.booleans()),
    st.tuples(st.just("recognise")),
    st.tuples(st.just("purchase_refund")),
)


class World:
    """Two requests to a new companion (made outside the example's transaction: requesting uses a
    durable transaction of its own); everything after them happens inside it and is rolled back."""

    def __init__(self, staff):
        self.staff = staff
        self.now = NOW
        self.profile = make_companion()
        self.bookings = [
            request(new_customer(), self.profile, START + timedelta(hours=3 * offset), 2, now=NOW)
            for offset in range(2)
        ]
        self.delivered: list[dict] = []
        package = Package.objects.create(product="plus", name="Plus 30", days=30, price=49_999)
        self.purchase = product_services.purchase_open(buyer=new_customer(), package=package, method="gateway")

    def accept_all(self) -> None:
        for booking in self.bookings:
            booking_services.booking_accept(booking_id=booking.pk, actor=self.profile.user, now=NOW)

    def attempt(self, booking_index: int, attempt_index: int) -> Payment:
        booking = self.bookings[booking_index]
        attempts = list(Payment.objects.filter(booking=booking).order_by("pk"))
        while len(attempts) <= attempt_index:
            attempts.append(services.payment_create(booking=booking, expires_at=booking.payment_deadline))
        return attempts[attempt_index]

    def purchase_attempt(self, attempt_index: int) -> Payment:
        attempts = list(Payment.objects.filter(purchase=self.purchase).order_by("pk"))
        while len(attempts) <= attempt_index:
            attempts.append(
                Payment.objects.create(
                    purchase=self.purchase,
                    order_id=f"{self.purchase.reference}-{len(attempts) + 1}",
                    amount=self.purchase.price,
                    expires_at=self.now + timedelta(hours=1),
                )
            )
        return attempts[attempt_index]

    def deliver(self, body: dict) -> None:
        services.payment_apply_notification(payload=body, raw_body="{}", now=self.now)

    def run(self, op) -> None:
        kind = op[0]
        if kind == "provider":
            _kind, booking_index, attempt_index, status, method, delivered = op
            payment = self.attempt(booking_index, attempt_index)
            record, _created = SimulatorTransaction.objects.get_or_create(
                order_id=payment.order_id,
                defaults={"gross_amount": payment.amount, "expires_at": payment.expires_at or self.now},
            )
            record.transaction_status, record.payment_type = status, record.payment_type or method
            record.save()
            body = notification_for(record)
            if delivered:
                self.deliver(body)
                self.delivered.append(body)
        elif kind == "purchase_provider":
            _kind, attempt_index, status, delivered = op
            payment = self.purchase_attempt(attempt_index)
            record, _created = SimulatorTransaction.objects.get_or_create(
                order_id=payment.order_id, defaults={"gross_amount": payment.amount, "expires_at": payment.expires_at}
            )
            record.transaction_status, record.payment_type = status, record.payment_type or "qris"
            record.save()
            body = notification_for(record)
            if delivered:
                self.deliver(body)
                self.delivered.append(body)
        elif kind == "recognise":
            services.purchases_recognise(now=self.now)
        elif kind == "purchase_refund":
            try:
                services.purchase_refund_unused(purchase_id=self.purchase.pk, actor=self.staff, now=self.now)
            except PaymentError:
                pass  # not paid, or nothing unused: nothing moved (the checks say so)
        elif kind == "redeliver" and self.delivered:
            self.deliver(self.delivered[op[1] % len(self.delivered)])
        elif kind == "reconcile":
            services.payments_reconcile(now=self.now + services.RECONCILE_AFTER)
        elif kind == "refund_worker":
            for refund_id in Refund.objects.filter(status=Refund.Status.PENDING).values_list("pk", flat=True):
                services.refund_process(refund_id=refund_id, now=self.now)
        elif kind == "cancel":
            booking = self.bookings[op[1]]
            actor = booking.customer if op[2] == "customer" else booking.companion.user
            self.attempt_booking_action(
                booking_services.booking_cancel, booking_id=booking.pk, actor=actor, reason="Ada urusan keluarga"
            )
        elif kind == "dispute":
            booking = self.bookings[op[1]]
            self.attempt_booking_action(
                booking_services.booking_dispute,
                booking_id=booking.pk,
                actor=booking.customer,
                reason="Companion did not come at all.",
            )
        elif kind == "resolve":
            booking = self.bookings[op[1]]
            self.attempt_booking_action(
                booking_services.booking_resolve,
                booking_id=booking.pk,
                actor=self.staff,
                decision=op[2],
                refund=booking.total // 3,
            )
        elif kind == "tick":
            self.now += timedelta(minutes=op[1])
            booking_services.bookings_sweep(now=self.now)

    def attempt_booking_action(self, action, **kwargs) -> None:
        """Calls the booking service as a page would (no savepoint of ours around it): a refusal must
        leave the booking (status, deadlines, refund and earnings fields), its payments, refunds, events,
        notifications and the ledger exactly as they were."""
        before = self.snapshot(kwargs["booking_id"])
        try:
            action(now=self.now, **kwargs)
        except BookingError:
            assert self.snapshot(kwargs["booking_id"]) == before

    @staticmethod
    def snapshot(booking_id: int) -> dict:
        return {
            "booking": Booking.objects.filter(pk=booking_id).values().get(),
            "payments": list(Payment.objects.filter(booking_id=booking_id).order_by("pk").values()),
            "refunds": list(Refund.objects.filter(booking_id=booking_id).order_by("pk").values()),
            "events": BookingEvent.objects.filter(booking_id=booking_id).count(),
            "notifications": Notification.objects.count(),
            "journals": Journal.objects.count(),
        }

    def check(self) -> None:
        assert ledger.unbalanced_journals() == []
        assert ledger.check().total == 0
        for key in (ledger.PROVIDER_CLEARING, ledger.REFUNDS_PAYABLE):
            assert ledger.balance(key) >= 0, key
        for payment in Payment.objects.filter(booking__in=self.bookings):
            settled = Journal.objects.filter(reference=f"payment:{payment.order_id}:settled").count()
            money_in = payment.status in (
                Payment.Status.PAID,
                Payment.Status.REFUNDED,
                Payment.Status.PARTIALLY_REFUNDED,
                Payment.Status.CHARGEBACK,
            )
            assert settled == (1 if money_in else 0), payment.order_id
            # Money that arrived never "un-arrives" (a later pending/expire is stale): status and
            # paid_at agree.
            assert money_in == (payment.paid_at is not None), (payment.order_id, payment.status)
            applied_paid = PaymentNotification.objects.filter(
                payment=payment, verdict="applied", transaction_status__in=("settlement", "capture")
            ).count()
            assert applied_paid <= 2  # capture then settlement at most; the money counted once (above)
        for booking in Booking.objects.filter(pk__in=[booking.pk for booking in self.bookings]):
            escrow = ledger.balance(ledger.escrow_account(booking.pk))
            placed = booking.payments.filter(paid_at__isnull=False, needs_refund=False)
            assert placed.count() <= 1, booking.reference  # one payment confirms a booking, others go back
            assert escrow >= 0
            if booking.status in (BookingStatus.CONFIRMED, BookingStatus.DISPUTED):
                assert placed.count() == 1 and escrow == booking.total, booking.reference
                assert placed.get().status == Payment.Status.PAID
            else:
                assert escrow == 0, (booking.reference, booking.status, escrow)
            if booking.status in (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, BookingStatus.EXPIRED):
                assert not placed.exists()
            refunds = sum(booking.refunds.values_list("amount", flat=True))
            paid_in = sum(booking.payments.filter(paid_at__isnull=False).values_list("amount", flat=True))
            assert refunds <= paid_in
        purchase = Purchase.objects.get(pk=self.purchase.pk)
        placed = Payment.objects.filter(purchase=purchase, paid_at__isnull=False, needs_refund=False)
        assert placed.count() == (0 if purchase.status in ("open", "cancelled") else 1), purchase.status
        deferred = ledger.balance(ledger.deferred_account(purchase.pk))
        if purchase.status in ("paid", "refunded"):
            assert deferred == purchase.price - purchase.recognised - purchase.refunded
            assert 0 <= purchase.recognised + purchase.refunded <= purchase.price
        else:
            assert deferred == 0 and purchase.recognised == purchase.refunded == 0


# The number of examples comes from the hypothesis profile (tests/conftest.py): the full count in CI.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_money_invariants_hold_for_any_sequence(staff, operations):
    world = World(staff)
    with transaction.atomic():
        world.accept_all()
        for op in operations:
            world.run(op)
            world.check()
        transaction.set_rollback(True)
