"""Availability subtracts bookings that hold time, widened by the companion's buffer: the engine
(`free_start_times`), the profile page's slots and the at-time search all agree. Bookings that no
longer hold time (declined, withdrawn, expired, cancelled, or a hold past its deadline even before any
sweep ran) free it again."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import BookingStatus
from companions import selectors
from companions.selectors import SearchQuery
from tests.bookings.helpers import HOUR, NOW, SECOND, WIB, WITA, new_customer, request

pytestmark = pytest.mark.django_db

S = BookingStatus
DAY = date(2026, 11, 26)  # START's day (Thursday); START is 10:00-12:00 WIB


def half_hours(first: str, last: str) -> list[str]:
    """["08:00", "08:30", ..., last]"""
    minute, end = (int(text[:2]) * 60 + int(text[3:]) for text in (first, last))
    return [f"{value // 60:02d}:{value % 60:02d}" for value in range(minute, end + 1, 30)]


ALL_DAY_1H = half_hours("08:00", "21:00")
# A 10:00-12:00 booking with a 30-minute buffer blocks (09:30, 12:30) for everyone else.
AROUND_BOOKING_1H = half_hours("08:00", "08:30") + half_hours("12:30", "21:00")
AROUND_BOOKING_2H = half_hours("12:30", "20:00")  # 08:00 + 2 h would end at 10:00, inside the buffer


def local_starts(profile, day=DAY, *, hours=1, now=NOW, zone=WIB) -> list[str]:
    begin = datetime.combine(day, time(0), tzinfo=zone)
    starts = selectors.free_start_times(profile, start=begin, end=begin + timedelta(days=1), hours=hours, now=now)
    return [moment.astimezone(zone).strftime("%H:%M") for moment in starts]


def test_without_bookings_the_whole_day_is_free(profile):
    assert local_starts(profile) == ALL_DAY_1H


def _confirmed(profile):
    booking = request(new_customer(), profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    return services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR)


def _disputed(profile):
    booking = _confirmed(profile)
    return services.booking_dispute(
        booking_id=booking.pk, actor=booking.customer, reason="Pembayaran ganda, mohon dicek.", now=booking.start + HOUR
    )


def _awaiting(profile):
    booking = request(new_customer(), profile)
    return services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)


HOLDING = {
    "requested": lambda profile: request(new_customer(), profile),
    "awaiting payment": _awaiting,
    "confirmed": _confirmed,
    "disputed": _disputed,
}


@pytest.mark.parametrize("state", list(HOLDING))
def test_a_holding_booking_removes_its_time_plus_the_buffer(profile, state):
    HOLDING[state](profile)
    assert local_starts(profile, now=NOW + HOUR) == AROUND_BOOKING_1H
    assert local_starts(profile, hours=2, now=NOW + HOUR) == AROUND_BOOKING_2H
    # The day before and the day after are untouched.
    assert local_starts(profile, DAY - timedelta(days=1), now=NOW + HOUR) == ALL_DAY_1H
    assert local_starts(profile, DAY + timedelta(days=1), now=NOW + HOUR) == ALL_DAY_1H


def test_the_buffer_is_the_companions(db):
    from tests.bookings.helpers import make_companion

    profile = make_companion(buffer_minutes=90)
    request(new_customer(), profile)
    # 10:00-12:00 widened by 90 minutes: (08:30, 13:30).
    assert local_starts(profile) == half_hours("13:30", "21:00")


def _declined(profile):
    booking = request(new_customer(), profile)
    return services.booking_decline(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)


def _withdrawn(profile):
    booking = request(new_customer(), profile)
    return services.booking_withdraw(booking_id=booking.pk, actor=booking.customer, now=NOW + HOUR)


def _expired(profile):
    booking = _awaiting(profile)
    services.bookings_sweep(now=booking.payment_deadline)
    return booking


def _cancelled(profile):
    booking = _confirmed(profile)
    return services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=NOW + 2 * HOUR)


NOT_HOLDING = {
    "declined": _declined,
    "withdrawn": _withdrawn,
    "expired": _expired,
    "cancelled": _cancelled,
}


@pytest.mark.parametrize("state", list(NOT_HOLDING))
def test_a_booking_that_no_longer_holds_time_frees_it(profile, state):
    NOT_HOLDING[state](profile)
    assert local_starts(profile, now=NOW + 3 * HOUR) == ALL_DAY_1H


def test_a_request_past_its_response_deadline_frees_the_time_before_any_sweep(profile):
    booking = request(new_customer(), profile)
    assert local_starts(profile, now=booking.response_deadline - SECOND) == AROUND_BOOKING_1H
    assert local_starts(profile, now=booking.response_deadline) == ALL_DAY_1H
    assert booking.__class__.objects.get(pk=booking.pk).status == S.REQUESTED  # no sweep ran


def test_an_unpaid_booking_past_its_payment_deadline_frees_the_time_before_any_sweep(profile):
    booking = _awaiting(profile)
    assert local_starts(profile, now=booking.payment_deadline - SECOND) == AROUND_BOOKING_1H
    assert local_starts(profile, now=booking.payment_deadline) == ALL_DAY_1H


# --- The at-time search, checked against the engine -----------------------------------------------


def found_at(profile, moment_local: datetime, *, hours=1, now=NOW) -> bool:
    query = SearchQuery(
        day=moment_local.date(),
        start_time=moment_local.time(),
        hours=hours,
        viewer_time_zone=str(moment_local.tzinfo),
    )
    return profile.pk in set(selectors.search_companions(query, now=now).values_list("pk", flat=True))


def test_the_at_time_search_skips_a_booked_companion(profile):
    request(new_customer(), profile)
    assert found_at(profile, datetime(2026, 11, 26, 8, 30, tzinfo=WIB))
    assert not found_at(profile, datetime(2026, 11, 26, 9, 0, tzinfo=WIB))  # would end inside the buffer
    assert not found_at(profile, datetime(2026, 11, 26, 11, 0, tzinfo=WIB))
    assert not found_at(profile, datetime(2026, 11, 26, 12, 0, tzinfo=WIB))  # inside the buffer after
    assert found_at(profile, datetime(2026, 11, 26, 12, 30, tzinfo=WIB))
    # The same instants asked from Bali (WITA, one hour ahead).
    assert not found_at(profile, datetime(2026, 11, 26, 13, 0, tzinfo=WITA))
    assert found_at(profile, datetime(2026, 11, 26, 13, 30, tzinfo=WITA))


@pytest.mark.parametrize("hours", [1, 2, 3])
def test_the_at_time_search_agrees_with_the_engine_all_day(profile, hours):
    request(new_customer(), profile)
    other = request(new_customer(), profile, start=datetime(2026, 11, 26, 17, 0, tzinfo=WIB), hours=1)
    services.booking_decline(booking_id=other.pk, actor=profile.user, now=NOW)
    engine = set(local_starts(profile, hours=hours))
    for label in half_hours("00:00", "23:30"):
        moment = datetime.combine(DAY, time.fromisoformat(label), tzinfo=WIB)
        assert found_at(profile, moment, hours=hours) == (label in engine), label


def test_the_at_time_search_ignores_a_hold_past_its_deadline(profile):
    booking = request(new_customer(), profile)
    at = datetime(2026, 11, 26, 11, 0, tzinfo=WIB)
    assert not found_at(profile, at, now=booking.response_deadline - SECOND)
    assert found_at(profile, at, now=booking.response_deadline)


@pytest.mark.parametrize("state", list(NOT_HOLDING))
def test_the_at_time_search_ignores_bookings_that_no_longer_hold(profile, state):
    NOT_HOLDING[state](profile)
    assert found_at(profile, datetime(2026, 11, 26, 11, 0, tzinfo=WIB), now=NOW + 3 * HOUR)


# --- The profile page (reads the real clock) -----------------------------------------------------


def test_the_profile_page_leaves_out_booked_slots(client, profile):
    now = timezone.now()
    day = now.astimezone(WIB).date() + timedelta(days=3)
    start = datetime.combine(day, time(12, 0), tzinfo=WIB)
    booking = request(new_customer(), profile, start=start, now=now)

    def page_starts() -> list[str]:
        response = client.get(reverse("companions:profile", args=[profile.slug]), {"hours": 1})
        assert response.status_code == 200
        (slots,) = [slots for slots in response.context["days"] if slots.day == day]
        return [moment.astimezone(WIB).strftime("%H:%M") for moment in slots.starts]

    assert page_starts() == half_hours("08:00", "10:30") + half_hours("14:30", "21:00")
    services.booking_withdraw(booking_id=booking.pk, actor=booking.customer, now=now)
    assert page_starts() == ALL_DAY_1H


def test_the_engine_reads_bookings_in_any_zone(db):
    """A Bali companion (WITA) booked 10:00-12:00 WITA: the same instants are blocked whether the
    day is read in WITA or in WIB."""
    from tests.bookings.helpers import make_companion

    bali = make_companion(city="denpasar", name="Made")
    start = datetime(2026, 11, 26, 10, 0, tzinfo=WITA)
    request(new_customer(), bali, start=start)
    assert local_starts(bali, zone=WITA) == AROUND_BOOKING_1H
    # Read as a WIB day (07:00-21:00 WIB hours): the blocked span is 08:30-11:30 WIB.
    wib = local_starts(bali, zone=WIB)
    assert "07:30" in wib and "08:00" not in wib and "11:00" not in wib and "11:30" in wib


def test_a_shorter_buffer_later_does_not_offer_time_the_old_hold_still_covers(db):
    from companions.models import CompanionProfile
    from tests.bookings.helpers import make_companion

    profile = make_companion(buffer_minutes=60)
    booking = request(new_customer(), profile)  # 10:00-12:00 WIB, held until 13:00
    assert booking.hold_until == booking.end + HOUR
    CompanionProfile.objects.filter(pk=profile.pk).update(buffer_minutes=0)
    profile.refresh_from_db()
    assert "12:00" not in local_starts(profile)
