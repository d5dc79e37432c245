"""Proving a WhatsApp number: a 6-digit code over WhatsApp, valid 10 minutes, 5 attempts, at most 3
an hour per user and per number, stored as a keyed hash; WhatsApp goes only to verified numbers."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from accounts import services
from accounts.models import PhoneVerification
from notifications import phone_codes
from notifications.errors import PhoneVerificationError
from notifications.models import Channel, Delivery, OutboxMessage
from notifications.services import notification_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The messages below are matched in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def user():
    return CustomerFactory(whatsapp_opt_in=True)


def send_code(user, django_capture_on_commit_callbacks, now=None) -> str:
    """Requests a code and reads it off the dev outbox (the "phone")."""
    with django_capture_on_commit_callbacks(execute=True):
        phone_codes.phone_verification_start(user=user, now=now)
    return OutboxMessage.objects.filter(to=user.phone).latest("created_at").body.split("*")[-1].split()[0]


def test_the_right_code_verifies_the_number_and_only_its_hash_is_stored(user, django_capture_on_commit_callbacks):
    code = send_code(user, django_capture_on_commit_callbacks)
    assert len(code) == 6 and code.isdigit()
    verification = PhoneVerification.objects.get()
    assert code not in verification.code_hash
    sent = Delivery.objects.get(channel=Channel.WHATSAPP)
    assert sent.status == Delivery.Status.SENT and sent.body == "" and sent.variables == {}  # blanked once sent
    phone_codes.phone_verification_check(user=user, code=code)
    user.refresh_from_db()
    assert user.phone_verified_at is not None
    notification_record(recipient=user, event="payout_paid", context={"amount": 50_000})
    assert Delivery.objects.filter(channel=Channel.WHATSAPP, template_key="payout_paid").exists()


def test_unverified_numbers_get_no_whatsapp(user):
    notification_record(recipient=user, event="payout_paid", context={"amount": 50_000})
    assert not Delivery.objects.filter(channel=Channel.WHATSAPP).exists()


def test_a_wrong_code_counts_and_five_wrong_codes_end_it(user, django_capture_on_commit_callbacks):
    code = send_code(user, django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(PhoneVerificationError, match=f"{left} attempts left"):
            phone_codes.phone_verification_check(user=user, code=wrong)
    with pytest.raises(PhoneVerificationError, match="Too many wrong codes"):
        phone_codes.phone_verification_check(user=user, code=wrong)
    with pytest.raises(PhoneVerificationError, match="Too many wrong codes"):
        phone_codes.phone_verification_check(user=user, code=code)  # even the right one, now
    user.refresh_from_db()
    assert user.phone_verified_at is None


def test_a_code_expires_after_ten_minutes(user, django_capture_on_commit_callbacks):
    code = send_code(user, django_capture_on_commit_callbacks)
    with pytest.raises(PhoneVerificationError, match="expired"):
        later = timezone.now() + timedelta(minutes=10, seconds=1)
        phone_codes.phone_verification_check(user=user, code=code, now=later)


def test_codes_are_rate_limited_per_user_and_per_number(user, django_capture_on_commit_callbacks):
    for _ in range(3):
        send_code(user, django_capture_on_commit_callbacks)
    with pytest.raises(PhoneVerificationError, match="Too many codes"):
        phone_codes.phone_verification_start(user=user)
    # Someone else with the same number (e.g. typed by mistake) cannot flood that phone either.
    other = CustomerFactory(phone=user.phone)
    with pytest.raises(PhoneVerificationError, match="Too many codes"):
        phone_codes.phone_verification_start(user=other)
    # An hour later it works again.
    send_code(user, django_capture_on_commit_callbacks, now=timezone.now() + timedelta(hours=1, minutes=1))


def test_a_new_number_must_be_verified_again(user, django_capture_on_commit_callbacks):
    code = send_code(user, django_capture_on_commit_callbacks)
    phone_codes.phone_verification_check(user=user, code=code)
    services.user_change_phone(user=user, phone="+6281299990000")
    user.refresh_from_db()
    assert user.phone_verified_at is None
    with pytest.raises(PhoneVerificationError, match="expired"):
        phone_codes.phone_verification_check(user=user, code=code)  # the old number's code
