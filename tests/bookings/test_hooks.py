"""The registries that keep the imports one way: bookings tells payments through bookings/hooks.py, and
companions learns about bookings through companions/booking_facts.py; both filled at startup."""

import pytest
from django.apps import apps

from bookings import facts, hooks, services
from bookings.models import Booking, BookingStatus
from companions import booking_facts
from tests.bookings.helpers import HOUR, MINUTE, NOW, make_companion, new_customer, request

pytestmark = pytest.mark.django_db


def test_the_real_app_registers_payments_handlers():
    from payments import settlement
    from payments.apps import booking_payment_summary

    registered = hooks.registered()
    assert registered["left_unpaid"] == (settlement.booking_left_unpaid,)
    assert registered["settled"] == (settlement.booking_settle,)
    assert registered["payment_summary"] == (booking_payment_summary,)
    # ready() running again (a second app registry) registers nothing twice.
    apps.get_app_config("payments").ready()
    assert hooks.registered()["settled"] == (settlement.booking_settle,)


def test_the_real_app_registers_the_booking_facts_provider():
    provider = booking_facts.registered()
    assert provider is not None
    assert (provider.held_spans, provider.reliability) == (facts.held_spans, facts.reliability)


@pytest.fixture
def empty_hooks(monkeypatch):
    monkeypatch.setattr(hooks, "_registry", hooks._Registry())


def test_without_handlers_transitions_still_work_and_nothing_is_called(empty_hooks):
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    services.booking_withdraw(booking_id=booking.pk, actor=customer, now=NOW + HOUR + MINUTE)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.WITHDRAWN
    assert hooks.payment_summary(booking) == {"refunds": [], "receipt": None}


def test_handlers_run_inside_the_transition_with_the_new_state(empty_hooks):
    calls = []
    hooks.register(
        on_left_unpaid=lambda *, booking: calls.append(("left_unpaid", booking.status)),
        on_settled=lambda *, booking, kind: calls.append((kind, booking.status, booking.refund_amount)),
    )
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR + MINUTE)
    services.booking_cancel(booking_id=booking.pk, actor=customer, now=NOW + 2 * HOUR)
    assert calls == [(hooks.Settled.CANCELLED, BookingStatus.CANCELLED, 330_000)]
    other = request(new_customer(), profile, start=booking.start + 3 * HOUR)
    services.booking_accept(booking_id=other.pk, actor=profile.user, now=NOW + HOUR)
    services.bookings_sweep(now=NOW + 2 * HOUR)  # unpaid past its deadline: expires
    assert calls[-1] == ("left_unpaid", BookingStatus.EXPIRED)


def test_a_failing_handler_rolls_the_transition_back(empty_hooks):
    class LedgerDown(Exception):
        pass

    def refuse(*, booking, kind):
        raise LedgerDown

    hooks.register(on_settled=refuse)
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + HOUR)
    services.booking_mark_paid(booking_id=booking.pk, now=NOW + HOUR + MINUTE)
    with pytest.raises(LedgerDown):
        services.booking_cancel(booking_id=booking.pk, actor=customer, now=NOW + 2 * HOUR)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED  # atomic with the posting


def test_without_a_provider_companions_see_no_held_time(monkeypatch):
    monkeypatch.setattr(booking_facts, "_provider", None)
    assert booking_facts.held_spans(NOW) is None
    assert booking_facts.reliability(1) == booking_facts.Reliability(paid_bookings=0, companion_cancellations=0)


def test_the_queryset_filters_match_their_python_twins():
    profile = make_companion()
    customer = new_customer()
    requested = request(customer, profile)
    accepted = request(new_customer(), profile, start=requested.start + 3 * HOUR)
    services.booking_accept(booking_id=accepted.pk, actor=profile.user, now=NOW + HOUR)
    confirmed = request(new_customer(), profile, start=requested.start + 6 * HOUR)
    services.booking_accept(booking_id=confirmed.pk, actor=profile.user, now=NOW + HOUR)
    services.booking_mark_paid(booking_id=confirmed.pk, now=NOW + HOUR + MINUTE)
    rows = list(Booking.objects.all())
    moments = sorted(
        {NOW, NOW + 2 * HOUR, requested.response_deadline, *(b.end for b in rows)}
        | {Booking.objects.get(pk=confirmed.pk).complete_after + delta for delta in (-MINUTE, MINUTE * 0, MINUTE)}
    )
    for moment in moments:
        for name, twin in (("holding", "holds_time_at"), ("overdue", "is_overdue"), ("completable", "is_completable")):
            in_sql = set(getattr(Booking.objects, name)(moment).values_list("pk", flat=True))
            in_python = {b.pk for b in Booking.objects.all() if getattr(b, twin)(moment)}
            assert in_sql == in_python, (name, moment)
