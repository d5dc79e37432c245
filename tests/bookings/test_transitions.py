"""Every transition through its service, and every forbidden one.

A forbidden move (wrong actor, wrong state, too late) raises and leaves everything as it was: the
booking row field for field, the event log and the notifications (`world()` compares all three).
Times come from `now=`; see tests/bookings/helpers.py for the clock."""

from datetime import datetime, timedelta

import pytest
from django.utils import translation

from accounts.models import Role
from bookings import services
from bookings.errors import BookingError, SlotTaken, TransitionNotAllowed
from bookings.models import ALLOWED_TRANSITIONS, Booking, BookingEvent, BookingStatus
from bookings.services import Resolution
from companions.models import Activity, CompanionProfile
from notifications import messages
from notifications.models import Notification
from tests.bookings.helpers import (
    HOUR,
    MEETING_PLACE,
    MINUTE,
    NOW,
    SECOND,
    START,
    WIB,
    events_of,
    last_notification_id,
    make_companion,
    new_customer,
    notifications_after,
    request,
    world,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

S = BookingStatus
DISPUTE_REASON = "Dia tidak datang sama sekali ke tempat janjian."
CANCEL_REASON = "Saya sakit mendadak, maaf sekali."


class Parties:
    def __init__(self, profile):
        self.profile = profile
        self.companion = profile.user
        self.customer = new_customer()
        self.other_customer = new_customer()
        self.other_companion = make_companion(name="Other").user
        self.staff = StaffFactory()


@pytest.fixture
def parties(profile):
    return Parties(profile)


def both(event: str, p: Parties) -> list[tuple[str, int]]:
    return sorted([(event, p.customer.pk), (event, p.companion.pk)])


def refreshed(booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


# --- Reaching every state through the services ------------------------------------------------------


def reach(status: str, p: Parties) -> tuple[Booking, datetime]:
    """A booking of p.customer with p.profile at START (2 h), brought to `status` by the services;
    returns it with the moment the state was reached."""
    booking = request(p.customer, p.profile)
    if status == S.REQUESTED:
        return booking, NOW
    if status == S.DECLINED:
        return services.booking_decline(booking_id=booking.pk, actor=p.companion, now=NOW + HOUR), NOW + HOUR
    if status == S.WITHDRAWN:
        return services.booking_withdraw(booking_id=booking.pk, actor=p.customer, now=NOW + HOUR), NOW + HOUR
    booking = services.booking_accept(booking_id=booking.pk, actor=p.companion, now=NOW + HOUR)
    if status == S.AWAITING_PAYMENT:
        return booking, NOW + HOUR
    if status == S.EXPIRED:
        services.bookings_sweep(now=booking.payment_deadline)
        return refreshed(booking), booking.payment_deadline
    booking = services.booking_mark_paid(booking_id=booking.pk, now=NOW + 90 * MINUTE)
    if status == S.CONFIRMED:
        return booking, NOW + 90 * MINUTE
    if status == S.CANCELLED:
        at = NOW + 2 * HOUR
        return services.booking_cancel(booking_id=booking.pk, actor=p.customer, now=at), at
    if status == S.COMPLETED:
        services.bookings_sweep(now=booking.complete_after)
        return refreshed(booking), booking.complete_after
    booking = services.booking_dispute(
        booking_id=booking.pk, actor=p.customer, reason=DISPUTE_REASON, now=booking.end + HOUR
    )
    if status == S.DISPUTED:
        return booking, booking.end + HOUR
    assert status == S.RESOLVED
    at = booking.end + 30 * HOUR
    return services.booking_resolve(booking_id=booking.pk, actor=p.staff, decision=Resolution.RELEASE, now=at), at


ALL_STATES = [status.value for status in BookingStatus]

# Each action with the actor who may do it and the status it leads to.
ACTIONS = {
    "accept": (
        S.AWAITING_PAYMENT,
        lambda b, p, at: services.booking_accept(booking_id=b.pk, actor=p.companion, now=at),
    ),
    "decline": (S.DECLINED, lambda b, p, at: services.booking_decline(booking_id=b.pk, actor=p.companion, now=at)),
    "withdraw": (S.WITHDRAWN, lambda b, p, at: services.booking_withdraw(booking_id=b.pk, actor=p.customer, now=at)),
    "pay": (S.CONFIRMED, lambda b, p, at: services.booking_mark_paid(booking_id=b.pk, now=at)),
    "cancel": (S.CANCELLED, lambda b, p, at: services.booking_cancel(booking_id=b.pk, actor=p.customer, now=at)),
    "dispute": (
        S.DISPUTED,
        lambda b, p, at: services.booking_dispute(booking_id=b.pk, actor=p.customer, reason=DISPUTE_REASON, now=at),
    ),
    "resolve": (
        S.RESOLVED,
        lambda b, p, at: services.booking_resolve(booking_id=b.pk, actor=p.staff, decision=Resolution.RELEASE, now=at),
    ),
}


@pytest.mark.parametrize("status", ALL_STATES)
def test_every_state_is_reachable_through_the_services(parties, status):
    booking, _at = reach(status, parties)
    assert refreshed(booking).status == status
    # One event per transition, a chain from creation to the current state.
    steps = list(BookingEvent.objects.filter(booking=booking).values_list("from_status", "to_status"))
    assert steps[0] == ("", S.REQUESTED)
    assert all(previous[1] == step[0] for previous, step in zip(steps, steps[1:], strict=False))
    assert steps[-1][1] == status
    assert all(step[1] in ALLOWED_TRANSITIONS[step[0]] for step in steps[1:])


WRONG_STATE = [
    (status, action)
    for status in ALL_STATES
    for action, (to, _call) in ACTIONS.items()
    if to != status and to not in ALLOWED_TRANSITIONS.get(status, set())
]


@pytest.mark.parametrize(("status", "action"), WRONG_STATE)
def test_wrong_state_is_refused_and_changes_nothing(parties, status, action):
    """E.g. accept a confirmed booking, pay a requested one, dispute a requested one."""
    booking, at = reach(status, parties)
    before = world()
    _to, call = ACTIONS[action]
    with pytest.raises(TransitionNotAllowed):
        call(booking, parties, at + MINUTE)
    assert world() == before


SAME_STATE = [(to.value, action) for action, (to, _call) in ACTIONS.items()]


@pytest.mark.parametrize(("status", "action"), SAME_STATE)
def test_repeating_a_transition_changes_nothing(parties, status, action):
    booking, at = reach(status, parties)
    before = world()
    _to, call = ACTIONS[action]
    again = call(booking, parties, at + MINUTE)
    assert again.status == status
    assert world() == before


def test_the_forbidden_matrix_is_not_empty():
    # Guards the parametrisation above against a silently shrinking table.
    assert len(WRONG_STATE) == 53
    assert ("confirmed", "accept") in WRONG_STATE
    assert ("requested", "pay") in WRONG_STATE
    assert ("requested", "dispute") in WRONG_STATE
    assert ("completed", "dispute") in WRONG_STATE  # completion released the escrow: nothing left to dispute


# --- Allowed transitions: exactly one event, the right notifications, the right fields --------------


def test_request_stores_price_deadlines_and_one_event(parties):
    p = parties
    booking = request(p.customer, p.profile, hours=3, note="  Saya pakai baju biru.  ")
    booking.refresh_from_db()
    assert booking.status == S.REQUESTED
    assert booking.start == START and booking.end == START + 3 * HOUR
    assert booking.hold_until == START + 3 * HOUR + 30 * MINUTE  # the companion's buffer
    assert (booking.hourly_rate, booking.hours, booking.subtotal, booking.service_fee) == (150_000, 3, 450_000, 45_000)
    assert (booking.discount, booking.total) == (0, 495_000)
    assert (booking.commission_basis_points, booking.commission, booking.companion_earnings) == (2000, 90_000, 360_000)
    assert booking.response_deadline == NOW + 12 * HOUR  # request + 12 h < start - 2 h
    assert booking.payment_deadline is None and booking.accepted_at is None
    assert booking.complete_after == START + 3 * HOUR + 24 * HOUR
    assert booking.created_at == NOW
    assert booking.meeting_place == MEETING_PLACE and booking.note == "Saya pakai baju biru."
    assert events_of(booking) == [(p.customer.pk, "", S.REQUESTED, "")]
    assert notifications_after(0) == [("booking_requested", p.companion.pk)]
    context = Notification.objects.get().context
    assert set(context) == {"reference", "start"} and context["reference"] == booking.reference
    # The same instant (written in the caller's zone here, in UTC after a reload: both parse the same).
    assert datetime.fromisoformat(context["start"]) == START


def test_request_close_to_the_start_must_be_answered_two_hours_before(parties):
    start = NOW + 6 * HOUR  # 14:00 WIB the same day
    booking = request(parties.customer, parties.profile, start=start)
    assert booking.response_deadline == start - 2 * HOUR == NOW + 4 * HOUR


def test_accept(parties):
    p = parties
    booking = request(p.customer, p.profile)
    mark = last_notification_id()
    accepted = services.booking_accept(booking_id=booking.pk, actor=p.companion, now=NOW + HOUR)
    booking.refresh_from_db()
    assert booking.status == accepted.status == S.AWAITING_PAYMENT
    assert booking.accepted_at == NOW + HOUR
    assert booking.payment_deadline == NOW + 2 * HOUR  # acceptance + 1 h < start - 1 h
    assert events_of(booking)[1:] == [(p.companion.pk, S.REQUESTED, S.AWAITING_PAYMENT, "")]
    assert notifications_after(mark) == [("booking_accepted", p.customer.pk)]
    assert Notification.objects.get(pk__gt=mark).context["pay_by"] == (NOW + 2 * HOUR).isoformat()


def test_accept_twice_records_nothing_the_second_time(parties):
    p = parties
    booking = request(p.customer, p.profile)
    services.booking_accept(booking_id=booking.pk, actor=p.companion, now=NOW + HOUR)
    before = world()
    again = services.booking_accept(booking_id=booking.pk, actor=p.companion, now=NOW + 2 * HOUR)
    assert again.payment_deadline == NOW + 2 * HOUR  # not moved by the second click
    assert world() == before


def test_decline(parties):
    p = parties
    booking = request(p.customer, p.profile)
    mark = last_notification_id()
    services.booking_decline(
        booking_id=booking.pk, actor=p.companion, reason="  Saya sedang di luar kota. ", now=NOW + HOUR
    )
    booking.refresh_from_db()
    assert booking.status == S.DECLINED and booking.closed_at == NOW + HOUR
    assert booking.reason == "Saya sedang di luar kota."  # the customer's page shows it
    assert events_of(booking)[1:] == [(p.companion.pk, S.REQUESTED, S.DECLINED, "Saya sedang di luar kota.")]
    assert notifications_after(mark) == [("booking_declined", p.customer.pk)]


@pytest.mark.parametrize("from_status", [S.REQUESTED, S.AWAITING_PAYMENT])
def test_withdraw(parties, from_status):
    p = parties
    booking, at = reach(from_status, p)
    mark = last_notification_id()
    services.booking_withdraw(booking_id=booking.pk, actor=p.customer, reason="Batal acara", now=at + MINUTE)
    booking.refresh_from_db()
    assert booking.status == S.WITHDRAWN and booking.closed_at == at + MINUTE
    assert events_of(booking)[-1] == (p.customer.pk, from_status, S.WITHDRAWN, "Batal acara")
    assert notifications_after(mark) == [("booking_withdrawn", p.companion.pk)]


def test_mark_paid(parties):
    p = parties
    booking, _at = reach(S.AWAITING_PAYMENT, p)
    mark = last_notification_id()
    services.booking_mark_paid(booking_id=booking.pk, now=NOW + 90 * MINUTE)
    booking.refresh_from_db()
    assert booking.status == S.CONFIRMED and booking.paid_at == NOW + 90 * MINUTE
    assert events_of(booking)[-1] == (None, S.AWAITING_PAYMENT, S.CONFIRMED, "")
    assert len(events_of(booking)) == 3
    assert notifications_after(mark) == both("booking_confirmed", p)


@pytest.mark.parametrize(
    ("before_start", "refund", "earnings"),
    [
        (timedelta(hours=24), 330_000, 0),  # full: the total (2 h × 150,000 + 10%)
        (timedelta(hours=3), 330_000 - 150_000, 120_000),  # partial: fee + half back; the companion earns half − 20%
        (timedelta(hours=1), 0, 240_000),  # none: the companion earns the subtotal − 20%
    ],
)
def test_customer_cancels_a_confirmed_booking_by_the_policy(parties, before_start, refund, earnings):
    p = parties
    booking, _at = reach(S.CONFIRMED, p)
    mark = last_notification_id()
    at = START - before_start
    preview = services.cancellation_preview(booking, by="customer", now=at)
    services.booking_cancel(booking_id=booking.pk, actor=p.customer, reason=" ", now=at)
    booking.refresh_from_db()
    assert booking.status == S.CANCELLED and booking.closed_at == at
    assert (booking.refund_amount, booking.settled_companion_earnings, booking.cancelled_by) == (
        refund,
        earnings,
        "customer",
    )
    assert (preview.refund, preview.companion_earnings) == (refund, earnings)  # what the page showed first
    assert events_of(booking)[-1] == (p.customer.pk, S.CONFIRMED, S.CANCELLED, "")
    assert notifications_after(mark) == both("booking_cancelled", p)
    assert Notification.objects.filter(pk__gt=mark).first().context["refund"] == refund


def test_companion_cancels_a_confirmed_booking_full_refund(parties):
    p = parties
    booking, _at = reach(S.CONFIRMED, p)
    at = START - 30 * MINUTE
    services.booking_cancel(booking_id=booking.pk, actor=p.companion, reason=CANCEL_REASON, now=at)
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount, booking.settled_companion_earnings) == (S.CANCELLED, 330_000, 0)
    assert (booking.cancelled_by, booking.reason) == ("companion", CANCEL_REASON)
    assert events_of(booking)[-1] == (p.companion.pk, S.CONFIRMED, S.CANCELLED, CANCEL_REASON)
    assert services.companion_reliability(p.profile) == {"paid_bookings": 1, "companion_cancellations": 1}


def test_companion_must_give_a_reason_to_cancel(parties):
    p = parties
    booking, at = reach(S.CONFIRMED, p)
    before = world()
    with pytest.raises(TransitionNotAllowed):
        services.booking_cancel(booking_id=booking.pk, actor=p.companion, reason=" abc ", now=at + MINUTE)
    assert world() == before


def test_a_companion_cancelling_an_unpaid_booking_moves_no_money(parties):
    p = parties
    booking, at = reach(S.AWAITING_PAYMENT, p)
    services.booking_cancel(booking_id=booking.pk, actor=p.companion, reason=CANCEL_REASON, now=at + MINUTE)
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount, booking.settled_companion_earnings) == (S.CANCELLED, 0, 0)
    assert booking.cancelled_by == "companion"


