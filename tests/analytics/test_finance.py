"""The monthly finance statement against the ledger: a hand-checked month (with a journal posted just after
midnight Jakarta time, still the previous month in UTC), the statement equal to the ledger's own sums over
random seeded activity (bookings paid, completed, cancelled by either side with refunds sent or pending,
payouts, a paid product recognised over time), and a corrupted ledger reported, never hidden.

The services stamp a journal with the real time (Journal.created_at defaults to timezone.now) and the ledger is
append-only (a PostgreSQL trigger refuses updates), so each step runs under `posting_at(moment)`: the field's
default clock gives that moment while the step posts, as if it were posted then."""

import dataclasses
import random
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.finance import month_bounds, monthly_statement
from bookings import services as booking_services
from payments import ledger, services
from payments.gateways.simulator import notification_for
from payments.models import Journal, LedgerAccount, Payment, Payout, Refund, SimulatorTransaction
from payments.selectors import companion_balances
from products import services as product_services
from products.models import Package, Purchase
from tests.bookings.helpers import NOW, START, make_companion, new_customer
from tests.payments.helpers import PAID_AT, paid

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
MONTHS = [(2026, 9), (2026, 10), (2026, 11), (2026, 12)]


@contextmanager
def posting_at(when: datetime):
    """Journals created inside stand at `when` (the ledger's clock, not the services' `now=`)."""
    field = Journal._meta.get_field("created_at")
    field._get_default = lambda: when  # shadows Django's cached default (timezone.now) on this field only
    try:
        yield
    finally:
        del field.__dict__["_get_default"]


def cancel(booking, by: str, now=NOW) -> None:
    actor = booking.customer if by == "customer" else booking.companion.user
    booking_services.booking_cancel(booking_id=booking.pk, actor=actor, reason="Ada urusan keluarga", now=now)
    booking.refresh_from_db()


def send_pending_refunds() -> None:
    for refund_id in Refund.objects.filter(status=Refund.Status.PENDING).values_list("pk", flat=True):
        services.refund_process(refund_id=refund_id, now=NOW)


def pay_out(profile, amount, staff) -> None:
    payout = services.payout_request(profile=profile, amount=amount, now=NOW)
    services.payout_approve(payout_id=payout.pk, actor=staff, now=NOW)
    services.payout_mark_paid(payout_id=payout.pk, actor=staff, reference="TRF-1", now=NOW)


def buy_plus(price: int, days: int, now: datetime) -> Purchase:
    """A Kompanion Plus bought online and paid at `now` (the simulator's signed settlement)."""
    package = Package.objects.create(product="plus", name=f"Plus {days}", days=days, price=price)
    purchase = product_services.purchase_open(buyer=new_customer(), package=package, method="gateway", now=now)
    payment = Payment.objects.create(
        purchase=purchase, order_id=f"{purchase.reference}-1", amount=price, expires_at=now + timedelta(hours=1)
    )
    record = SimulatorTransaction.objects.create(
        order_id=payment.order_id,
        gross_amount=price,
        expires_at=payment.expires_at,
        transaction_status="settlement",
        payment_type="qris",
    )
    services.payment_apply_notification(payload=notification_for(record), raw_body="{}", now=now)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    return purchase


def wib(*args) -> datetime:
    return datetime(*args, tzinfo=WIB)


def test_a_hand_checked_month(staff):
    profile = make_companion()  # Rp 150.000/h: 2 h = 300.000 + 10% service fee = 330.000; earns 240.000
    services.bank_account_save(profile=profile, bank="bca", account_number="0123456789", holder_name="Ayu Lestari")

    with posting_at(wib(2026, 10, 31, 23, 30)):  # paid in October
        completed, _payment = paid(profile=profile, start=START)
    with posting_at(wib(2026, 11, 1, 0, 30)):  # completed half an hour into November (31 October in UTC)
        booking_services.bookings_sweep(now=completed.complete_after)

    with posting_at(wib(2026, 11, 10, 9)):
        cancelled, _payment = paid(profile=profile, start=START + timedelta(days=1))
    with posting_at(wib(2026, 11, 11, 9)):
        cancel(cancelled, by="companion")  # the customer gets everything back
    with posting_at(wib(2026, 11, 12, 9)):
        send_pending_refunds()

    with posting_at(wib(2026, 11, 20, 9)):
        pay_out(profile, 100_000, staff)

    with posting_at(wib(2026, 11, 30, 23, 59, 59, 999_999)):  # still ahead at the month's last instant
        held, _payment = paid(profile=profile, start=START + timedelta(days=2))

    with posting_at(wib(2026, 11, 5, 9)):
        purchase = buy_plus(30_000, 30, now=NOW)  # Rp 1.000 a day
    with posting_at(wib(2026, 11, 15, 9)):
        assert services.purchases_recognise(now=purchase.starts_at + timedelta(days=10)) == 10_000

    with posting_at(wib(2026, 12, 1, 0, 0)):  # exactly at December's first instant: December
        booking_services.bookings_sweep(now=held.complete_after)

    assert (completed.total, completed.companion_earnings, cancelled.total, held.total) == (
        330_000,
        240_000,
        330_000,
        330_000,
    )
    november = monthly_statement(2026, 11)
    assert november.mismatches == ()
    assert november.revenue_by_kind == {"booking_completed": 90_000, "purchase_recognised": 10_000}
    assert november.revenue_total == 100_000
    assert november.refunds_sent == 330_000
    assert november.companion_earnings == 240_000
    assert november.payouts_paid == 100_000
    assert november.escrow_at_month_end == 330_000  # the booking still ahead
    assert november.deferred_at_month_end == 20_000
    assert november.lines()[:3] == [
        ("revenue:booking_completed", 90_000),
        ("revenue:purchase_recognised", 10_000),
        ("revenue_total", 100_000),
    ]

    october = monthly_statement(2026, 10)
    assert (october.revenue_total, october.companion_earnings, october.escrow_at_month_end) == (0, 0, 330_000)
    assert october.journals == 1 and october.mismatches == ()

    december = monthly_statement(2026, 12)
    assert december.revenue_by_kind == {"booking_completed": 90_000}
    assert (december.escrow_at_month_end, december.deferred_at_month_end) == (0, 20_000)
    assert december.mismatches == ()


