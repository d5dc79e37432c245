"""Disputes are resolved in Django admin: release, full or partial refund, each recorded as an event."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import BookingStatus
from tests.bookings.helpers import NOW, make_companion, new_customer, request

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:bookings_booking_changelist"


@pytest.fixture
def disputed():
    customer, profile = new_customer(), make_companion()
    booking = request(customer, profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + timedelta(minutes=5))
    services.booking_mark_paid(booking_id=booking.pk, now=NOW + timedelta(minutes=10))
    after_end = booking.end + timedelta(hours=1)
    return services.booking_dispute(
        booking_id=booking.pk, actor=customer, reason="The companion did not come at all.", now=after_end
    )


def resolve(client, booking, **data):
    payload = {"action": "resolve_dispute", "_selected_action": [booking.pk], "apply": "1", **data}
    return client.post(reverse(CHANGELIST), payload)


def test_the_list_filters_by_status_and_shows_the_history(client, staff, disputed):
    client.force_login(staff)
    listing = client.get(reverse(CHANGELIST), {"status__exact": "disputed"})
    assert listing.status_code == 200 and disputed.reference in listing.content.decode()
    detail = client.get(reverse("admin:bookings_booking_change", args=[disputed.pk]))
    assert "The companion did not come at all." in detail.content.decode()


def test_a_partial_refund_needs_a_valid_amount_then_is_recorded(client, staff, disputed):
    client.force_login(staff)
    ask = client.post(reverse(CHANGELIST), {"action": "resolve_dispute", "_selected_action": [disputed.pk]})
    assert ask.status_code == 200 and b'name="decision"' in ask.content
    refused = resolve(client, disputed, decision="partial_refund", refund=disputed.total, note="too much")
    assert refused.status_code == 200
    disputed.refresh_from_db()
    assert disputed.status == BookingStatus.DISPUTED and disputed.refund_amount is None

    resolve(client, disputed, decision="partial_refund", refund=100_000, note="Came 1 hour late.")
    disputed.refresh_from_db()
    assert disputed.status == BookingStatus.RESOLVED
    assert disputed.refund_amount == 100_000
    assert disputed.settled_companion_earnings == disputed.companion_earnings * (disputed.total - 100_000) // (
        disputed.total
    )
    event = disputed.events.order_by("-id").first()
    assert (event.actor, event.from_status, event.to_status) == (staff, "disputed", "resolved")
    assert event.reason.startswith("partial_refund")


@pytest.mark.parametrize(("decision", "refund"), [("release", 0), ("full_refund", None)])
def test_release_and_full_refund(client, staff, disputed, decision, refund):
    client.force_login(staff)
    resolve(client, disputed, decision=decision)
    disputed.refresh_from_db()
    assert disputed.status == BookingStatus.RESOLVED
    assert disputed.refund_amount == (disputed.total if refund is None else refund)


def test_staff_without_two_factor_cannot_resolve_a_dispute(client, staff_without_mfa, disputed):
    assert staff_without_mfa.is_staff and staff_without_mfa.is_superuser
    events_before = list(disputed.events.values_list("pk", flat=True))
    client.force_login(staff_without_mfa)

    refused = resolve(client, disputed, decision="full_refund")

    # The admin sends them to its login, which sends staff to turn on two-factor login first.
    assert refused.status_code == 302
    assert refused["Location"] == f"{reverse('admin:login')}?next={reverse(CHANGELIST)}"
    onward = client.get(refused["Location"])
    assert (onward.status_code, onward["Location"]) == (302, reverse("mfa_activate_totp"))
    disputed.refresh_from_db()
    assert disputed.status == BookingStatus.DISPUTED
    assert disputed.refund_amount is None
    assert list(disputed.events.values_list("pk", flat=True)) == events_before


def test_a_dispute_cannot_be_opened_before_the_start():
    from bookings.errors import TransitionNotAllowed

    customer, profile = new_customer(), make_companion()
    booking = request(customer, profile)
    services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + timedelta(minutes=5))
    services.booking_mark_paid(booking_id=booking.pk, now=NOW + timedelta(minutes=10))
    with pytest.raises(TransitionNotAllowed):
        services.booking_dispute(
            booking_id=booking.pk,
            actor=customer,
            reason="I changed my mind about it.",
            now=booking.start - timedelta(hours=1),
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_staff_without_two_factor_login_cannot_read_bookings(client, staff_without_mfa, staff, disputed):
    url = reverse("bookings:detail", args=[disputed.reference])
    client.force_login(staff_without_mfa)
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
