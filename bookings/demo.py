"""Demo bookings for `make run`: a request waiting for Ayu's answer, a paid booking with Bima and one
with Bima last week (completed, so he has earnings to pay out),
made through the real services so every page has something to show. Idempotent.

Paying is payments' business, above bookings: the seed command (web) passes `pay`, e.g. payments.demo.demo_pay."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

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
    profile = CompanionProfile.objects.prefetch_related("weekly_hours", "time_off").get(pk=profile.pk)
    starts = selectors.free_start_times(
        profile,
        start=requested + timedelta(days=1),
        end=requested + timedelta(days=6),
        hours=profile.min_hours,
        now=requested,
    )
    if not starts:
        return None
    booking = services.booking_request(
        customer=customer,
        profile=profile,
        start=starts[0],
        hours=profile.min_hours,
        activity=profile.activities.first(),
        meeting_place=meeting_place,
        note=note,
        now=requested,
    )
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=requested + timedelta(minutes=30))
    pay(booking, now=requested + timedelta(minutes=40))
    services.bookings_sweep()
    booking.refresh_from_db()
    return booking
