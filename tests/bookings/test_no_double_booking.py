"""No double booking, ever, on PostgreSQL: twenty customers with twenty connections hammer one
companion at once.

Two layers keep the promise (DESIGN.md section 3): the booking service checks availability under a
row lock on the companion, and an exclusion constraint rejects overlapping holds whatever the code
path. Following pretix, each layer is shown doing the work: with the locks on, exactly one thread ever
sees the slot free; with the locks switched off (settings.BOOKING_LOCKS, a test-only switch) every
thread sees it free, the race really happens, and the constraint alone still leaves one booking."""

import importlib
import threading
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, OperationalError, connections, transaction

from accounts.models import User
from bookings import services
from bookings.errors import BookingBusy, SlotTaken
from bookings.models import Booking, BookingEvent, BookingStatus
from companions import selectors as companion_selectors
from companions.models import Activity, CompanionProfile
from notifications.models import Notification
from tests.bookings.helpers import HOUR, MEETING_PLACE, MINUTE, NOW, START, WIB, make_companion, new_customer, request
from tests.conftest import requires_postgresql

pytestmark = [requires_postgresql, pytest.mark.postgres]

THREADS = 20
JOIN_SECONDS = 60


@dataclass
class Hammer:
    """What the threads saw: one entry per thread, plus how many found the slot free at check time."""

    outcomes: list = field(default_factory=list)
    saw_free: int = 0

    def of(self, kind: str) -> list:
        return [value for outcome, value in self.outcomes if outcome == kind]


NATURAL, STALE_THEN_ONE_BY_ONE, STALE_THEN_TOGETHER = "natural", "stale, one by one", "stale, together"


