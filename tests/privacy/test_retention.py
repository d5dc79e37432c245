"""Retention (issue 15), each rule with a fake clock: nothing before its period, everything due after it,
a second run at the same moment touches nothing, files really gone from storage (in memory and on S3 through
moto); the periods are settings and shown on the privacy pages."""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from chat.models import Conversation, Message
from companions.models import CompanionProfile, IdentityVerification
from core import crypto
from core.redact import ERASED_TEXT
from notifications.models import Delivery, Notification
from payments.models import Payment, PaymentNotification
from privacy import retention
from tests.bookings.helpers import NOW
from tests.companions.conftest import s3_bucket, s3_client, s3_endpoint, s3_storages  # noqa: F401 - fixtures
from tests.factories import CompanionFactory, CustomerFactory
from tests.reviews.helpers import completed_booking

pytestmark = pytest.mark.django_db

NIK = "3171015705980001"
DAY = timedelta(days=1)


def rule(name):
    return next(item for item in retention.personal_data.retention_rules() if item.name == name)


def verification(status="approved", reviewed_at=NOW):
    number = CompanionProfile.objects.count()
    profile = CompanionProfile.objects.create(user=CompanionFactory(), slug=f"p-{number}")
    nik = NIK[:-1] + str(number)  # one NIK, one approved account
    return IdentityVerification.objects.create(
        profile=profile,
        status=status,
        nik=nik,
        nik_last4=nik[-4:],
        nik_fingerprint=crypto.fingerprint(nik),
        reviewed_at=reviewed_at if status != "pending" else None,
        rejection_reason="Foto buram" if status == "rejected" else "",
        ktp_image=ContentFile(b"ktp-bytes", "ktp.jpg"),
        selfie_image=ContentFile(b"selfie-bytes", "selfie.jpg"),
    )


def assert_ktp_retention(settings):
    approved, rejected, pending = verification(), verification("rejected"), verification("pending")
    names = [(item.ktp_image.storage, item.ktp_image.name) for item in (approved, rejected)]
    names += [(item.selfie_image.storage, item.selfie_image.name) for item in (approved, rejected)]
    assert all(storage.exists(name) for storage, name in names)
    ktp = rule("ktp_images")
    assert ktp.run(NOW + 29 * DAY) == 0
    assert ktp.run(NOW + 30 * DAY) == 2
    for storage, name in names:
        assert not storage.exists(name), name
    for item in (approved, rejected):
        item.refresh_from_db()
        assert (item.ktp_image.name, item.selfie_image.name, item.nik) == ("", "", "")
        assert len(item.nik_last4) == 4 and item.nik_fingerprint == crypto.fingerprint(NIK[:-4] + item.nik_last4)
    approved.refresh_from_db()
    assert approved.status == "approved"
    pending.refresh_from_db()
    assert pending.ktp_image.storage.exists(pending.ktp_image.name) and pending.nik.startswith(NIK[:-1])
    assert ktp.run(NOW + 30 * DAY) == 0
    # The period is a setting.
    settings.RETENTION_KTP_DAYS = 5
    pending_now = verification(reviewed_at=NOW + 40 * DAY)
    assert ktp.run(NOW + 44 * DAY) == 0
    assert ktp.run(NOW + 45 * DAY) == 1
    pending_now.refresh_from_db()
    assert pending_now.nik == ""


def test_ktp_and_selfie_images_are_shredded_after_the_decision(settings):
    assert_ktp_retention(settings)


