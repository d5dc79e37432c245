"""Demo bookings for `make run`: a request waiting for Ayu's answer, a paid booking with Bima and one
with Bima last week (completed, so he has earnings to pay out), and months of past bookings for two
companions (HISTORY), so the daily level job finds figures that earn a level. Made through the real
services so every page has something to show. Idempotent.

Paying is payments' business, above bookings: the seed command (web) passes `pay`, e.g. payments.demo.demo_pay."""

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.demo import HISTORY_CUSTOMERS
from accounts.models import User
from bookings import services
from bookings.models import Booking, BookingStatus
from companions import selectors
from companions.models import CompanionProfile

Pay = Callable[..., object]  # pay(booking, now=None): pays like a customer on the checkout page


def _first_free_start(profile: CompanionProfile, *, hours: int, days_ahead: int):
    now = timezone.now()
    start = now + timedelta(days=days_ahead)
    profile = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
    starts = selectors.free_start_times(profile, start=start, end=start + timedelta(days=7), hours=hours, now=now)
    return starts[0] if starts else None


def seed_bookings(*, pay: Pay) -> int:
    """Skips a plan while its booking still holds time, so a later `make run` (after the demo request
    expired unanswered) makes a fresh one."""
    now = timezone.now()
    created = 0
    plans = [
        ("sinta@kompanion.test", "ayu", False),  # waits for Ayu's answer
        ("budi@kompanion.test", "bima", True),  # accepted and paid
    ]
    for customer_email, companion_name, confirm in plans:
        customer = User.objects.get(email=customer_email)
        profile = CompanionProfile.objects.filter(slug__startswith=companion_name, is_listed=True).first()
        if profile is None:
            continue
        if Booking.objects.filter(customer=customer, companion=profile).holding(now).exists():
            continue
        hours = profile.min_hours
        start = _first_free_start(profile, hours=hours, days_ahead=2)
        if start is None:
            continue
        booking = services.booking_request(
            customer=customer,
            profile=profile,
            start=start,
            hours=hours,
            activity=profile.activities.first(),
            meeting_place="Kopi Tuku, Grand Indonesia, lantai 3",
            note="Demo: teman ngobrol sambil ngopi.",
        )
        if confirm:
            services.booking_accept(booking_id=booking.pk, actor=profile.user)
            pay(booking)
        created += 1
    created += _seed_past_booking(pay=pay)
    return created


def _seed_past_booking(*, pay: Pay) -> int:
    """Budi met Bima last week: paid, completed, so Bima has earnings available to pay out."""
    customer = User.objects.get(email="budi@kompanion.test")
    profile = CompanionProfile.objects.filter(slug__startswith="bima", is_listed=True).first()
    if profile is None or Booking.objects.filter(companion=profile, status=BookingStatus.COMPLETED).exists():
        return 0
    booking = completed_in_the_past(
        customer,
        profile,
        requested=timezone.now() - timedelta(days=12),
        meeting_place="Museum Nasional, lobi utama",
        note="Demo: keliling museum.",
        pay=pay,
    )
    return 0 if booking is None else 1


def completed_in_the_past(
    customer: User, profile: CompanionProfile, *, requested, meeting_place: str, note: str, pay: Pay
) -> Booking | None:
    """A booking requested at `requested` for the companion's first free time within the following week,
    accepted and paid minutes later, and completed by the sweep now (it ended over 24 hours ago without a
    dispute: escrow released). None when the companion had no free time then."""
    booking = paid_in_the_past(customer, profile, requested=requested, meeting_place=meeting_place, note=note, pay=pay)
    if booking is None:
        return None
    services.bookings_sweep()
    booking.refresh_from_db()
    return booking


