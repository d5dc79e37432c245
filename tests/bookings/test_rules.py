"""One rule in one place: for every status × role × moment, the booking page shows a button, the cancel
and dispute pages allow the form, exactly when the service accepts the action (bookings/rules.py).

Each case brings a booking to a status through the services (fixed clock, tests/bookings/helpers.py),
then at a moment `at`: renders the booking page as each party (the clock patched to `at`), asks
`available_actions`, and tries every action through its service in a savepoint that is rolled back."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from bookings import rules, services
from bookings.errors import TransitionNotAllowed
from bookings.models import Booking, BookingStatus
from bookings.rules import Action
from bookings.services import Resolution
from tests.bookings.helpers import HOUR, MINUTE, NOW, make_companion, new_customer, request
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

S = BookingStatus
DISPUTE_REASON = "Dia tidak datang sama sekali ke tempat janjian."
CANCEL_REASON = "Saya sakit mendadak, maaf sekali."


def _reach(status: str, customer, profile, staff) -> Booking:
    booking = request(customer, profile)
    companion = profile.user
    if status == S.REQUESTED:
        return booking
    if status == S.DECLINED:
        return services.booking_decline(booking_id=booking.pk, actor=companion, now=NOW + HOUR)
    if status == S.WITHDRAWN:
        return services.booking_withdraw(booking_id=booking.pk, actor=customer, now=NOW + HOUR)
    booking = services.booking_accept(booking_id=booking.pk, actor=companion, now=NOW + HOUR)
    if status == S.AWAITING_PAYMENT:
        return booking
    if status == S.EXPIRED:
        services.bookings_sweep(now=booking.payment_deadline)
        return Booking.objects.get(pk=booking.pk)
    booking = services.booking_mark_paid(booking_id=booking.pk, now=NOW + 90 * MINUTE)
    if status == S.CONFIRMED:
        return booking
    if status == S.CANCELLED:
        return services.booking_cancel(booking_id=booking.pk, actor=customer, now=NOW + 2 * HOUR)
    if status == S.COMPLETED:
        services.bookings_sweep(now=booking.complete_after)
        return Booking.objects.get(pk=booking.pk)
    booking = services.booking_dispute(booking_id=booking.pk, actor=customer, reason=DISPUTE_REASON, now=booking.end)
    if status == S.DISPUTED:
        return booking
    return services.booking_resolve(
        booking_id=booking.pk, actor=staff, decision=Resolution.RELEASE, now=booking.end + 2 * HOUR
    )


# (status, moment label, the moment as a function of the booking)
CASES = [
    (S.REQUESTED, "just requested", lambda b: NOW + MINUTE),
    (S.REQUESTED, "answer deadline passed", lambda b: b.response_deadline),
    (S.AWAITING_PAYMENT, "just accepted", lambda b: NOW + HOUR + MINUTE),
    (S.AWAITING_PAYMENT, "payment deadline passed", lambda b: b.payment_deadline),
    (S.CONFIRMED, "paid, before the start", lambda b: NOW + 2 * HOUR),
    (S.CONFIRMED, "during the meeting", lambda b: b.start + HOUR),
    (S.CONFIRMED, "after the end, disputes open", lambda b: b.end + HOUR),
    (S.CONFIRMED, "dispute window closed", lambda b: b.complete_after),
    (S.DISPUTED, "dispute open", lambda b: b.end + HOUR),
    (S.COMPLETED, "completed", lambda b: b.complete_after + HOUR),
    (S.DECLINED, "declined", lambda b: NOW + 2 * HOUR),
    (S.WITHDRAWN, "withdrawn", lambda b: NOW + 2 * HOUR),
    (S.EXPIRED, "expired", lambda b: b.payment_deadline + HOUR),
    (S.CANCELLED, "cancelled", lambda b: NOW + 3 * HOUR),
    (S.RESOLVED, "resolved", lambda b: b.end + 3 * HOUR),
]
ROLES = ["customer", "companion", "other_customer", "staff"]

ATTEMPTS = {
    Action.ACCEPT: lambda b, user, at: services.booking_accept(booking_id=b.pk, actor=user, now=at),
    Action.DECLINE: lambda b, user, at: services.booking_decline(booking_id=b.pk, actor=user, now=at),
    Action.WITHDRAW: lambda b, user, at: services.booking_withdraw(booking_id=b.pk, actor=user, now=at),
    # Money arriving: no actor. The customer's pay button stands for it.
    Action.PAY: lambda b, user, at: services.booking_mark_paid(booking_id=b.pk, now=at),
    Action.CANCEL: lambda b, user, at: services.booking_cancel(
        booking_id=b.pk, actor=user, reason=CANCEL_REASON, now=at
    ),
    Action.DISPUTE: lambda b, user, at: services.booking_dispute(
        booking_id=b.pk, actor=user, reason=DISPUTE_REASON, now=at
    ),
    Action.RESOLVE: lambda b, user, at: services.booking_resolve(
        booking_id=b.pk, actor=user, decision=Resolution.RELEASE, now=at
    ),
}


class _RolledBack(Exception):
    pass


def service_accepts(action: str, booking: Booking, user, at) -> bool:
    """True when the service moves the booking (then everything is rolled back); False when it refuses."""
    before = booking.status
    try:
        with transaction.atomic():
            after = ATTEMPTS[action](booking, user, at).status
            moved = after == rules.TARGET[action] and after != before
            raise _RolledBack
    except _RolledBack:
        assert Booking.objects.get(pk=booking.pk).status == before
        return moved
    except TransitionNotAllowed:
        return False


BUTTONS = {
    Action.ACCEPT: "bookings:accept",
    Action.DECLINE: "bookings:decline",
    Action.WITHDRAW: "bookings:withdraw",
    Action.PAY: "payments:checkout",
    Action.CANCEL: "bookings:cancel",
    Action.DISPUTE: "bookings:dispute",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("status", "moment", "at_of"), CASES, ids=[f"{case[0]}, {case[1]}" for case in CASES])
def test_pages_and_services_agree(client, monkeypatch, status, moment, at_of, role):
    profile = make_companion()
    customer = new_customer()
    people = {
        "customer": customer,
        "companion": profile.user,
        "other_customer": new_customer(),
        "staff": StaffFactory(),
    }
    booking = _reach(status, customer, profile, people["staff"])
    assert booking.status == status
    at = at_of(booking)
    user = people[role]

    if role in ("customer", "companion"):
        # The booking page at `at` (it applies a passed deadline first, as the services would).
        monkeypatch.setattr(timezone, "now", lambda: at)
        client.force_login(user)
        with translation.override("en"):
            page = client.get(reverse("bookings:detail", args=[booking.reference]))
        assert page.status_code == 200
        booking = Booking.objects.get(pk=booking.pk)
        actions = rules.available_actions(booking, user, at)
        assert page.context["actions"].allowed == actions.allowed
        content = page.content.decode()
        for action, url_name in BUTTONS.items():
            url = reverse(url_name, args=[booking.reference])
            assert (url in content) == (action in actions), (action, url)
        cancel_page = client.get(reverse("bookings:cancel", args=[booking.reference]))
        assert cancel_page.context["allowed"] == (Action.CANCEL in actions)
        dispute_page = client.get(reverse("bookings:dispute", args=[booking.reference]))
        assert dispute_page.context["allowed"] == (Action.DISPUTE in actions)
        monkeypatch.undo()
    else:
        services.booking_apply_deadline(booking_id=booking.pk, now=at)  # as the page would
        booking = Booking.objects.get(pk=booking.pk)
        actions = rules.available_actions(booking, user, at)

    for action in Action.ALL:
        accepted = service_accepts(action, booking, user, at)
        if action == Action.PAY:
            assert (action in actions) == (accepted and role == "customer"), action
        else:
            assert (action in actions) == accepted, action
        if action not in actions:
            assert actions.reason(action)  # every refusal says why


def test_the_disagreements_of_issue_10_are_settled():
    """The view used to hide a customer's cancel of an unpaid booking that the service allowed, and to
    offer a dispute of a completed booking that the transition table refuses."""
    profile = make_companion()
    customer = new_customer()
    accepted = _reach(S.AWAITING_PAYMENT, customer, profile, None)
    actions = rules.available_actions(accepted, customer, NOW + HOUR + MINUTE)
    assert Action.CANCEL not in actions and Action.WITHDRAW in actions and Action.PAY in actions
    completed = _reach(S.COMPLETED, new_customer(), make_companion(name="Dua"), None)
    for user in (completed.customer, completed.companion.user):
        # Within 24 h of the end would still be "in the window", but completion closed it.
        assert Action.DISPUTE not in rules.available_actions(completed, user, completed.complete_after)


def test_deadline_formulas():
    start = NOW + 20 * HOUR
    assert rules.response_deadline(requested_at=NOW, start=start) == NOW + 12 * HOUR
    assert rules.response_deadline(requested_at=NOW, start=NOW + 5 * HOUR) == NOW + 3 * HOUR
    assert rules.payment_deadline(accepted_at=NOW, start=start) == NOW + HOUR
    assert rules.payment_deadline(accepted_at=NOW, start=NOW + 90 * MINUTE) == NOW + 30 * MINUTE
    assert rules.complete_after(end=start) == start + timedelta(hours=24)