def test_a_customer_withdraws_an_unpaid_booking_instead_of_cancelling_it(parties):
    """One way out per situation (issue 10): before paying, the customer withdraws (the page offers only
    that); the cancel service refuses, says so, and changes nothing."""
    p = parties
    booking, at = reach(S.AWAITING_PAYMENT, p)
    before = world()
    with translation.override("en"), pytest.raises(TransitionNotAllowed, match="withdraw the booking instead"):
        services.booking_cancel(booking_id=booking.pk, actor=p.customer, reason=CANCEL_REASON, now=at + MINUTE)
    assert world() == before
    services.booking_withdraw(booking_id=booking.pk, actor=p.customer, now=at + MINUTE)
    booking.refresh_from_db()
    assert (booking.status, booking.refund_amount, booking.settled_companion_earnings) == (S.WITHDRAWN, None, None)


@pytest.mark.parametrize("who", ["customer", "companion"])
def test_dispute(parties, who):
    p = parties
    booking, _at = reach(S.CONFIRMED, p)
    actor = getattr(p, who)
    mark = last_notification_id()
    at = booking.complete_after - SECOND  # the last second it is allowed
    services.booking_dispute(booking_id=booking.pk, actor=actor, reason=f"  {DISPUTE_REASON} ", now=at)
    booking.refresh_from_db()
    assert booking.status == S.DISPUTED
    assert events_of(booking)[-1] == (actor.pk, S.CONFIRMED, S.DISPUTED, DISPUTE_REASON)
    assert notifications_after(mark) == both("booking_disputed", p)


