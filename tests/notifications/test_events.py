"""Each event produces the right notifications for the right people, in their language, once; and
the outside channels follow each person's choices (WhatsApp only to a verified, opted-in number)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as booking_services
from notifications.models import Channel, Delivery, Notification
from notifications.services import notification_record
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.payments.helpers import paid

pytestmark = pytest.mark.django_db


def events(**filters) -> list[tuple[str, int]]:
    return sorted(Notification.objects.filter(**filters).values_list("event", "recipient_id"))


def test_the_booking_flow_tells_each_side_what_matters_to_them_once():
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)  # a second click
    assert events() == sorted([("booking_requested", profile.user.pk), ("booking_accepted", customer.pk)])


def test_payment_and_completion_reach_both_sides():
    booking, _payment = paid()
    companion, customer = booking.companion.user.pk, booking.customer.pk
    assert ("booking_confirmed", companion) in events() and ("booking_confirmed", customer) in events()
    booking_services.bookings_sweep(now=booking.complete_after)
    assert events(event="booking_completed") == sorted(
        [("booking_completed", companion), ("booking_completed", customer)]
    )


def test_a_cancellation_with_a_refund_tells_the_customer_when_the_money_is_back(django_capture_on_commit_callbacks):
    booking, _payment = paid()
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    assert ("booking_cancelled", booking.companion.user.pk) in events()
    assert events(event="refund_done") == [("refund_done", booking.customer.pk)]


def test_texts_are_in_the_recipients_language_and_zone():
    profile = make_companion()
    customer = new_customer()
    customer.preferred_language, customer.time_zone = "en", "Asia/Makassar"
    customer.save()
    profile.user.preferred_language = "id"
    profile.user.save()
    booking = request(customer, profile)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    to_companion = Delivery.objects.get(recipient=profile.user, channel=Channel.EMAIL)
    to_customer = Delivery.objects.get(recipient=customer, channel=Channel.EMAIL)
    assert to_companion.language == "id" and to_companion.subject == "Permintaan pemesanan baru"
    assert "Kamis, 26 Nov 2026, 10.00 WIB" in to_companion.body  # START in the companion's zone
    assert to_customer.language == "en" and to_customer.subject == "Your request was accepted"
    assert "Thu, 26 Nov 2026, 11:00 AM WITA" in to_customer.body  # the same time in the customer's zone
    assert f"http://testserver/bookings/{booking.reference}/" in to_customer.body


def test_whatsapp_only_for_a_verified_opted_in_number_and_email_only_when_wanted():
    verified = new_customer()
    verified.whatsapp_opt_in, verified.phone_verified_at = True, timezone.now()
    verified.save()
    unverified = new_customer()
    unverified.whatsapp_opt_in = True
    unverified.save()
    no_email = new_customer()
    no_email.email_notifications = False
    no_email.save()
    for user in (verified, unverified, no_email):
        notification_record(recipient=user, event="payout_paid", context={"amount": 100_000})
    channels = sorted(Delivery.objects.values_list("recipient_id", "channel"))
    assert channels == sorted(
        [(verified.pk, Channel.EMAIL), (verified.pk, Channel.WHATSAPP), (unverified.pk, Channel.EMAIL)]
    )
    whatsapp = Delivery.objects.get(channel=Channel.WHATSAPP)
    assert whatsapp.to == verified.phone and whatsapp.variables == {
        "1": "Rp\u00a0100.000",
        "2": "http://testserver/companion/earnings/",
    }
    # Every user still gets the in-app notification.
    assert Notification.objects.count() == 3


def test_a_once_only_key_records_once():
    user = new_customer()
    first = notification_record(recipient=user, event="reminder_24h", context={}, dedupe_key="reminder_24h:1:1")
    second = notification_record(recipient=user, event="reminder_24h", context={}, dedupe_key="reminder_24h:1:1")
    assert first is not None and second is None
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 1


def test_verification_decisions_reach_the_companion(staff):
    from companions import services as companion_services
    from companions.models import IdentityVerification
    from tests.companions.test_services import jpeg

    profile = make_companion()
    verification = IdentityVerification.objects.create(
        profile=profile, nik="3174016104960001", nik_last4="0001", ktp_image=jpeg(), selfie_image=jpeg()
    )
    companion_services.verification_reject(
        verification_id=verification.pk, reviewer=staff, reason="Foto KTP buram, tolong unggah ulang."
    )
    notification = Notification.objects.get(event="verification_rejected")
    assert notification.recipient == profile.user
    assert notification.context == {"reason": "Foto KTP buram, tolong unggah ulang."}


def test_every_event_the_code_records_has_a_message():
    """A new event without an entry in the catalogue would fail at record time: list them all here."""
    import re
    from pathlib import Path

    from notifications.messages import CATALOGUE

    source = "".join(
        path.read_text() for folder in ("bookings", "payments", "companions") for path in Path(folder).rglob("*.py")
    )
    recorded = set(re.findall(r'event="([a-z_0-9]+)"', source)) | set(
        re.findall(r'_notify\(\s*booking,\s*"([a-z_0-9]+)"', source)
    )
    recorded |= {"booking_expired_unanswered", "booking_expired_unpaid", "booking_completed"}  # DEADLINE_MOVES
    assert recorded - set(CATALOGUE) == set()
