"""Property-based (hypothesis): companion levels and the money flow (issue 13). Random sequences
interleave bookings for two companions (request, accept, pay, cancel by either party, the clock that
completes them, refunds sent, payouts), staff level overrides (companions.levels.level_override) and new
level policies taking effect on the booking clock's day or a few days later.

The test keeps its own model of the level each companion holds and of every policy's commissions. After
every step:
- every booking's commission is the rate of its companion's level under the policy in effect on the day
  (WIB) of its request, and its snapshot is what bookings.pricing.compute_price gives for its figures;
- no snapshot ever changes afterwards (a level or policy change touches new bookings only);
- every journal balances; each booking's escrow holds its total exactly while it is confirmed;
- each companion's payable balance is the earnings of their completed bookings plus what cancellations
  settled to them (by the policy, from the booking's own commission), less the payouts sent;
- platform revenue grew by fee + commission − discount of each completed booking plus what the
  cancellations left to the platform.

Booking requests run in a durable transaction of their own, so an example cannot be rolled back as a
whole (as test_properties.py does): each example makes its own companions and customers, scopes its
checks to them, applies the deadlines of its own bookings only (booking_apply_deadline, not the global
sweep, which would also move the bookings earlier examples left behind), measures platform revenue from
its start, and removes the policies it added when it ends (dates are unique, and every example's clock
starts on the same day)."""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookings import policy
from bookings import services as booking_services
from bookings.errors import BookingError
from bookings.models import Booking, BookingStatus
from bookings.pricing import compute_price
from companions import levels
from companions.models import CompanionProfile, Level, LevelPolicy, LevelRule
from payments import ledger, selectors, services
from payments.models import PAYOUT_MINIMUM, Entry, Payout, Refund
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import settle_by_simulator

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
PRICE_FIELDS = (
    "hourly_rate",
    "hours",
    "subtotal",
    "service_fee",
    "discount",
    "total",
    "commission_basis_points",
    "commission",
    "companion_earnings",
)
# Two companions; at Rp 87.500 an hour the commission is 8.75 Rupiah per basis point and hour, so it rounds.
HOURLY_RATES = (150_000, 87_500)
MAX_OPERATIONS = 12
CANCEL_REASON = "Ada urusan keluarga mendadak"

companion_index = st.integers(0, len(HOURLY_RATES) - 1)
booking_index = st.integers(0, 30)  # modulo the bookings made so far
# A valid policy's commissions (companions.levels.rules_problems): never higher going up the levels.
commissions = st.lists(st.integers(0, 3000), min_size=4, max_size=4).map(lambda bps: sorted(bps, reverse=True))

request_op = st.tuples(
    st.just("request"),
    companion_index,
    st.integers(1, 6),  # hours
    st.sampled_from(["request", "accept", "pay", "pay"]),  # how far it goes at once
)
# A staff override; True: the companion's next booking is requested right after it.
level_op = st.tuples(st.just("level"), companion_index, st.sampled_from(Level.values), st.booleans())
operation = st.one_of(
    request_op,
    request_op,
    request_op,
    level_op,
    level_op,
    # A new policy taking effect on the clock's day or up to 3 days later (as the admin allows).
    st.tuples(st.just("policy"), commissions, st.just(0)),
    st.tuples(st.just("policy"), commissions, st.integers(0, 3)),
    st.tuples(st.just("accept"), booking_index),
    st.tuples(st.just("pay"), booking_index),
    st.tuples(st.just("cancel"), booking_index, st.sampled_from(["customer", "companion"])),
    st.tuples(st.just("tick"), st.integers(1, 120)),  # minutes: the payment and answer windows
    # The clock to a booking's point: the partial-refund and no-refund cancellation tiers, its completion.
    st.tuples(st.just("until"), booking_index, st.sampled_from(["start-12h", "start-1h", "completes"])),
    st.tuples(st.just("until"), booking_index, st.just("completes")),
    st.tuples(st.just("refund_worker")),
    st.tuples(st.just("payout"), companion_index),
)


def day_wib(moment: datetime) -> date:
    """The level day of a moment: Jakarta's (WIB)."""
    return moment.astimezone(WIB).date()


