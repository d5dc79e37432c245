"""A person with some of every kind of personal data (for the export and registry tests, and the purge
scan): a companion who also books another companion as a customer, with reviews both ways, messages,
payments, a refund to a bank account, a payout, KTP files looked at by staff, reports, a trusted contact,
notifications, consents, sign-in records. Their texts carry their names, email and phone (what a purge must
remove) and a hostile HTML string (what the readable page must escape)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta

from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from PIL import Image

from accounts.models import Block, ConsentRecord, PhoneVerification, User
from chat.models import Conversation, Message, Report
from companions.models import (
    CompanionPhoto,
    CompanionProfile,
    IdentityFileView,
    IdentityVerification,
    LevelChange,
    TimeOff,
)
from core import crypto
from notifications.models import Delivery, InboundMessage, Notification, OutboxMessage
from payments.models import BankAccount, Payment, PaymentNotification, Payout, Refund
from privacy.models import ExportRequest
from reviews.models import Review, SafetyReport
from safety.models import PersonReport, SafetyEvent, ShareLink, TrustedContact
from tests.bookings.helpers import NOW
from tests.factories import CustomerFactory, StaffFactory
from tests.reviews.helpers import completed_booking, make_companion

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NAME = "Sulastrinda Wibisonova"  # names no Faker name contains
DISPLAY_NAME = "Lastrinda"
EMAIL = "sulastri.wibisono@example.id"
PHONE = "+6281377712345"
NIK = "3171015705980001"
ACCOUNT_NUMBER = "8800123456"
PAYOUT_ACCOUNT_NUMBER = "1234987650"


def png(color=(200, 80, 40)) -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue())


@dataclass
class Seeded:
    person: User
    profile: CompanionProfile
    other_companion: CompanionProfile
    customer: User
    staff: User
    as_customer: object  # the booking where the person is the customer
    as_companion: object  # the booking where the person is the companion

    def needles(self) -> list[str]:
        return [
            NAME,
            EMAIL,
            PHONE,
            PHONE.lstrip("+"),
            "081377712345",
            "0813-7771-2345",
            NIK,
            ACCOUNT_NUMBER,
            PAYOUT_ACCOUNT_NUMBER,
        ]


def seed_person() -> Seeded:
    # Customers book and companions are booked: the person books first as a customer, then becomes a
    # companion (the profile made by the helper is handed over to them).
    person = CustomerFactory(full_name=NAME, email=EMAIL, phone=PHONE, whatsapp_opt_in=True)
    other = make_companion(name="Ayu")
    as_customer = completed_booking(profile=other, customer=person)
    profile = make_companion(name=DISPLAY_NAME)
    placeholder = profile.user
    CompanionProfile.objects.filter(pk=profile.pk).update(user=person)
    placeholder.delete()
    User.objects.filter(pk=person.pk).update(role="companion")
    person.refresh_from_db()
    profile.refresh_from_db()
    person.avatar.save("a.png", png(), save=True)
    CompanionProfile.objects.filter(pk=profile.pk).update(bio=f"Halo, aku {NAME}. {HOSTILE}")
    profile.refresh_from_db()
    staff = StaffFactory()
    customer = CustomerFactory(full_name="Joko Susilo")

    # The profile's own data.
    photo = CompanionPhoto(profile=profile, position=0, is_cover=True, width=8, height=8)
    photo.image.save("p.png", png((10, 20, 30)), save=False)
    photo.thumbnail.save("t.png", png((10, 20, 30)), save=False)
    photo.width = photo.height = 8
    photo.save()
    TimeOff.objects.create(profile=profile, start_date=NOW.date(), end_date=NOW.date(), note=f"nikahan {NAME}")
    LevelChange.objects.create(
        profile=profile,
        kind="override",
        from_level="baru",
        to_level="silver",
        reason=f"{NAME} asked nicely",
        created_by=staff,
    )
    verification = IdentityVerification(
        profile=profile,
        nik=NIK,
        nik_last4=NIK[-4:],
        nik_fingerprint=crypto.fingerprint(NIK),
        status="approved",
        reviewed_by=staff,
        reviewed_at=NOW,
    )
    verification.ktp_image.save("ktp.png", png(), save=False)
    verification.selfie_image.save("selfie.png", png(), save=False)
    verification.save()
    IdentityFileView.objects.create(verification=verification, viewer=staff, kind="ktp", viewed_at=NOW)
    IdentityFileView.objects.create(verification=verification, viewer=staff, kind="selfie", viewed_at=NOW)
    BankAccount.objects.create(profile=profile, bank="bca", account_number=PAYOUT_ACCOUNT_NUMBER, holder_name=NAME)
    Payout.objects.create(
        profile=profile,
        amount=100_000,
        bank="bca",
        account_number=PAYOUT_ACCOUNT_NUMBER,
        holder_name=NAME,
        status="paid",
    )

    # The account's records.
    ConsentRecord.objects.create(
        user=person, document="terms", version="1", ip_address="10.1.2.3", user_agent="Firefox"
    )
    ConsentRecord.objects.create(user=person, document="whatsapp", version="1", granted=False, ip_address="10.1.2.3")
    PhoneVerification.objects.create(user=person, phone=PHONE, code_hash="x" * 64, expires_at=NOW, verified_at=NOW)
    TOTP.activate(person, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    session = SessionStore()
    session["_auth_user_id"] = str(person.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session.create()
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(person.pk),
        object_repr=NAME,
        action_flag=CHANGE,
        change_message="[]",
    )
    LogEntry.objects.create(
        user=person,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(staff.pk),
        object_repr="someone",
        action_flag=CHANGE,
        change_message="[]",
    )

    # Bookings both ways (completed, with notifications to both parties along the way).
    as_companion = completed_booking(profile=profile, customer=customer)
    from bookings.models import Booking

    Booking.objects.filter(pk=as_customer.pk).update(note=f"call me on {PHONE}, {NAME}")

    payment = Payment.objects.create(
        booking=as_customer, order_id=f"KMP-{as_customer.pk}-1", amount=as_customer.total, status="paid", paid_at=NOW
    )
    PaymentNotification.objects.create(
        payment=payment,
        order_id=payment.order_id,
        transaction_status="settlement",
        raw_body=json.dumps({"order_id": payment.order_id, "customer_details": {"email": EMAIL, "phone": PHONE}}),
        verdict="applied",
    )
    Refund.objects.create(
        booking=as_customer,
        payment=payment,
        amount=10_000,
        refund_key=f"r-{payment.pk}",
        reason="cancel",
        method="manual",
        status="manual_done",
        bank="bca",
        account_number=ACCOUNT_NUMBER,
        holder_name=NAME,
    )

    # Conversations: what they wrote (with their number) and what the other side wrote to them.
    conversation = Conversation.objects.get(booking=as_customer)
    mine = Message.objects.create(conversation=conversation, sender=person, text=f"Nomorku {PHONE} ya, {HOSTILE}")
    Message.objects.create(conversation=conversation, sender=other.user, text=f"Siap, {NAME}!")
    their = Conversation.objects.get(booking=as_companion)
    Message.objects.create(conversation=their, sender=customer, text=f"Halo {DISPLAY_NAME}, sampai ketemu")
    Report.objects.create(
        conversation=conversation,
        reporter=person,
        reported=other.user,
        message=mine,
        category="other",
        details=f"{NAME} reporting",
        evidence=[{"id": mine.pk, "sender_id": person.pk, "text": mine.text}],
    )
    Report.objects.create(
        conversation=their, reporter=customer, reported=person, category="other", details=f"about {NAME}", evidence=[]
    )

    # Reviews: written by them (of the companion they booked, and of their customer), and of them.
    closes = as_customer.closed_at + timedelta(days=14)
    stars = {"overall": 2, "punctuality": 2, "communication": 2, "as_described": 2, "respected_boundaries": 2}
    written = Review.objects.create(
        booking=as_customer,
        direction="of_companion",
        author=person,
        subject=other.user,
        companion=other,
        text=f"Biasa saja. — {NAME}",
        window_closes_at=closes,
        published_at=closes,
        **stars,
    )
    SafetyReport.objects.create(review=written, details=f"Dia minta nomor {PHONE}")
    Review.objects.create(
        booking=as_companion,
        direction="of_companion",
        author=customer,
        subject=person,
        companion=profile,
        text=f"{DISPLAY_NAME} ramah sekali",
        window_closes_at=closes,
        published_at=closes,
        **{**stars, "overall": 5},
    )
    Review.objects.create(
        booking=as_companion,
        direction="of_customer",
        author=person,
        subject=customer,
        companion=profile,
        text="Customer yang sopan",
        window_closes_at=closes,
        published_at=closes,
        **{**stars, "overall": 5},
    )

    # A discount on their booking (promotions): kept with the booking, exported.
    from promotions.models import Redemption

    Redemption.objects.create(
        booking=as_customer, customer=person, source="welcome", discount=5_000, status="consumed", reserved_at=NOW
    )
    # A paid product (products): a Plus pass bought with a checkout whose answer names them.
    from products.models import Package, Purchase

    plus = Package.objects.create(product="plus", name="Plus 30", days=30, price=49_000)
    pass_ = Purchase.objects.create(
        reference="PRDSEEDPERSON",
        buyer=person,
        package=plus,
        product="plus",
        days=30,
        price=49_000,
        method="gateway",
        status="paid",
        created_at=NOW,
        paid_at=NOW,
        starts_at=NOW,
        ends_at=NOW + timedelta(days=30),
    )
    Payment.objects.create(
        purchase=pass_,
        order_id="PRDSEEDPERSON-1",
        amount=49_000,
        status="paid",
        checkout_response={"customer_details": {"email": person.email, "first_name": NAME}},
    )
    # Their Sorotan statistics (products): a day of search impressions and profile views.
    from products.models import DailyStat

    DailyStat.objects.create(profile=profile, day=NOW.date(), impressions=120, profile_views=14)
    # Invitations (promotions): their code, a friend who joined through it, and a voucher it earned.
    from promotions.models import Referral, ReferralCode, Voucher

    ReferralCode.objects.create(user=person, code="SEEDPERS")
    invited = Referral.objects.create(
        referrer=person, referred=customer, status="rewarded", signed_up_at=NOW, signup_address="f" * 64
    )
    Voucher.objects.create(
        owner=person, referral=invited, amount=50_000, issued_at=NOW, expires_at=NOW + timedelta(days=180)
    )

    # Safety.
    TrustedContact.objects.create(user=person, name="Ibu Wibisono", phone="+6281299988877")
    ShareLink.objects.create(booking=as_customer, user=person, token_hash="h" * 64, expires_at=NOW)
    SafetyEvent.objects.create(booking=as_customer, actor=person, kind="checked_in")
    PersonReport.objects.create(
        reporter=person,
        reported=other.user,
        booking=as_customer,
        category="harassment",
        description=f"{NAME}: {HOSTILE}",
    )
    PersonReport.objects.create(reporter=customer, reported=person, category="other", description="not theirs to see")

    # Notifications and the WhatsApp dev outbox.
    notification = Notification.objects.create(
        recipient=person, event="message_new", context={"reference": as_customer.reference, "sender": "Ayu"}
    )
    Delivery.objects.create(
        notification=notification,
        recipient=person,
        channel="email",
        to=EMAIL,
        template_key="message_new",
        subject="New message",
        body=f"Hi {NAME}",
    )
    OutboxMessage.objects.create(to=PHONE, template_key="x", body=f"Halo {NAME}", sid="SM-person-1")
    InboundMessage.objects.create(sender=PHONE, body="STOP", provider_id="SM-in-1")
    # An earlier export, long expired.
    ExportRequest.objects.create(
        user=person, status="expired", token_hash="old-" + "0" * 60, requested_at=NOW - timedelta(days=30)
    )
    # Blocked after the booking (a block refuses new requests).
    Block.objects.create(blocker=person, blocked=customer)
    User.objects.filter(pk__in=[person.pk, customer.pk]).update(has_blocks=True)
    return Seeded(
        person=User.objects.get(pk=person.pk),
        profile=profile,
        other_companion=other,
        customer=customer,
        staff=staff,
        as_customer=as_customer,
        as_companion=as_companion,
    )