def test_a_dispute_needs_a_description(parties):
    p = parties
    booking, at = reach(S.CONFIRMED, p)
    before = world()
    with pytest.raises(TransitionNotAllowed):
        services.booking_dispute(booking_id=booking.pk, actor=p.customer, reason="Jelek.    ", now=at + MINUTE)
    assert world() == before


@pytest.mark.parametrize(
    ("decision", "refund", "expected_refund", "expected_earnings"),
    [
        (Resolution.RELEASE, 0, 0, 240_000),
        (Resolution.FULL_REFUND, 0, 330_000, 0),
        (Resolution.PARTIAL_REFUND, 110_000, 110_000, 160_000),  # 240,000 × 220,000 / 330,000
    ],
)
def test_resolve(parties, decision, refund, expected_refund, expected_earnings):
    p = parties
    booking, at = reach(S.DISPUTED, p)
    mark = last_notification_id()
    services.booking_resolve(
        booking_id=booking.pk, actor=p.staff, decision=decision, refund=refund, note="Bukti chat", now=at + HOUR
    )
    booking.refresh_from_db()
    assert booking.status == S.RESOLVED and booking.closed_at == at + HOUR
    assert (booking.refund_amount, booking.settled_companion_earnings) == (expected_refund, expected_earnings)
    assert events_of(booking)[-1] == (p.staff.pk, S.DISPUTED, S.RESOLVED, f"{decision}: Bukti chat")
    assert notifications_after(mark) == both("booking_resolved", p)