def test_a_month_is_jakarta_time():
    assert month_bounds(2026, 12) == (wib(2026, 12, 1), wib(2027, 1, 1))
    assert month_bounds(2026, 11)[0].astimezone(ZoneInfo("UTC")) == datetime(2026, 10, 31, 17, tzinfo=ZoneInfo("UTC"))
    with pytest.raises(ValueError):
        month_bounds(2026, 13)


def test_a_statement_that_disagrees_with_the_ledger_lists_each_difference():
    with posting_at(wib(2026, 11, 10, 9)):
        paid()
    statement = monthly_statement(2026, 11)
    assert statement.mismatches == () and statement.balanced
    assert statement.escrow_at_month_end == 330_000
    # The same statement with figures that are not the ledger's (as a bug in the SQL would give): check()
    # recomputes from the entries and names each difference.
    wrong = dataclasses.replace(statement, escrow_at_month_end=300_000, revenue_by_kind={"booking_completed": 1})
    assert wrong.check() == [
        "revenue_total: statement 1 ≠ ledger 0",
        "escrow_at_month_end: statement 300000 ≠ ledger 330000",
        "revenue:booking_completed: statement 1 ≠ ledger 0",
        "escrow: opening 0 + moved 330000 ≠ month end 300000",
    ]


def test_revenue_of_an_unforeseen_kind_is_shown_under_its_own_name():
    with posting_at(wib(2026, 11, 10, 9)):
        ledger.transfer(
            reference="adjustment:1",
            kind="manual_adjustment",
            debit=ledger.BANK,
            credit=ledger.PLATFORM_REVENUE,
            amount=12_345,
        )
    statement = monthly_statement(2026, 11)
    assert statement.revenue_by_kind == {"manual_adjustment": 12_345}
    assert statement.mismatches == ()


# --- property-style: the statement equals the ledger's sums over random seeded activity -----------------------