def paid_in_the_past(
    customer: User, profile: CompanionProfile, *, requested, meeting_place: str, note: str, pay: Pay
) -> Booking | None:
    """A booking requested at `requested` for the companion's first free time within the following week
    that the customer has free too, accepted and paid minutes later: confirmed, left for the clock to
    complete. None when there was no such time."""
    profile = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
    hours = profile.min_hours
    starts = selectors.free_start_times(
        profile, start=requested + timedelta(days=1), end=requested + timedelta(days=6), hours=hours, now=requested
    )
    held = list(Booking.objects.filter(customer=customer).holding(requested).values_list("start", "end"))
    starts = [start for start in starts if not any(s < start + timedelta(hours=hours) and start < e for s, e in held)]
    if not starts:
        return None
    booking = services.booking_request(
        customer=customer,
        profile=profile,
        start=starts[0],
        hours=hours,
        activity=profile.activities.first(),
        meeting_place=meeting_place,
        note=note,
        now=requested,
    )
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=requested + timedelta(minutes=30))
    pay(booking, now=requested + timedelta(minutes=40))
    return booking


# --- History: companions who have worked for months, so the daily job gives them a level ----------------


@dataclass(frozen=True)
class History:
    companion: str  # the start of the profile's slug
    bookings: int  # completed bookings over the last HISTORY_DAYS
    customers: int  # the first so many of accounts.demo.HISTORY_CUSTOMERS, taking turns


# Under the first level policy (migration companions 0007): Jessica's figures reach Gold (25 completed, 12
# customers), Anisa's Silver (10, 5); the ratings come from reviews.demo.HISTORY_STARS.
HISTORY = [History("jessica", bookings=26, customers=13), History("anisa", bookings=11, customers=6)]
HISTORY_DAYS = timedelta(days=230)  # the first request; within the levels' year
HISTORY_LAST = timedelta(days=10)  # the last request: completed (and reviewed) days ago
HISTORY_PLACES = ["Plaza Senayan, pintu utama", "Kota Tua, Museum Fatahillah", "Kopi Kenangan, Blok M"]


def seed_history(*, pay: Pay) -> list[Booking]:
    """The HISTORY companions' past bookings, made in the order they would have happened: each requested,
    accepted and paid at its time, and completed by the clock (bookings_sweep) run at the moment it became
    due, before any later request, so every date is what it would have been. A companion who already has
    bookings by history customers is skipped (idempotent). Returns the new bookings, completed, oldest
    first."""
    now = timezone.now()
    emails = [email for email, _name, _city in HISTORY_CUSTOMERS]
    by_email = {user.email: user for user in User.objects.filter(email__in=emails)}
    customers = [by_email[email] for email in emails if email in by_email]
    if not customers:
        return []
    requests = []
    for plan in HISTORY:
        profile = CompanionProfile.objects.filter(slug__startswith=plan.companion, is_listed=True).first()
        if profile is None or Booking.objects.filter(companion=profile, customer__in=customers).exists():
            continue
        step = (HISTORY_DAYS - HISTORY_LAST) / max(plan.bookings - 1, 1)
        for index in range(plan.bookings):
            customer = customers[index % min(plan.customers, len(customers))]
            requests.append((now - HISTORY_DAYS + index * step, profile.pk, customer, profile))
    requests.sort(key=lambda request: request[:2])
    due: list[datetime] = []  # when the paid bookings complete, a heap
    made = []
    for index, (requested, _pk, customer, profile) in enumerate(requests):
        while due and due[0] <= requested:
            services.bookings_sweep(now=heapq.heappop(due))
        booking = paid_in_the_past(
            customer,
            profile,
            requested=requested,
            meeting_place=HISTORY_PLACES[index % len(HISTORY_PLACES)],
            note="",
            pay=pay,
        )
        if booking is not None:
            heapq.heappush(due, booking.complete_after)
            made.append(booking.pk)
    while due:
        services.bookings_sweep(now=heapq.heappop(due))
    return list(Booking.objects.filter(pk__in=made).select_related("customer", "companion__user").order_by("start"))
