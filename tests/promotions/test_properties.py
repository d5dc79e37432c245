"""Property-based (hypothesis): random promotions (percentages with and without a cap, fixed amounts of
any size, budgets, use limits, the welcome discount) and referral rewards (vouchers for two regular
customers, commission cuts for the companions, issued through promotions/referrals.py) on random bookings
that go through every path (request, accept, pay, a duplicate settlement notification, cancel by either
party at any time, the clock that expires and completes them, the refund worker). After every step:
- every snapshot obeys the money rule: the companion's earnings are subtotal - commission (what they would
  earn without a discount), the discount never exceeds fee + commission, the total never goes below the
  minimum charge;
- each booking's discount is its redemption's (a code, a voucher or the welcome discount) plus its Kompanion Plus
  part (products.MemberSaving: one regular customer is a Plus member, whose part is half the service fee at
  most, taken first);
- each redemption's status follows its booking's (reserved while open, consumed once paid, released when it
  ended unpaid or fully refunded), and each code's counters equal its reserved and consumed redemptions,
  within its limits; a voucher follows its redemption (reserved, used, or available again);
- every journal balances, each companion's payable balance is exactly what they would have earned without
  any discount, and the platform's revenue is fee + commission - discount of each completed booking plus
  what cancellations left it.

As in tests/payments/test_level_properties.py, requests run in durable transactions, so each example makes
its own companions, customers and codes and scopes its checks to them."""

import itertools
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookings import policy
from bookings import services as booking_services
from bookings.errors import BookingError
from bookings.models import Booking, BookingStatus
from core.money import percent_of
from payments import ledger, services
from payments.gateways.simulator import notification_for
from payments.models import Entry, Refund, SimulatorTransaction
from products.models import MemberSaving
from promotions import referrals
from promotions.models import Promotion, Redemption, Referral, Voucher
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import settle_by_simulator
from tests.products.plus_helpers import plus_member

pytestmark = pytest.mark.django_db

S = BookingStatus
HOURLY_RATES = (150_000, 87_500, 25_000)
CANCEL_REASON = "Ada urusan keluarga mendadak"
_serial = itertools.count()

promotion_spec = st.one_of(
    st.tuples(st.just("percent"), st.integers(1, 10_000), st.sampled_from([0, 5_000, 30_000, 200_000])),
    st.tuples(st.just("fixed"), st.just(0), st.integers(1, 600_000)),
)
limits = st.tuples(st.one_of(st.none(), st.integers(0, 4)), st.one_of(st.none(), st.integers(0, 300_000)))
booking_index = st.integers(0, 30)
operation = st.one_of(
    # companion, hours, which code (-1: none, the welcome discount), how far it goes at once
    st.tuples(
        st.just("request"),
        st.integers(0, len(HOURLY_RATES) - 1),
        st.integers(1, 4),
        st.integers(-1, 2),
        st.sampled_from(["request", "accept", "pay"]),
    ),
    st.tuples(st.just("accept"), booking_index),
    st.tuples(st.just("pay"), booking_index),
    st.tuples(st.just("duplicate"), booking_index),
    st.tuples(st.just("cancel"), booking_index, st.sampled_from(["customer", "companion"])),
    st.tuples(st.just("withdraw"), booking_index),
    st.tuples(st.just("tick"), st.integers(1, 600)),
    st.tuples(st.just("until"), booking_index, st.sampled_from(["start-12h", "start-1h", "completes"])),
    st.tuples(st.just("refund_worker")),
    # a referral reward: a voucher for a regular customer, or a commission cut for a companion
    st.tuples(st.just("reward"), st.sampled_from(["voucher", "cut"]), st.integers(0, 2), st.integers(1, 200_000)),
    # a request by a regular customer (who may hold vouchers), with or without a code
    st.tuples(st.just("regular"), st.integers(0, 1), st.integers(0, len(HOURLY_RATES) - 1), st.integers(-1, 2)),
)