@pytest.mark.parametrize("refund", [0, 330_000, 400_000, -5])
def test_a_partial_refund_must_be_partial(parties, refund):
    p = parties
    booking, at = reach(S.DISPUTED, p)
    before = world()
    with pytest.raises(TransitionNotAllowed):
        services.booking_resolve(
            booking_id=booking.pk, actor=p.staff, decision=Resolution.PARTIAL_REFUND, refund=refund, now=at + HOUR
        )
    with pytest.raises(TransitionNotAllowed):
        services.booking_resolve(booking_id=booking.pk, actor=p.staff, decision="split", now=at + HOUR)
    assert world() == before


# --- Wrong actor -----------------------------------------------------------------------------------


def _wrong_actor_cases():
    def accept(who):
        return S.REQUESTED, lambda b, p, at: services.booking_accept(booking_id=b.pk, actor=getattr(p, who), now=at)

    def decline(who):
        return S.REQUESTED, lambda b, p, at: services.booking_decline(booking_id=b.pk, actor=getattr(p, who), now=at)

    def withdraw(who):
        return S.REQUESTED, lambda b, p, at: services.booking_withdraw(booking_id=b.pk, actor=getattr(p, who), now=at)

    def cancel(who):
        return S.CONFIRMED, lambda b, p, at: services.booking_cancel(
            booking_id=b.pk, actor=getattr(p, who), reason=CANCEL_REASON, now=at
        )

    def dispute(who):
        return S.CONFIRMED, lambda b, p, at: services.booking_dispute(
            booking_id=b.pk, actor=getattr(p, who), reason=DISPUTE_REASON, now=at
        )

    def resolve(who):
        return S.DISPUTED, lambda b, p, at: services.booking_resolve(
            booking_id=b.pk, actor=getattr(p, who), decision=Resolution.FULL_REFUND, now=at
        )

    return {
        "customer accepts": accept("customer"),
        "another companion accepts": accept("other_companion"),
        "staff accepts": accept("staff"),
        "customer declines": decline("customer"),
        "another companion declines": decline("other_companion"),
        "companion withdraws": withdraw("companion"),
        "another customer withdraws": withdraw("other_customer"),
        "a third customer cancels": cancel("other_customer"),
        "another companion cancels": cancel("other_companion"),
        "staff cancels": cancel("staff"),
        "a third customer disputes": dispute("other_customer"),
        "another companion disputes": dispute("other_companion"),
        "customer resolves": resolve("customer"),
        "companion resolves": resolve("companion"),
    }