def test_ktp_and_selfie_images_are_shredded_on_s3_too(settings, s3_storages, s3_client, s3_bucket):  # noqa: F811
    assert_ktp_retention(settings)
    keys = [item["Key"] for item in s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
    # Only the pending submission's two images are left in the bucket.
    assert len(keys) == 2 and all(key.startswith("private/") for key in keys)


def test_message_texts_go_a_year_after_the_booking_ends():
    old = completed_booking()
    recent = completed_booking()
    from bookings.models import Booking

    Booking.objects.filter(pk=recent.pk).update(
        start=recent.start + 60 * DAY, end=recent.end + 60 * DAY, hold_until=recent.hold_until + 60 * DAY
    )
    conversation = Conversation.objects.get(booking=old)
    mine = Message.objects.create(
        conversation=conversation, sender=old.customer, text="Nomorku 0812-3456-7890", contacts=[[8, 22, "phone"]]
    )
    kept = Message.objects.create(
        conversation=Conversation.objects.get(booking=recent), sender=recent.customer, text="Sampai ketemu"
    )
    messages = rule("chat_messages")
    assert messages.run(old.end + 364 * DAY) == 0
    touched = messages.run(old.end + 365 * DAY)
    assert touched == Message.objects.filter(conversation=conversation).count() >= 1
    mine.refresh_from_db()
    assert (mine.text, mine.contacts, mine.sender_id) == (ERASED_TEXT, [], old.customer_id)
    kept.refresh_from_db()
    assert kept.text == "Sampai ketemu"
    assert messages.run(old.end + 365 * DAY) == 0


def test_notification_and_delivery_texts_go_after_90_days():
    person = CustomerFactory()
    old = Notification.objects.create(
        recipient=person, event="message_new", context={"sender": "Ayu"}, created_at=NOW - 91 * DAY
    )
    Delivery.objects.create(
        notification=old,
        recipient=person,
        channel="email",
        to=person.email,
        template_key="message_new",
        subject="Pesan baru",
        body="Ayu menulis",
        variables={"1": "Ayu"},
        created_at=NOW - 91 * DAY,
    )
    fresh = Notification.objects.create(
        recipient=person, event="message_new", context={"sender": "Budi"}, created_at=NOW
    )
    notifications = rule("notifications")
    assert notifications.run(NOW) == 2
    old.refresh_from_db()
    delivery = old.deliveries.get()
    assert old.context == {} and old.event == "message_new"
    assert (delivery.to, delivery.subject, delivery.body, delivery.variables) == ("", "", "", [])
    assert delivery.channel == "email"
    fresh.refresh_from_db()
    assert fresh.context == {"sender": "Budi"}
    assert notifications.run(NOW) == 0
    # The in-app list still renders an old notification.
    client = Client()
    client.force_login(person)
    assert client.get(reverse("notifications:list")).status_code == 200


def test_raw_payment_notifications_lose_their_personal_fields_after_the_refund_window():
    booking = completed_booking()
    payment = Payment.objects.create(booking=booking, order_id="KMP-T-1", amount=booking.total, status="paid")
    body = {
        "order_id": "KMP-T-1",
        "transaction_status": "settlement",
        "gross_amount": "330000.00",
        "customer_details": {"email": "sinta@example.id", "phone": "+6281234567890", "first_name": "Sinta"},
        "va_numbers": [{"bank": "bca", "va_number": "12345"}],
    }
    old = PaymentNotification.objects.create(
        payment=payment, order_id="KMP-T-1", raw_body=json.dumps(body), verdict="applied", received_at=NOW - 181 * DAY
    )
    garbage = PaymentNotification.objects.create(
        order_id="?", raw_body="not json sinta@example.id", verdict="malformed", received_at=NOW - 200 * DAY
    )
    fresh = PaymentNotification.objects.create(
        payment=payment, order_id="KMP-T-1", raw_body=json.dumps(body), verdict="duplicate", received_at=NOW
    )
    payments = rule("payment_notifications")
    assert payments.run(NOW) == 2
    old.refresh_from_db()
    kept = json.loads(old.raw_body)
    assert "sinta" not in old.raw_body.lower() and "6281234567890" not in old.raw_body
    assert kept["order_id"] == "KMP-T-1" and kept["gross_amount"] == "330000.00" and kept["customer_details"] == ""
    assert kept["va_numbers"] == [{"bank": "bca", "va_number": "12345"}]
    garbage.refresh_from_db()
    assert json.loads(garbage.raw_body) == {"_scrubbed": True}
    fresh.refresh_from_db()
    assert "sinta@example.id" in fresh.raw_body
    assert payments.run(NOW) == 0


def test_the_daily_job_runs_every_rule_and_a_failing_rule_does_not_stop_the_others(monkeypatch):
    from core import personal_data

    names = {item.name for item in personal_data.retention_rules()}
    assert {"ktp_images", "chat_messages", "notifications", "payment_notifications"} <= names
    personal_data.register_retention(
        "zz_broken", setting="RETENTION_KTP_DAYS", describe=lambda: "x", run=lambda now: 1 / 0
    )
    try:
        touched = retention.run_all(NOW)
    finally:
        personal_data._registry.retention.pop("zz_broken")
    assert touched["zz_broken"] == -1
    assert all(count == 0 for name, count in touched.items() if name != "zz_broken")


def test_the_periods_are_shown_on_the_privacy_pages(settings, customer):
    settings.RETENTION_KTP_DAYS = 31
    settings.RETENTION_MESSAGES_DAYS = 400
    page = Client().get(reverse("privacy")).content.decode()
    assert "31 hari" in page and "400 hari" in page and "90 hari" in page and "14 hari" in page
    client = Client()
    client.force_login(customer)
    page = client.get(reverse("privacy:centre")).content.decode()
    assert "31 hari" in page and "400 hari" in page
    assert reverse("privacy:delete") in page


def test_the_centre_says_what_stays_once_per_reason(customer):
    from core import personal_data

    client = Client()
    client.force_login(customer)
    page = client.get(reverse("privacy:centre")).content.decode()
    kept = {str(declaration.kept) for declaration in personal_data.declarations() if declaration.kept}
    assert kept
    for text in kept:
        assert page.count(str(escape(text))) == 1, text