def hammer(monkeypatch, profile, customers, starts, *, hours=2, race=NATURAL) -> Hammer:
    """Every thread requests starts[i] for customers[i] at the same moment (a barrier), each on its own
    connection. Without the locks, `race` opens the window on purpose (only meaningful then):

    - STALE_THEN_ONE_BY_ONE: every thread waits after its availability check until all have checked
      (so every check is stale), then they write one at a time, each transaction ending before the next
      begins to write: the constraint alone must refuse the 19 late writers, deterministically.
    - STALE_THEN_TOGETHER: the same stale checks, then all twenty insert at once."""
    result = Hammer(outcomes=[None] * len(customers))
    count_lock = threading.Lock()
    start_line = threading.Barrier(len(customers))
    after_check = threading.Barrier(len(customers))
    one_writer = threading.Lock()
    holder = threading.local()
    real_free_start_times = companion_selectors.free_start_times

    def checking(*args, **kwargs):
        free = real_free_start_times(*args, **kwargs)
        if kwargs["start"] in free:
            with count_lock:
                result.saw_free += 1
        if race != NATURAL:
            try:
                after_check.wait(timeout=20)
            except threading.BrokenBarrierError:
                pass  # a thread failed early: let the others finish, the assertions will say why
        if race == STALE_THEN_ONE_BY_ONE:
            # Released by run() once booking_request has returned (its transaction has ended).
            holder.writing = one_writer.acquire(timeout=30)
        return free

    monkeypatch.setattr(companion_selectors, "free_start_times", checking)

    def run(index: int) -> None:
        try:
            customer = User.objects.get(pk=customers[index].pk)  # this thread's own connection
            fresh_profile = CompanionProfile.objects.get(pk=profile.pk)
            activity = Activity.objects.get(slug="hangout")
            start_line.wait(timeout=20)
            try:
                booking = services.booking_request(
                    customer=customer,
                    profile=fresh_profile,
                    start=starts[index],
                    hours=hours,
                    activity=activity,
                    meeting_place=MEETING_PLACE,
                    now=NOW,
                )
                result.outcomes[index] = ("booked", booking.pk)
            except SlotTaken as error:
                result.outcomes[index] = ("taken", error)
            except BookingBusy as error:
                result.outcomes[index] = ("busy", error)
        except BaseException as error:  # noqa: BLE001 - anything else is what this test looks for
            result.outcomes[index] = ("error", error)
        finally:
            if getattr(holder, "writing", False):
                holder.writing = False
                one_writer.release()
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(len(customers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    assert None not in result.outcomes
    return result


def seed_reference_data() -> None:
    """The cities and activities of migration 0002: a transactional test's database is flushed after
    each test, migration rows included (update_or_create, so harmless when they are still there)."""
    importlib.import_module("companions.migrations.0002_seed_reference_data").seed(apps, None)


@pytest.fixture
def crowd(transactional_db, settings):
    # Twenty bookings of one companion queue for its row one after another; on a busy CI machine the
    # last waits longer than the short production lock timeout (300 ms) and would be told "busy, try
    # again". These tests are about who wins and what the losers see, so the wait is not what limits it.
    settings.LOCK_TIMEOUT_MS = 10_000
    seed_reference_data()
    profile = make_companion()
    return profile, [new_customer() for _ in range(THREADS)]


def holds_overlap(first: Booking, second: Booking) -> bool:
    return first.start < second.hold_until and second.start < first.hold_until


@pytest.mark.django_db(transaction=True)
def test_twenty_customers_one_slot_one_booking(monkeypatch, crowd):
    profile, customers = crowd
    result = hammer(monkeypatch, profile, customers, [START] * THREADS)
    assert result.of("error") == []
    assert len(result.of("booked")) == 1
    assert len(result.of("taken")) == THREADS - 1
    assert result.of("busy") == []  # each waits far less than the crowd's 10-second lock timeout
    # The lock serialised the checks: only the winner ever saw the slot free.
    assert result.saw_free == 1
    # Exactly one booking, one creation event, one notification; the losers left nothing behind.
    (booking,) = Booking.objects.all()
    assert booking.pk == result.of("booked")[0] and booking.start == START
    assert BookingEvent.objects.count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_customers_overlapping_slots_never_overlap(monkeypatch, crowd):
    profile, customers = crowd
    # 08:00, 08:30, ... 17:30 WIB, two hours each; with the 30-minute buffer each holds 2.5 h.
    first = datetime(2026, 11, 26, 8, 0, tzinfo=WIB)
    starts = [first + index * 30 * MINUTE for index in range(THREADS)]
    result = hammer(monkeypatch, profile, customers, starts)
    assert result.of("error") == [] and result.of("busy") == []
    winners = list(Booking.objects.order_by("start"))
    assert sorted(booking.pk for booking in winners) == sorted(result.of("booked"))
    assert len(winners) + len(result.of("taken")) == THREADS
    assert all(booking.hold_until == booking.end + 30 * MINUTE for booking in winners)
    for index, booking in enumerate(winners):
        assert all(not holds_overlap(booking, other) for other in winners[index + 1 :])
    # Every loser lost to a real conflict: its span overlaps a winner's.
    for index, (outcome, _value) in enumerate(result.outcomes):
        if outcome == "taken":
            loser = Booking(start=starts[index], hold_until=starts[index] + 2 * HOUR + 30 * MINUTE)
            assert any(holds_overlap(loser, winner) for winner in winners), starts[index]
    # Each winner blocks the starts less than 2.5 h (5 steps) from its own: whatever the order, the
    # winners form a maximal set of 3 (e.g. 10:00, 14:30, 19:00... no: 17:30 is the last) or 4 starts.
    assert 3 <= len(winners) <= 4


@pytest.mark.django_db(transaction=True)
def test_without_the_locks_the_race_happens_and_the_constraint_still_holds(monkeypatch, settings, crowd):
    settings.BOOKING_LOCKS = False
    profile, customers = crowd
    result = hammer(monkeypatch, profile, customers, [START] * THREADS, race=STALE_THEN_ONE_BY_ONE)
    assert result.of("error") == [] and result.of("busy") == []
    # The race really happened: every thread's check found the slot free.
    assert result.saw_free == THREADS
    # And the database alone let exactly one through; every loser was stopped by the constraint.
    assert len(result.of("booked")) == 1
    taken = result.of("taken")
    assert len(taken) == THREADS - 1
    assert all(isinstance(error.__cause__, IntegrityError) for error in taken)
    assert all("bookings_companion_no_overlap" in str(error.__cause__) for error in taken)
    assert Booking.objects.count() == 1
    assert BookingEvent.objects.count() == 1
    assert Notification.objects.count() == 1


def _stopped_by_the_database(result: Hammer) -> None:
    """Without the service's locks, every loser was stopped by PostgreSQL: the exclusion constraint
    (IntegrityError -> SlotTaken) or a deadlock/lock abort inside its check (OperationalError ->
    BookingBusy, "try again"). Never a raw error, never a 500."""
    assert result.of("error") == []
    assert all(isinstance(error.__cause__, IntegrityError) for error in result.of("taken"))
    assert all(isinstance(error.__cause__, OperationalError) for error in result.of("busy"))


@pytest.mark.django_db(transaction=True)
def test_without_the_locks_simultaneous_writes_never_double_book(monkeypatch, settings, crowd):
    """All twenty insert at the same moment. PostgreSQL's exclusion check then waits on the other
    uncommitted inserts and may abort some as deadlocked (40P01): never two bookings, perhaps none
    (those get "try again"). That is why the service locks first: with the locks, exactly one."""
    settings.BOOKING_LOCKS = False
    profile, customers = crowd
    result = hammer(monkeypatch, profile, customers, [START] * THREADS, race=STALE_THEN_TOGETHER)
    assert result.saw_free == THREADS  # the availability check let everybody through
    assert Booking.objects.count() == len(result.of("booked")) <= 1
    _stopped_by_the_database(result)
    assert len(result.of("booked")) + len(result.of("taken")) + len(result.of("busy")) == THREADS
    assert result.of("taken") or result.of("busy")


@pytest.mark.django_db(transaction=True)
def test_without_the_locks_overlapping_slots_still_never_overlap(monkeypatch, settings, crowd):
    settings.BOOKING_LOCKS = False
    profile, customers = crowd
    first = datetime(2026, 11, 26, 8, 0, tzinfo=WIB)
    starts = [first + index * 30 * MINUTE for index in range(THREADS)]
    result = hammer(monkeypatch, profile, customers, starts, race=STALE_THEN_TOGETHER)
    assert result.saw_free == THREADS  # nobody saw anybody: all twenty raced to insert
    winners = list(Booking.objects.order_by("start"))
    assert len(winners) == len(result.of("booked"))
    for index, booking in enumerate(winners):
        assert all(not holds_overlap(booking, other) for other in winners[index + 1 :])
    _stopped_by_the_database(result)


# --- The exclusion constraints themselves (direct ORM inserts, no service) -------------------------


def copy_of(booking: Booking, **changes) -> dict:
    fields = Booking.objects.filter(pk=booking.pk).values().get()
    fields.pop("id")
    fields.pop("reference")
    return {**fields, **changes}


def insert(**fields) -> Booking:
    with transaction.atomic():
        return Booking.objects.create(**fields)


@pytest.fixture
def held(db):
    profile = make_companion()
    return request(new_customer(), profile)  # 10:00-12:00 WIB, held until 12:30


@pytest.mark.django_db
def test_the_constraint_rejects_an_overlapping_hold(held):
    other = new_customer()
    for status in (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED, "disputed"):
        with pytest.raises(IntegrityError, match="bookings_companion_no_overlap"):
            insert(**copy_of(held, customer_id=other.pk, status=status))
    shifted = {"start": held.start + HOUR, "end": held.end + HOUR, "hold_until": held.hold_until + HOUR}
    with pytest.raises(IntegrityError, match="bookings_companion_no_overlap"):
        insert(**copy_of(held, customer_id=other.pk, **shifted))
    # Starting inside the buffer (12:15) is an overlap too.
    in_buffer = {"start": held.end + 15 * MINUTE, "end": held.end + 75 * MINUTE, "hold_until": held.end + 105 * MINUTE}
    with pytest.raises(IntegrityError, match="bookings_companion_no_overlap"):
        insert(**copy_of(held, customer_id=other.pk, **in_buffer))
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_the_constraint_accepts_what_does_not_hold_or_does_not_overlap(held):
    other = new_customer()
    for status in ("declined", "withdrawn", "expired", "cancelled", "completed", "resolved"):
        insert(**copy_of(held, customer_id=other.pk, status=status))
    # Right at the end of the hold ([start, hold_until) is half-open).
    after = {"start": held.hold_until, "end": held.hold_until + HOUR, "hold_until": held.hold_until + 90 * MINUTE}
    insert(**copy_of(held, customer_id=other.pk, **after))
    # Another companion at the same time.
    insert(**copy_of(held, customer_id=new_customer().pk, companion_id=make_companion(name="Lain").pk))
    assert Booking.objects.count() == 9


@pytest.mark.django_db
def test_the_constraint_rejects_a_customer_in_two_places_at_once(held):
    elsewhere = make_companion(name="Budi")
    with pytest.raises(IntegrityError, match="bookings_customer_no_overlap"):
        insert(**copy_of(held, companion_id=elsewhere.pk))
    # The customer's span has no buffer: right after the end is fine.
    after = {"start": held.end, "end": held.end + HOUR, "hold_until": held.end + 90 * MINUTE}
    insert(**copy_of(held, companion_id=elsewhere.pk, **after))
    # And a cancelled overlapping one is no conflict.
    insert(**copy_of(held, companion_id=elsewhere.pk, status="cancelled"))
    assert Booking.objects.filter(customer=held.customer).count() == 3


@pytest.mark.django_db
def test_the_constraint_cannot_see_the_clock_so_the_service_expires_first(held):
    """An overdue request still has a holding status: a raw insert collides with it, while the booking
    service first moves it out of the way inside its own transaction."""
    later = held.response_deadline + MINUTE
    with pytest.raises(IntegrityError):
        insert(**copy_of(held, customer_id=new_customer().pk))
    booking = request(new_customer(), held.companion, now=later)
    assert booking.start == held.start
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.DECLINED


@pytest.mark.django_db
def test_losing_at_the_constraint_is_a_clear_slot_taken(monkeypatch, settings, held):
    """Even when the service's own check is fooled (locks off, the check blind), the customer gets
    SlotTaken, never a 500, and nothing is left behind."""
    settings.BOOKING_LOCKS = False
    monkeypatch.setattr(companion_selectors, "free_start_times", lambda profile, *, start, **kwargs: [start])
    before = (Booking.objects.count(), BookingEvent.objects.count(), Notification.objects.count())
    with pytest.raises(SlotTaken) as taken:
        request(new_customer(), held.companion)
    assert isinstance(taken.value.__cause__, IntegrityError)
    assert (Booking.objects.count(), BookingEvent.objects.count(), Notification.objects.count()) == before