WRONG_ACTOR = _wrong_actor_cases()


@pytest.mark.parametrize("case", list(WRONG_ACTOR))
def test_wrong_actor_is_refused_and_changes_nothing(parties, case):
    status, call = WRONG_ACTOR[case]
    booking, at = reach(status, parties)
    before = world()
    with pytest.raises(TransitionNotAllowed):
        call(booking, parties, at + MINUTE)
    assert world() == before


def test_an_inactive_staff_member_cannot_resolve(parties):
    booking, at = reach(S.DISPUTED, parties)
    parties.staff.is_active = False
    parties.staff.save(update_fields=["is_active"])
    before = world()
    with pytest.raises(TransitionNotAllowed):
        services.booking_resolve(booking_id=booking.pk, actor=parties.staff, decision=Resolution.RELEASE, now=at)
    assert world() == before


# --- Too late -------------------------------------------------------------------------------------


def test_accept_at_or_after_the_response_deadline_is_refused(parties):
    p = parties
    booking = request(p.customer, p.profile)
    before = world()
    for at in (booking.response_deadline, booking.response_deadline + HOUR):
        with pytest.raises(TransitionNotAllowed):
            services.booking_accept(booking_id=booking.pk, actor=p.companion, now=at)
    assert world() == before
    services.booking_accept(booking_id=booking.pk, actor=p.companion, now=booking.response_deadline - SECOND)
    assert refreshed(booking).status == S.AWAITING_PAYMENT