class Clock:
    """Posting moments in order from 1 September 2026 (Jakarta) on, a few days apart, a quarter of them on a
    month's edge (its first instant, or the last instant before it)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.moment = month_bounds(*MONTHS[0])[0]
        self.last = month_bounds(*MONTHS[-1])[1] - timedelta(microseconds=1)

    def step(self):
        local = self.moment.astimezone(WIB)
        edge = month_bounds(local.year, local.month)[1]
        if self.rng.random() < 0.25:
            moment = self.rng.choice([edge, edge - timedelta(microseconds=1)])
        else:
            moment = self.moment + timedelta(days=self.rng.uniform(0, 12))
        self.moment = min(max(moment, self.moment), self.last)
        return posting_at(self.moment)


def random_activity(rng: random.Random, staff) -> None:
    """A companion's months: bookings left unpaid, paid and held, completed, cancelled by either side, disputed
    and resolved (some refunds sent, some still pending), payouts, and a Plus purchase recognised part of the
    way; each step posted at the next moment of the clock."""
    clock = Clock(rng)
    profile = make_companion()
    services.bank_account_save(profile=profile, bank="bca", account_number="0123456789", holder_name="Ayu Lestari")
    outcomes = sorted(
        (
            rng.choice(["complete", "complete", "cancel_customer", "cancel_companion", "resolve", "hold", "unpaid"])
            for _ in range(5)
        ),
        key=lambda outcome: outcome != "complete",  # the completed ones first, so a sweep completes only them
    )
    bookings = []
    for day, outcome in enumerate(outcomes):
        if outcome == "unpaid":
            continue
        with clock.step():
            booking, _payment = paid(profile=profile, start=START + timedelta(days=day), hours=rng.randint(1, 4))
        bookings.append((booking, outcome))
    for booking, outcome in bookings:
        if outcome.startswith("cancel"):
            with clock.step():
                # Early (all back) or late (the customer's cancellation leaves a part to the companion and us).
                late = booking.start - timedelta(hours=rng.choice([2, 20]))
                cancel(booking, by=outcome.removeprefix("cancel_"), now=rng.choice([NOW, late]))
    for booking, outcome in bookings:
        if outcome == "resolve":  # the customer disputes after the meeting; staff decide
            with clock.step():
                booking_services.booking_dispute(
                    booking_id=booking.pk,
                    actor=booking.customer,
                    reason="Companion did not come at all.",
                    now=booking.end + timedelta(hours=1),
                )
            with clock.step():
                booking_services.booking_resolve(
                    booking_id=booking.pk,
                    actor=staff,
                    decision=rng.choice(["release", "full_refund", "partial_refund"]),
                    refund=booking.total // 3,
                    now=booking.end + timedelta(hours=2),
                )
    if rng.random() < 0.7:
        with clock.step():
            send_pending_refunds()
    completing = [booking for booking, outcome in bookings if outcome == "complete"]
    if completing:
        with clock.step():
            booking_services.bookings_sweep(now=max(booking.complete_after for booking in completing))
        for _ in range(rng.randint(0, 2)):
            available = companion_balances(profile)["available"]
            if available >= 50_000:
                with clock.step():
                    pay_out(profile, rng.randint(50_000, available), staff)
    if rng.random() < 0.6:
        with clock.step():
            purchase = buy_plus(rng.randint(10_000, 90_000), rng.choice([7, 30]), now=PAID_AT)
        for _ in range(rng.randint(1, 3)):
            with clock.step():
                services.purchases_recognise(now=purchase.starts_at + timedelta(days=rng.randint(1, 40)))


def ledger_sums(year: int, month: int) -> dict:
    """The ledger's sums for the month, journal by journal through the ledger's own rows (the test's oracle)."""
    start, end = month_bounds(year, month)
    revenue: dict[str, int] = defaultdict(int)
    sums = {"refunds_sent": 0, "companion_earnings": 0, "payouts_paid": 0, "escrow": 0, "deferred": 0}
    for journal in Journal.objects.filter(created_at__lt=end).prefetch_related("entries__account"):
        for entry in journal.entries.all():
            key = entry.account.key
            if key.startswith("escrow:booking:"):
                sums["escrow"] -= entry.amount
            if key.startswith("deferred:purchase:"):
                sums["deferred"] -= entry.amount
            if journal.created_at < start:
                continue
            if key == "platform_revenue":
                revenue[journal.kind] -= entry.amount
            if key == "refunds_payable" and journal.kind == "refund_sent":
                sums["refunds_sent"] += entry.amount
            if key.startswith("companion_payable:") and journal.kind in (
                "booking_completed",
                "booking_cancelled",
                "booking_resolved",
            ):
                sums["companion_earnings"] -= entry.amount
            if key.startswith("companion_payable:") and journal.kind == "payout_paid":
                sums["payouts_paid"] += entry.amount
    return {"revenue": {kind: amount for kind, amount in revenue.items() if amount}, **sums}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_the_statement_equals_the_ledgers_sums_over_random_activity(seed, staff):
    random_activity(random.Random(seed), staff)
    statements = [monthly_statement(*month) for month in MONTHS]
    for month, statement in zip(MONTHS, statements, strict=True):
        expected = ledger_sums(*month)
        assert statement.mismatches == (), month
        assert {kind: amount for kind, amount in statement.revenue_by_kind.items() if amount} == expected["revenue"]
        assert (
            statement.refunds_sent,
            statement.companion_earnings,
            statement.payouts_paid,
            statement.escrow_at_month_end,
            statement.deferred_at_month_end,
        ) == (
            expected["refunds_sent"],
            expected["companion_earnings"],
            expected["payouts_paid"],
            expected["escrow"],
            expected["deferred"],
        ), month
    # The months partition the ledger: together they give its balances and the payments' own rows.
    accounts = LedgerAccount.objects.values_list("key", flat=True)
    assert sum(statement.revenue_total for statement in statements) == ledger.balance(ledger.PLATFORM_REVENUE)
    assert statements[-1].escrow_at_month_end == sum(
        ledger.balance(key) for key in accounts if key.startswith("escrow:")
    )
    assert statements[-1].deferred_at_month_end == sum(
        ledger.balance(key) for key in accounts if key.startswith("deferred:")
    )
    payable = sum(ledger.balance(key) for key in accounts if key.startswith("companion_payable:"))
    assert sum(s.companion_earnings for s in statements) - sum(s.payouts_paid for s in statements) == payable
    assert sum(s.payouts_paid for s in statements) == sum(
        Payout.objects.filter(status=Payout.Status.PAID).values_list("amount", flat=True)
    )
    assert sum(s.refunds_sent for s in statements) == sum(
        Refund.objects.filter(status=Refund.Status.SUCCEEDED).values_list("amount", flat=True)
    )
    assert sum(s.journals for s in statements) == Journal.objects.count()
