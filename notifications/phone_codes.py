"""Proving a WhatsApp number: a 6-digit code sent over WhatsApp, checked within 10 minutes and 5 attempts.

A WhatsApp matter, so it lives here; the codes are stored on accounts.PhoneVerification (a row about the
user, kept where it was: moving the model would rename its table for no gain) and the proof lands on
User.phone_verified_at."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PhoneVerification, User
from notifications import replies
from notifications.errors import PhoneVerificationError
from notifications.models import InboundMessage
from notifications.services import whatsapp_send_code

CODE_VALIDITY = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3  # per user and, separately, per number


def _code_hash(verification_user_id: int, phone: str, code: str) -> str:
    key = f"{settings.SECRET_KEY}:phone-code".encode()
    return hmac.new(key, f"{verification_user_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def number_said_stop(phone: str) -> bool:
    """The last STOP/START word this number wrote to us was STOP (whoever's account it is on)."""
    for body in (
        InboundMessage.objects.filter(sender=phone).order_by("-received_at").values_list("body", flat=True)[:50]
    ):
        granted = replies.consent_word(body)
        if granted is not None:
            return not granted
    return False


def phone_verification_start(*, user: User, now=None) -> PhoneVerification:
    """Sends a 6-digit code over WhatsApp to the user's number (at most 3 an hour per user and per
    number, so nobody can flood a phone). Only the code's keyed hash is kept."""
    now = now or timezone.now()
    if not user.phone:
        raise PhoneVerificationError(_("Add your mobile number first."))
    if user.phone_verified_at:
        raise PhoneVerificationError(_("This number is already verified."))
    if number_said_stop(user.phone):
        # Whoever owns that number told us to stop: no codes either (someone may be typing it on purpose).
        raise PhoneVerificationError(_("This number asked us to stop sending WhatsApp messages."))
    hour_ago = now - timedelta(hours=1)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per user
        recent = PhoneVerification.objects.filter(created_at__gte=hour_ago)
        if (
            recent.filter(user=user).count() >= CODES_PER_HOUR
            or recent.filter(phone=user.phone).count() >= CODES_PER_HOUR
        ):
            raise PhoneVerificationError(_("Too many codes were sent. Please try again in an hour."))
        code = f"{secrets.randbelow(1_000_000):06d}"
        verification = PhoneVerification.objects.create(
            user=user,
            phone=user.phone,
            code_hash=_code_hash(user.pk, user.phone, code),
            created_at=now,
            expires_at=now + CODE_VALIDITY,
        )
        whatsapp_send_code(user=user, phone=user.phone, code=code)
    return verification


def phone_verification_check(*, user: User, code: str, now=None) -> None:
    """The code from the latest request for the current number, within 10 minutes and 5 attempts."""
    now = now or timezone.now()
    code = "".join(character for character in code if character.isdigit())
    with transaction.atomic():
        # The number as it is now, under the lock a number change also takes: a code proves only the
        # number it was sent to, even if the number changes while it is being checked.
        locked = User.objects.select_for_update().get(pk=user.pk)
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(user=user, phone=locked.phone, verified_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if verification is None or verification.expires_at <= now:
            raise PhoneVerificationError(_("The code has expired. Ask for a new one."))
        if verification.attempts >= CODE_ATTEMPTS:
            raise PhoneVerificationError(_("Too many wrong codes. Ask for a new one."))
        verification.attempts += 1
        right = hmac.compare_digest(_code_hash(user.pk, verification.phone, code), verification.code_hash)
        if right:
            verification.verified_at = now
            User.objects.filter(pk=user.pk, phone=verification.phone).update(phone_verified_at=now)
            user.phone_verified_at = now
        verification.save(update_fields=["attempts", "verified_at"])
    if not right:  # raised after the block, so the counted attempt is kept
        left = CODE_ATTEMPTS - verification.attempts
        raise PhoneVerificationError(
            _("That code is not right. %(left)d attempts left.") % {"left": left}
            if left
            else _("Too many wrong codes. Ask for a new one.")
        )


def code_pending(user: User, *, now=None) -> bool:
    """The latest code sent to the current number can still be entered (the one
    phone_verification_check compares with)."""
    now = now or timezone.now()
    latest = (
        PhoneVerification.objects.filter(user=user, phone=user.phone, verified_at__isnull=True)
        .order_by("-created_at")
        .only("expires_at", "attempts")
        .first()
    )
    return latest is not None and latest.expires_at > now and latest.attempts < CODE_ATTEMPTS
