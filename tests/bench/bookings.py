"""Booking creation under concurrency, in-process against the bench database (PostgreSQL):

* different slots: 20 customers at once, each requesting 3 bookings with different companions;
  prints bookings per second and the p50/p95 latency of `booking_request`;
* same-slot hammer: 20 customers request the same companion's same start at once; prints how many
  won (must be exactly 1) and how the others were refused.

Every booking made here is deleted afterwards, so the bench database stays as seeded.
"""

import statistics
import threading
import time
from datetime import timedelta

from tests.bench.load import percentile

THREADS = 20
BOOKINGS_PER_CUSTOMER = 3
CUSTOMER_DOMAIN = "customers.bench.kompanion.test"


def _customers(count: int):
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User

    password = make_password(None)
    customers = []
    for index in range(count):
        user, _ = User.objects.get_or_create(
            email=f"customer{index:02d}@{CUSTOMER_DOMAIN}",
            defaults={"full_name": f"Bench Customer {index}", "role": Role.CUSTOMER, "password": password},
        )
        customers.append(user)
    return customers


def _plan(profiles, *, hours: int, now) -> list[tuple]:
    """(profile, start) for every customer's k-th booking, k = 0..2, each in its own two-day window (a
    customer's bookings never overlap), every profile used once; found with the service's own engine.
    The last entry is for the same-slot hammer."""
    from companions import selectors

    pool = iter(profiles)
    plan = []
    windows = [now + timedelta(days=2 + 2 * k) for k in range(BOOKINGS_PER_CUSTOMER)] * THREADS + [now]
    for window in windows:
        window = window if window != now else now + timedelta(days=2)
        for profile in pool:
            starts = selectors.free_start_times(
                profile, start=window, end=window + timedelta(days=1), hours=hours, now=now
            )
            if starts:
                plan.append((profile, starts[0]))
                break
    return plan


def _run_threads(work) -> float:
    from django.db import connections

    barrier = threading.Barrier(THREADS)

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(index)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return time.perf_counter() - started


def run() -> bool:
    """Prints the figures; returns False only if the benchmark itself broke (not on slow figures)."""
    from django.db.models import Count
    from django.utils import timezone

    from bookings import services
    from bookings.errors import BookingBusy, SlotTaken
    from bookings.models import Booking
    from companions.models import CompanionProfile

    now = timezone.now()
    customers = _customers(THREADS)
    Booking.objects.filter(customer__in=customers).delete()  # leftovers of an interrupted run
    candidates = list(
        CompanionProfile.objects.filter(is_listed=True, min_hours__lte=2, max_hours__gte=2)
        .annotate(activity_count=Count("activities"))
        .filter(activity_count__gt=0)
        .prefetch_related("weekly_hours", "time_off", "activities")
        .order_by("pk")[: THREADS * BOOKINGS_PER_CUSTOMER * 2]
    )
    slots = _plan(candidates, hours=2, now=now)
    if len(slots) < THREADS * BOOKINGS_PER_CUSTOMER + 1:
        print(f"bench: bookings: only {len(slots)} companions with a free 2-hour slot; skipped")
        return False

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def book_different(index: int) -> None:
        customer = customers[index]
        for offset in range(BOOKINGS_PER_CUSTOMER):
            profile, start = slots[index * BOOKINGS_PER_CUSTOMER + offset]
            began = time.perf_counter()
            try:
                services.booking_request(
                    customer=customer,
                    profile=profile,
                    start=start,
                    hours=2,
                    activity=profile.activities.all()[0],
                    meeting_place="Bench café, ground floor",
                )
            except Exception as error:  # noqa: BLE001 - reported, never hidden
                with lock:
                    failures.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    elapsed = _run_threads(book_different)
    made = len(latencies)

    hammer_profile, hammer_start = slots[-1]
    outcomes: dict[str, int] = {}

    def hammer(index: int) -> None:
        try:
            services.booking_request(
                customer=customers[index],
                profile=hammer_profile,
                start=hammer_start,
                hours=2,
                activity=hammer_profile.activities.all()[0],
                meeting_place="Bench café, ground floor",
            )
            outcome = "won"
        except SlotTaken:
            outcome = "SlotTaken"
        except BookingBusy:
            outcome = "BookingBusy"
        except Exception as error:  # noqa: BLE001 - reported
            outcome = f"{type(error).__name__}"
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    # The hammer's customers must have room for one more open request: clear the first round.
    Booking.objects.filter(customer__in=customers).delete()
    hammer_elapsed = _run_threads(hammer)
    winners = Booking.objects.filter(companion=hammer_profile, start=hammer_start).count()
    Booking.objects.filter(customer__in=customers).delete()

    print("\n[bookings: booking_request on PostgreSQL, in-process, 20 threads with their own connections]")
    if latencies:
        print(
            f"different slots: {made} bookings in {elapsed:.2f} s = {made / elapsed:.1f} bookings/s; "
            f"latency p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms; "
            f"{len(failures)} failed"
        )
    for failure in failures[:5]:
        print(f"  failed: {failure}")
    print(
        f"same-slot hammer: {THREADS} requests in {hammer_elapsed:.2f} s -> {winners} booking(s) in the database; "
        f"outcomes {dict(sorted(outcomes.items()))}"
        + (" (exactly one winner)" if winners == 1 and outcomes.get("won") == 1 else " (NOT exactly one winner!)")
    )
    return not failures and winners == 1 and outcomes.get("won") == 1