def test_pay_at_or_after_the_payment_deadline_is_refused(parties):
    booking, _at = reach(S.AWAITING_PAYMENT, parties)
    before = world()
    for at in (booking.payment_deadline, booking.payment_deadline + HOUR):
        with pytest.raises(TransitionNotAllowed):
            services.booking_mark_paid(booking_id=booking.pk, now=at)
    assert world() == before
    services.booking_mark_paid(booking_id=booking.pk, now=booking.payment_deadline - SECOND)
    assert refreshed(booking).status == S.CONFIRMED


def test_an_expired_booking_cannot_be_paid_through_this_service(parties):
    """EXPIRED → CONFIRMED is in the table for the payments issue's late payment; until then the
    payment deadline check refuses it."""
    booking, at = reach(S.EXPIRED, parties)
    before = world()
    with pytest.raises(TransitionNotAllowed):
        services.booking_mark_paid(booking_id=booking.pk, now=at + MINUTE)
    assert world() == before


@pytest.mark.parametrize("who", ["customer", "companion"])
def test_cancel_at_or_after_the_start_is_refused(parties, who):
    booking, _at = reach(S.CONFIRMED, parties)
    before = world()
    for at in (START, START + HOUR, START + 30 * HOUR):
        with pytest.raises(TransitionNotAllowed):
            services.booking_cancel(booking_id=booking.pk, actor=getattr(parties, who), reason=CANCEL_REASON, now=at)
    assert world() == before


def test_dispute_at_or_after_complete_after_is_refused(parties):
    booking, _at = reach(S.CONFIRMED, parties)
    before = world()
    for at in (booking.complete_after, booking.complete_after + HOUR):
        with pytest.raises(TransitionNotAllowed):
            services.booking_dispute(booking_id=booking.pk, actor=parties.customer, reason=DISPUTE_REASON, now=at)
    assert world() == before


def test_a_completed_booking_cannot_be_disputed_any_more(parties):
    booking, at = reach(S.COMPLETED, parties)
    before = world()
    with pytest.raises(TransitionNotAllowed):
        services.booking_dispute(booking_id=booking.pk, actor=parties.customer, reason=DISPUTE_REASON, now=at)
    assert world() == before


# --- Instant booking --------------------------------------------------------------------------------