@dataclass(frozen=True)
class Made:
    booking_id: int
    companion: int  # index into World.companions
    price: dict  # the PRICE_FIELDS when it was created


class World:
    def __init__(self, staff):
        self.staff = staff
        self.now = NOW
        self.companions = [make_companion(rate=rate) for rate in HOURLY_RATES]
        for profile in self.companions:
            services.bank_account_save(profile=profile, bank="bca", account_number="0123456789", holder_name="Ayu")
        # The model: each companion's level, and every policy's commissions by its date.
        self.levels = [profile.level for profile in self.companions]
        self.policies: dict[date, dict[str, int]] = {}
        for found in LevelPolicy.objects.prefetch_related("rules"):
            self.policies[found.effective_from] = {
                rule.level: rule.commission_basis_points for rule in found.rules.all()
            }
        template = levels.policy_in_effect(day_wib(self.now))
        self.thresholds = {
            rule.level: {name: getattr(rule, name) for name in (*levels.THRESHOLDS, "max_cancellation_rate")}
            for rule in (template.rules.all() if template else [])
        }
        self.added: list[int] = []  # the policies this example created (removed at its end)
        self.added_on: dict[date, date] = {}  # a policy's date: the day the example added it
        self.next_day = [0] * len(self.companions)
        self.made: list[Made] = []
        self.revenue_before = ledger.balance(ledger.PLATFORM_REVENUE)

    # --- the model ---------------------------------------------------------------------------------------

    def in_effect(self, day: date) -> date | None:
        """The date of the policy in effect on `day`: the latest dated that day or earlier."""
        return max((found for found in self.policies if found <= day), default=None)

    def expected_commission(self, level: str, day: date) -> int:
        """The level's rate under the policy in effect on `day` (none: the setting)."""
        policy_day = self.in_effect(day)
        if policy_day is None:
            return django_settings.BOOKING_COMMISSION_BASIS_POINTS
        return self.policies[policy_day][level]

    def next_start(self, companion: int):
        """One booking a day per companion, 10.00 WIB, at least 4 hours ahead of the clock."""
        day = self.next_day[companion]
        while START + timedelta(days=day) < self.now + timedelta(hours=4):
            day += 1
        self.next_day[companion] = day + 1
        return START + timedelta(days=day)

    def booking(self, index: int) -> Booking | None:
        if not self.made:
            return None
        made = self.made[index % len(self.made)]
        return Booking.objects.select_related("customer", "companion__user").get(pk=made.booking_id)

    # --- the operations ----------------------------------------------------------------------------------

    def run(self, op) -> None:
        kind = op[0]
        if kind == "request":
            self.request(*op[1:])
        elif kind == "level":
            _kind, companion, level, book_after = op
            levels.level_override(
                profile_id=self.companions[companion].pk, level=level, reason="Program duta acara", by=self.staff
            )
            self.levels[companion] = level
            if book_after:
                self.request(companion, 2, "request")
        elif kind == "policy":
            self.add_policy(*op[1:])
        elif kind == "accept" and (booking := self.booking(op[1])):
            self.accept(booking)
        elif kind == "pay" and (booking := self.booking(op[1])):
            self.pay(booking)
        elif kind == "cancel" and (booking := self.booking(op[1])):
            actor = booking.customer if op[2] == "customer" else booking.companion.user
            try:
                booking_services.booking_cancel(booking_id=booking.pk, actor=actor, reason=CANCEL_REASON, now=self.now)
            except BookingError:
                pass  # not allowed now (not paid yet for the customer, started, closed): nothing moved
        elif kind == "tick":
            self.tick(self.now + timedelta(minutes=op[1]))
        elif kind == "until" and (booking := self.booking(op[1])):
            point = {
                "start-12h": booking.start - timedelta(hours=12),
                "start-1h": booking.start - timedelta(hours=1),
                "completes": booking.complete_after,
            }[op[2]]
            self.tick(max(point, self.now))
        elif kind == "refund_worker":
            pending = Refund.objects.filter(
                booking_id__in=[made.booking_id for made in self.made], status=Refund.Status.PENDING
            )
            for refund_id in pending.values_list("pk", flat=True):
                services.refund_process(refund_id=refund_id, now=self.now)
        elif kind == "payout":
            self.payout(self.companions[op[1]])

    def tick(self, now) -> None:
        """The clock moves; this example's bookings whose deadline passed move (bookings_sweep, scoped)."""
        self.now = now
        due = Booking.objects.filter(pk__in=[made.booking_id for made in self.made]).due(now)
        for booking_id in due.values_list("pk", flat=True):
            booking_services.booking_apply_deadline(booking_id=booking_id, now=now)

    def request(self, companion: int, hours: int, how_far: str) -> None:
        profile = CompanionProfile.objects.get(pk=self.companions[companion].pk)  # as the booking page reads it
        booking = request(new_customer(), profile, self.next_start(companion), hours, now=self.now)
        price = {name: getattr(booking, name) for name in PRICE_FIELDS}
        # The policy in effect on the request's own day (the booking's clock, WIB).
        expected = self.expected_commission(self.levels[companion], day_wib(self.now))
        assert price["commission_basis_points"] == expected, (self.levels[companion], price, expected)
        assert price == asdict(
            compute_price(hourly_rate=HOURLY_RATES[companion], hours=hours, commission_basis_points=expected)
        )
        self.made.append(Made(booking.pk, companion, price))
        policy_day = self.in_effect(day_wib(self.now))
        if policy_day in self.added_on and policy_day > self.added_on[policy_day]:
            event("a booking under a policy added before its day came")
        if how_far in ("accept", "pay"):
            self.accept(booking)
        if how_far == "pay":
            self.pay(booking)

    def accept(self, booking: Booking) -> None:
        try:
            booking_services.booking_accept(booking_id=booking.pk, actor=booking.companion.user, now=self.now)
        except BookingError:
            pass  # answered already, or too late

    def pay(self, booking: Booking) -> None:
        """The provider says the customer paid (a minute later): the simulator's signed notification, applied
        by the real service, as in test_properties.py. Only while the booking still awaits its payment."""
        self.tick(self.now + timedelta(minutes=1))
        booking.refresh_from_db()
        if booking.status != BookingStatus.AWAITING_PAYMENT:
            return
        settle_by_simulator(booking, now=self.now)

    def add_policy(self, bps: list[int], days_ahead: int) -> None:
        """Staff's new policy, dated the clock's day or later (the admin refuses earlier dates); written
        directly, as the admin's date check reads the real clock and this test runs on its own. A date
        already taken goes to the next free day."""
        added_on = day_wib(self.now)
        day = added_on + timedelta(days=days_ahead)
        while day in self.policies:
            day += timedelta(days=1)
        rows = [
            {"level": level, "commission_basis_points": bp, **self.thresholds[level]}
            for level, bp in zip(Level.values, bps, strict=True)
        ]
        assert levels.rules_problems(rows) == []  # a policy the admin would accept
        created = LevelPolicy.objects.create(effective_from=day, note="property test", created_by=self.staff)
        LevelRule.objects.bulk_create(LevelRule(policy=created, **row) for row in rows)
        self.added.append(created.pk)
        self.policies[day] = dict(zip(Level.values, bps, strict=True))
        self.added_on[day] = added_on

    def payout(self, profile: CompanionProfile) -> None:
        available = selectors.companion_balances(profile)["available"]
        if available < PAYOUT_MINIMUM:
            return
        payout = services.payout_request(profile=profile, amount=available, now=self.now)
        services.payout_approve(payout_id=payout.pk, actor=self.staff, now=self.now)
        services.payout_mark_paid(payout_id=payout.pk, actor=self.staff, reference=f"BCA-{payout.pk}", now=self.now)

    def remove_policies(self) -> None:
        LevelPolicy.objects.filter(pk__in=self.added).delete()

    # --- the invariants ----------------------------------------------------------------------------------

    def check(self) -> None:
        """After every step; the ledger-wide proofs (every journal, the whole ledger) in check_ledger."""
        profile_ids = [profile.pk for profile in self.companions]
        assert dict(CompanionProfile.objects.filter(pk__in=profile_ids).values_list("pk", "level")) == dict(
            zip(profile_ids, self.levels, strict=True)
        )
        ids = [made.booking_id for made in self.made]
        rows = {row["id"]: row for row in Booking.objects.filter(pk__in=ids).values()}
        escrow = dict(
            Entry.objects.filter(account__booking_id__in=ids).values_list("account__booking_id").annotate(Sum("amount"))
        )
        payable = [0] * len(self.companions)
        revenue = 0
        for made in self.made:
            row = rows[made.booking_id]
            price = made.price
            assert {name: row[name] for name in PRICE_FIELDS} == price, row["reference"]  # frozen
            held = -escrow.get(made.booking_id, 0)  # a liability: credits are negative entries
            if row["status"] in (BookingStatus.CONFIRMED, BookingStatus.DISPUTED):
                assert held == price["total"], (row["reference"], row["status"], held)
            else:
                assert held == 0, (row["reference"], row["status"], held)
            if row["paid_at"] is None:
                continue  # never paid: no money moved for it
            if row["status"] == BookingStatus.COMPLETED:
                payable[made.companion] += price["companion_earnings"]
                revenue += price["service_fee"] + price["commission"] - price["discount"]
            elif row["status"] == BookingStatus.CANCELLED:
                # Settled by the policy from the booking's own snapshot (its commission, not today's).
                settled = policy.settle_cancellation(
                    total=price["total"],
                    subtotal=price["subtotal"],
                    service_fee=price["service_fee"],
                    commission_basis_points=price["commission_basis_points"],
                    start=row["start"],
                    cancelled_at=row["closed_at"],
                    cancelled_by=row["cancelled_by"],
                )
                assert (row["refund_amount"], row["settled_companion_earnings"]) == (
                    settled.refund,
                    settled.companion_earnings,
                ), row["reference"]
                payable[made.companion] += settled.companion_earnings
                revenue += settled.platform_revenue
        paid_out = dict(
            Payout.objects.filter(profile_id__in=profile_ids, status=Payout.Status.PAID)
            .values_list("profile_id")
            .annotate(Sum("amount"))
        )
        accounts = [ledger.companion_payable_account(pk) for pk in profile_ids]
        # Liabilities and revenue: their balance is minus the sum of their entries.
        balances = dict(
            Entry.objects.filter(account__key__in=[*accounts, ledger.PLATFORM_REVENUE])
            .values_list("account__key")
            .annotate(Sum("amount"))
        )
        for index, pk in enumerate(profile_ids):
            owed = -balances.get(accounts[index], 0)
            assert owed == payable[index] - paid_out.get(pk, 0) >= 0, (index, owed, payable[index], paid_out)
        assert -balances.get(ledger.PLATFORM_REVENUE, 0) - self.revenue_before == revenue

    @staticmethod
    def check_ledger() -> None:
        assert ledger.unbalanced_journals() == []
        assert ledger.check().total == 0

    def report(self) -> None:
        """What the example exercised (pytest --hypothesis-show-statistics)."""
        statuses = Booking.objects.filter(pk__in=[made.booking_id for made in self.made]).values_list(
            "status", "paid_at"
        )
        for status, paid_at in statuses:
            event(f"booking {status}{' (paid)' if paid_at and status == BookingStatus.CANCELLED else ''}")
        for companion in range(len(self.companions)):
            rates = {made.price["commission_basis_points"] for made in self.made if made.companion == companion}
            if len(rates) > 1:
                event("a companion's bookings carry different commissions")
        if Payout.objects.filter(profile__in=self.companions, status=Payout.Status.PAID).exists():
            event("payout paid")


# The number of examples comes from the hypothesis profile (tests/conftest.py): the full count in CI.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=3, max_size=MAX_OPERATIONS))
def test_each_booking_keeps_the_commission_of_its_day_and_the_ledger_follows(staff, operations):
    world = World(staff)
    try:
        # Before any level or policy change: a paid booking with the first companion, a request to the second.
        world.request(0, 2, "pay")
        world.request(1, 3, "request")
        for op in operations:
            world.run(op)
            world.check()
        world.check_ledger()
        world.report()
    finally:
        world.remove_policies()