class World:
    def __init__(self, specs, welcome: int):
        self.now = NOW
        self.companions = [make_companion(rate=rate) for rate in HOURLY_RATES]
        for profile in self.companions:
            services.bank_account_save(profile=profile, bank="bca", account_number="0123456789", holder_name="Ayu")
        self.codes = []
        for (kind, basis_points, amount), (total_uses, budget) in specs:
            self.codes.append(
                Promotion.objects.create(
                    code=f"PROP{next(_serial)}",
                    kind=kind,
                    basis_points=basis_points,
                    amount=amount,
                    total_uses=total_uses,
                    budget=budget,
                )
            )
        self.welcome = welcome
        self.regulars = [new_customer(), new_customer()]
        # Half the service fee, stacking with the rest; a customer cancellation gets everything back until 12 h
        # before the start for a booking requested or cancelled within the pass.
        self.plus = plus_member(self.regulars[1], at=NOW - timedelta(days=1))
        for person in [*self.regulars, *(profile.user for profile in self.companions)]:
            person.phone_verified_at = NOW - timedelta(days=1)
            person.save(update_fields=["phone_verified_at"])
        self.next_day = [0] * len(self.companions)
        self.made: list[int] = []
        self.revenue_before = ledger.balance(ledger.PLATFORM_REVENUE)

    def next_start(self, companion: int):
        day = self.next_day[companion]
        while START + timedelta(days=day) < self.now + timedelta(hours=4):
            day += 1
        self.next_day[companion] = day + 1
        return START + timedelta(days=day)

    def booking(self, index: int) -> Booking | None:
        if not self.made:
            return None
        return Booking.objects.select_related("customer", "companion__user").get(pk=self.made[index % len(self.made)])

    def run(self, op) -> None:
        kind = op[0]
        booking = self.booking(op[1]) if kind in ("accept", "pay", "duplicate", "cancel", "withdraw", "until") else None
        try:
            if kind == "request":
                self.request(*op[1:])
            elif kind == "accept" and booking:
                booking_services.booking_accept(booking_id=booking.pk, actor=booking.companion.user, now=self.now)
            elif kind == "pay" and booking:
                self.pay(booking)
            elif kind == "duplicate" and booking:
                self.duplicate(booking)
            elif kind == "cancel" and booking:
                actor = booking.customer if op[2] == "customer" else booking.companion.user
                booking_services.booking_cancel(booking_id=booking.pk, actor=actor, reason=CANCEL_REASON, now=self.now)
            elif kind == "withdraw" and booking:
                booking_services.booking_withdraw(booking_id=booking.pk, actor=booking.customer, now=self.now)
            elif kind == "tick":
                self.tick(self.now + timedelta(minutes=op[1]))
            elif kind == "until" and booking:
                point = {
                    "start-12h": booking.start - timedelta(hours=12),
                    "start-1h": booking.start - timedelta(hours=1),
                    "completes": booking.complete_after,
                }[op[2]]
                self.tick(max(point, self.now))
            elif kind == "reward":
                self.reward(*op[1:])
            elif kind == "regular":
                _kind, who, companion, code = op
                code_text = self.codes[code].code if 0 <= code < len(self.codes) else ""
                booking = request(
                    self.regulars[who],
                    self.companions[companion],
                    self.next_start(companion),
                    2,
                    now=self.now,
                    promo_code=code_text,
                )
                self.made.append(booking.pk)
            elif kind == "refund_worker":
                for refund_id in Refund.objects.filter(
                    booking_id__in=self.made, status=Refund.Status.PENDING
                ).values_list("pk", flat=True):
                    services.refund_process(refund_id=refund_id, now=self.now)
        except BookingError:
            pass  # not allowed now (or the code does not apply): nothing moved, the checks say so

    def tick(self, now) -> None:
        self.now = now
        for booking_id in Booking.objects.filter(pk__in=self.made).due(now).values_list("pk", flat=True):
            booking_services.booking_apply_deadline(booking_id=booking_id, now=now)

    def request(self, companion: int, hours: int, code: int, how_far: str) -> None:
        profile = self.companions[companion]
        hours = max(profile.min_hours, min(hours, profile.max_hours))
        code_text = self.codes[code].code.lower() if 0 <= code < len(self.codes) else ""
        booking = request(
            new_customer(), profile, self.next_start(companion), hours, now=self.now, promo_code=code_text
        )
        self.made.append(booking.pk)
        if how_far in ("accept", "pay"):
            booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=self.now)
        if how_far == "pay":
            self.pay(booking)

    def reward(self, kind: str, who: int, amount: int) -> None:
        """A friend of a regular customer (voucher) or of a companion (cut) qualifies now: the reward is
        issued by the real service (qualifying itself is tested in test_referrals.py)."""
        referrer = self.regulars[who % 2] if kind == "voucher" else self.companions[who].user
        friend = new_customer()
        friend.phone_verified_at = self.now
        friend.save(update_fields=["phone_verified_at"])
        code = referrals.referral_code_for(referrer).code
        referral = referrals.referral_capture(user=friend, code=code, address="", now=self.now)
        Referral.objects.filter(pk=referral.pk).update(qualified_at=self.now)
        with override_settings(REFERRAL_VOUCHER_AMOUNT=amount, REFERRAL_COMMISSION_CUT_BASIS_POINTS=amount % 2_000 + 1):
            referrals.referral_reward_try(referral_id=referral.pk, now=self.now)

    def pay(self, booking: Booking) -> None:
        self.tick(self.now + timedelta(minutes=1))
        booking.refresh_from_db()
        if booking.status != S.AWAITING_PAYMENT:
            return
        settle_by_simulator(booking, now=self.now)

    def duplicate(self, booking: Booking) -> None:
        """The provider repeats a settlement notification it already sent."""
        record = SimulatorTransaction.objects.filter(order_id__in=booking.payments.values("order_id")).first()
        if record is not None:
            services.payment_apply_notification(payload=notification_for(record), raw_body="{}", now=self.now)

    # --- the invariants ----------------------------------------------------------------------------------

    def check(self) -> None:
        from django.conf import settings as django_settings

        rows = {row["id"]: row for row in Booking.objects.filter(pk__in=self.made).values()}
        redemptions = {
            r.booking_id: r for r in Redemption.objects.filter(booking_id__in=self.made).select_related("voucher")
        }
        member_parts = dict(MemberSaving.objects.filter(booking_id__in=self.made).values_list("booking_id", "amount"))
        payable = {profile.pk: 0 for profile in self.companions}
        revenue = 0
        for booking_id, row in rows.items():
            # The money rule, on the snapshot.
            assert row["companion_earnings"] == row["subtotal"] - row["commission"]
            assert row["commission"] == percent_of(row["subtotal"], row["commission_basis_points"])
            assert 0 <= row["discount"] <= row["service_fee"] + row["commission"]
            assert row["total"] == row["subtotal"] + row["service_fee"] - row["discount"]
            if row["discount"]:
                assert row["total"] >= django_settings.PROMOTION_MINIMUM_TOTAL
            # The discount is the code/voucher/welcome part plus the member part; the redemption follows the booking.
            redemption = redemptions.get(booking_id)
            member_part = member_parts.get(booking_id, 0)
            assert (redemption.discount if redemption else 0) + member_part == row["discount"]
            assert member_part <= row["service_fee"] // 2
            in_pass = row["customer_id"] == self.plus.buyer_id and (
                self.plus.starts_at <= row["created_at"] < self.plus.ends_at
            )
            assert (member_part > 0) is in_pass
            if redemption is not None:
                status = row["status"]
                if status in (S.REQUESTED, S.AWAITING_PAYMENT):
                    expected = "reserved"
                elif status in (S.DECLINED, S.WITHDRAWN, S.EXPIRED):
                    expected = "released"
                elif status == S.CANCELLED:
                    full = row["paid_at"] is None or row["refund_amount"] >= row["total"]
                    expected = "released" if full else "consumed"
                else:
                    expected = "consumed"
                assert redemption.status == expected, (row["reference"], status, redemption.status)
            if redemption is not None and redemption.voucher_id:
                assert row["customer_id"] == redemption.customer_id == redemption.voucher.owner_id
            if row["paid_at"] is None:
                continue
            if row["status"] == S.COMPLETED:
                payable[row["companion_id"]] += row["subtotal"] - row["commission"]  # as without a discount
                revenue += row["service_fee"] + row["commission"] - row["discount"]
            elif row["status"] == S.CANCELLED:
                notice = policy.FULL_REFUND_NOTICE
                if row["customer_id"] == self.plus.buyer_id and (
                    self.plus.starts_at <= row["created_at"] < self.plus.ends_at
                    or self.plus.starts_at <= row["closed_at"] < self.plus.ends_at
                ):
                    notice = timedelta(hours=12)
                settled = policy.settle_cancellation(
                    total=row["total"],
                    subtotal=row["subtotal"],
                    service_fee=row["service_fee"],
                    commission_basis_points=row["commission_basis_points"],
                    start=row["start"],
                    cancelled_at=row["closed_at"],
                    cancelled_by=row["cancelled_by"],
                    full_refund_notice=notice,
                )
                undiscounted = policy.settle_cancellation(
                    total=row["total"] + row["discount"],
                    subtotal=row["subtotal"],
                    service_fee=row["service_fee"],
                    commission_basis_points=row["commission_basis_points"],
                    start=row["start"],
                    cancelled_at=row["closed_at"],
                    cancelled_by=row["cancelled_by"],
                    full_refund_notice=notice,
                )
                assert settled.companion_earnings == undiscounted.companion_earnings  # never less for a discount
                assert row["settled_companion_earnings"] == settled.companion_earnings
                payable[row["companion_id"]] += settled.companion_earnings
                revenue += settled.platform_revenue
        for code in Promotion.objects.filter(pk__in=[code.pk for code in self.codes]):
            taken = Redemption.objects.filter(promotion=code, status__in=("reserved", "consumed"))
            assert code.uses_reserved == taken.count()
            assert code.budget_reserved == (taken.aggregate(total=Sum("discount"))["total"] or 0)
            assert code.total_uses is None or code.uses_reserved <= code.total_uses
            assert code.budget is None or code.budget_reserved <= code.budget
        # A voucher is taken by one booking at most, and its status says by which step.
        for voucher in Voucher.objects.filter(owner__in=self.regulars):
            takers = list(
                voucher.redemptions.filter(status__in=("reserved", "consumed")).values_list("status", flat=True)
            )
            assert len(takers) <= 1, (voucher.pk, takers)
            expected = {(): "available", ("reserved",): "reserved", ("consumed",): "used"}[tuple(takers)]
            assert voucher.status in (expected, "revoked"), (voucher.pk, voucher.status, takers)
        for profile_id, owed in payable.items():
            assert ledger.balance(ledger.companion_payable_account(profile_id)) == owed
        assert ledger.balance(ledger.PLATFORM_REVENUE) - self.revenue_before == revenue
        held = dict(
            Entry.objects.filter(account__booking_id__in=self.made)
            .values_list("account__booking_id")
            .annotate(Sum("amount"))
        )
        for booking_id, row in rows.items():
            escrow = -held.get(booking_id, 0)
            assert escrow == (row["total"] if row["status"] in (S.CONFIRMED, S.DISPUTED) else 0), row["reference"]


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    specs=st.lists(st.tuples(promotion_spec, limits), min_size=1, max_size=3),
    welcome=st.sampled_from([0, 1500, 10_000]),
    voucher=st.integers(1, 200_000),
    operations=st.lists(operation, min_size=3, max_size=12),
)
def test_discounts_never_cost_the_companion_and_the_ledger_balances(
    settings_fixture, specs, welcome, voucher, operations
):
    settings_fixture.WELCOME_DISCOUNT_BASIS_POINTS = welcome
    world = World(specs, welcome)
    world.run(("request", 0, 2, 0, "pay"))  # a paid booking with the first code, if it applies
    world.run(("request", 1, 3, -1, "request"))  # without a code: the welcome discount, if on
    world.run(("reward", "voucher", 0, voucher))  # regular 0 holds a voucher and takes it at once
    world.run(("regular", 0, 2, -1))
    world.run(("regular", 1, 0, 0))  # the Plus member with the first code: both parts on one booking
    world.run(("reward", "cut", 0, 200))  # the first companion's next requests pay 2 points less
    world.check()
    for op in operations:
        world.run(op)
        world.check()
    assert ledger.unbalanced_journals() == []
    assert ledger.check().total == 0
    if MemberSaving.objects.filter(booking_id__in=world.made).exists():
        event("a booking took the Kompanion Plus part")
    if Redemption.objects.filter(booking_id__in=world.made, source="voucher").exists():
        event("a booking took a referral voucher")
    if Booking.objects.filter(pk__in=world.made, commission_basis_points__lt=2000).exists():
        event("a booking was priced with a commission cut")


@pytest.fixture
def settings_fixture(settings):
    return settings