def test_instant_booking_starts_awaiting_payment(db):
    profile = make_companion(instant_booking=True)
    customer = new_customer()
    booking = request(customer, profile)
    booking.refresh_from_db()
    assert booking.status == S.AWAITING_PAYMENT
    assert booking.accepted_at == NOW
    assert booking.payment_deadline == NOW + HOUR
    assert events_of(booking) == [(customer.pk, "", S.AWAITING_PAYMENT, "")]
    assert notifications_after(0) == sorted([("booking_reserved", customer.pk), ("booking_instant", profile.user.pk)])
    row = Notification.objects.get(recipient=customer, event="booking_reserved")
    text = messages.render(row.event, row.context, language="en", zone=customer.time_zone)
    assert "accepted" not in f"{text.title} {text.body}".lower()
    assert "reserved for you" in text.body
    services.booking_mark_paid(booking_id=booking.pk, now=NOW + 59 * MINUTE)
    assert refreshed(booking).status == S.CONFIRMED


def test_instant_booking_close_to_the_start_is_paid_an_hour_before(db):
    """At the 3-hour minimum lead time the payment window (1 h) still ends before start − 1 h; with
    the lead time any shorter, start − 1 h would be the binding deadline."""
    profile = make_companion(instant_booking=True, min_notice_minutes=180)
    start = NOW + 3 * HOUR
    booking = request(new_customer(), profile, start=start)
    assert booking.payment_deadline == min(NOW + HOUR, start - HOUR) == NOW + HOUR


# --- Limits on requests ------------------------------------------------------------------------------


def test_at_most_three_open_requests(parties):
    p = parties
    others = [make_companion(name=f"c{index}") for index in range(3)]
    first = request(p.customer, p.profile)
    accepted = request(p.customer, others[0], start=START + 3 * HOUR)
    services.booking_accept(booking_id=accepted.pk, actor=others[0].user, now=NOW + HOUR)  # still open
    request(p.customer, others[1], start=START + 6 * HOUR)
    before = world()
    with translation.override("en"), pytest.raises(BookingError) as refused:
        request(p.customer, others[2], start=START + 24 * HOUR, now=NOW + HOUR)
    assert not isinstance(refused.value, SlotTaken)
    assert str(refused.value) == "You already have 3 open requests. Wait for an answer or withdraw one first."
    assert world() == before
    # Withdrawing one frees a place; a paid (confirmed) booking is not an open request.
    services.booking_withdraw(booking_id=first.pk, actor=p.customer, now=NOW + HOUR)
    services.booking_mark_paid(booking_id=accepted.pk, now=NOW + HOUR)
    request(p.customer, others[2], start=START + 24 * HOUR, now=NOW + HOUR)
    request(p.customer, p.profile, start=START + 48 * HOUR, now=NOW + HOUR)
    assert Booking.objects.filter(customer=p.customer, status=S.REQUESTED).count() == 3


def test_requests_past_their_deadline_are_not_open(parties):
    p = parties
    others = [make_companion(name=f"c{index}") for index in range(3)]
    for index, other in enumerate(others):
        request(p.customer, other, start=START + 3 * index * HOUR)
    later = NOW + 12 * HOUR  # all three deadlines have passed, no sweep ran
    booking = request(p.customer, p.profile, start=START + 24 * HOUR, now=later)
    assert booking.status == S.REQUESTED
    # The request service tidied the customer's own overdue holds on the way.
    assert sorted(Booking.objects.filter(customer=p.customer).values_list("status", flat=True)) == [
        S.DECLINED,
        S.DECLINED,
        S.DECLINED,
        S.REQUESTED,
    ]


def test_a_customer_cannot_hold_two_overlapping_bookings(parties):
    p = parties
    other = make_companion(name="Budi")
    request(p.customer, p.profile)  # 10:00-12:00 WIB
    before = world()
    for start in (START, START + HOUR, START - HOUR):
        with pytest.raises(BookingError) as refused:
            request(p.customer, other, start=start)
        assert not isinstance(refused.value, SlotTaken)
    assert world() == before
    # Right after it is fine (the buffer is the companion's, not the customer's).
    request(p.customer, other, start=START + 2 * HOUR)


def test_a_cancelled_booking_does_not_block_the_customer(parties):
    p = parties
    booking, at = reach(S.CANCELLED, p)
    other = make_companion(name="Budi")
    assert request(p.customer, other, now=at).status == S.REQUESTED


def test_a_slot_held_by_someone_else_is_taken(parties):
    p = parties
    request(p.customer, p.profile)
    before = world()
    for start in (START, START + 2 * HOUR, START - 2 * HOUR):  # overlapping, or inside the 30-minute buffer
        with pytest.raises(SlotTaken):
            request(p.other_customer, p.profile, start=start)
    assert world() == before
    assert request(p.other_customer, p.profile, start=START + 150 * MINUTE).status == S.REQUESTED


# --- Server-side validation -------------------------------------------------------------------------


def _invalid_requests():
    return {
        "off the half-hour grid": {"start": START + 15 * MINUTE},
        "one second off the grid": {"start": START + SECOND},
        "before the companion's hours": {"start": datetime(2026, 11, 26, 7, 0, tzinfo=WIB)},
        "running past the companion's hours": {"start": datetime(2026, 11, 26, 21, 30, tzinfo=WIB), "hours": 1},
        "in the past": {"start": NOW - 24 * HOUR},
        "inside the minimum notice": {"start": NOW + 150 * MINUTE},
        "beyond the horizon": {"start": NOW + timedelta(days=60, minutes=30)},
        "far beyond the horizon": {"start": NOW + timedelta(days=400)},
        "zero hours": {"hours": 0},
        "more than the maximum hours": {"hours": 7},
        "an activity not offered": {"activity": "gaming"},
        "a meeting place too short": {"meeting_place": "  Mal "},
    }


INVALID = _invalid_requests()


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_requests_are_refused_and_create_nothing(parties, case):
    arguments = dict(INVALID[case])
    if "activity" in arguments:
        arguments["activity"] = Activity.objects.get(slug=arguments["activity"])
    before = world()
    with pytest.raises(BookingError):
        request(parties.customer, parties.profile, **arguments)
    assert world() == before


def test_the_horizon_itself_is_bookable(parties):
    start = NOW + timedelta(days=60)  # 08:00 WIB, exactly at the horizon
    assert request(parties.customer, parties.profile, start=start, hours=1).start == start


def test_fewer_than_the_minimum_hours(db):
    profile = make_companion(min_hours=2)
    before = world()
    with pytest.raises(BookingError) as refused:
        request(new_customer(), profile, hours=1)
    assert refused.value.field == "hours"
    assert world() == before


@pytest.mark.parametrize("change", ["paused", "unlisted"])
def test_a_paused_or_unlisted_companion_cannot_be_booked(parties, change):
    field = {"paused": {"is_paused": True}, "unlisted": {"is_listed": False}}[change]
    CompanionProfile.objects.filter(pk=parties.profile.pk).update(**field)
    before = world()
    # The service re-reads the profile under its lock: the caller's stale object does not matter.
    with pytest.raises(BookingError):
        request(parties.customer, parties.profile)
    assert world() == before


def test_a_companion_account_cannot_book(parties):
    before = world()
    with pytest.raises(BookingError):
        request(parties.other_companion, parties.profile)
    assert world() == before


def test_a_companion_cannot_book_themselves(parties):
    # Even if the account were switched to the customer role, its own profile stays out of reach.
    user = parties.companion
    user.role = Role.CUSTOMER
    user.save(update_fields=["role"])
    before = world()
    with translation.override("en"), pytest.raises(BookingError) as refused:
        request(user, parties.profile)
    assert str(refused.value) == "You cannot book yourself."
    assert world() == before


def test_an_inactive_customer_cannot_book(parties):
    parties.customer.is_active = False
    parties.customer.save(update_fields=["is_active"])
    before = world()
    with pytest.raises(BookingError):
        request(parties.customer, parties.profile)
    assert world() == before


def test_a_naive_start_is_a_programming_error(parties):
    before = world()
    with pytest.raises(ValueError):
        request(parties.customer, parties.profile, start=START.replace(tzinfo=None))
    assert world() == before


def test_a_request_is_never_created_past_its_response_deadline(db):
    profile = make_companion(min_notice_minutes=60)
    start = NOW + HOUR  # the first free start the profile page offers
    before = world()
    with pytest.raises(BookingError):
        request(new_customer(), profile, start=start)  # under the 3-hour minimum lead time
    assert world() == before
    booking = request(new_customer(), profile, start=NOW + 3 * HOUR)
    assert booking.response_deadline > NOW
