"""Trusted contacts and share links (issue 15).

A customer or companion saves one trusted contact (name, WhatsApp number as E.164). Per booking they can
share a link with that contact: a random token (`secrets`, 256 bits), of which only the keyed hash is stored
(core.crypto.fingerprint). A new share revokes the person's older link for that booking. The link shows only
the meeting's time window, the public meeting place and the other party's first name and photo, and works
until the meeting's end + 12 hours; an expired, revoked or unknown token is a 404, the same for each.

The link reaches the contact by WhatsApp (notifications.services.whatsapp_send_on_behalf: the outbox, at
most once, retried like every delivery, the text blanked once sent) and is shown once to the person who
shared it (to copy, or to send with WhatsApp's own share button)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.crypto import fingerprint
from notifications import services as notifications
from safety.meeting import SafetyError, record, role_of
from safety.models import SafetyEventKind, ShareLink, TrustedContact

LINK_VALID_AFTER_END = timedelta(hours=12)
TOKEN_MAX_LENGTH = 64


def contact_of(user: User) -> TrustedContact | None:
    return TrustedContact.objects.filter(user=user).first()


def contact_save(*, user: User, name: str, phone: str, now: datetime | None = None) -> TrustedContact:
    """`phone` already normalised to E.164 (the form does it, as accounts/phones.py)."""
    now = now or timezone.now()
    contact, _created = TrustedContact.objects.update_or_create(
        user=user, defaults={"name": name, "phone": phone, "updated_at": now}
    )
    return contact


def contact_remove(*, user: User) -> None:
    TrustedContact.objects.filter(user=user).delete()


def _hash(token: str) -> str:
    return fingerprint(f"share-link:{token}")


def share_url(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('safety:shared', args=[token])}"


def can_share(booking: Booking, now: datetime) -> bool:
    return booking.status == BookingStatus.CONFIRMED and now < booking.end + LINK_VALID_AFTER_END


def link_create(*, booking: Booking, user: User, now: datetime) -> str:
    """A new link for `user`'s side of the booking (their older one revoked); returns the token, which is
    stored nowhere. Call inside a transaction."""
    ShareLink.objects.filter(booking=booking, user=user, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    ShareLink.objects.create(
        booking=booking,
        user=user,
        token_hash=_hash(token),
        created_at=now,
        expires_at=booking.end + LINK_VALID_AFTER_END,
    )
    return token


def tell_contact(*, booking: Booking, user: User, event: str, now: datetime) -> str | None:
    """Sends `user`'s trusted contact a new share link by WhatsApp with the text of `event` (contact_shared,
    contact_welfare, contact_sos) and records it; returns the link, or None when there is no contact. Call
    inside a transaction."""
    contact = contact_of(user)
    if contact is None:
        return None
    url = share_url(link_create(booking=booking, user=user, now=now))
    notifications.whatsapp_send_on_behalf(
        user=user, phone=contact.phone, event=event, context={"sender": user.get_short_name()}, url=url
    )
    kind = SafetyEventKind.SHARED if event == "contact_shared" else SafetyEventKind.CONTACT_TOLD
    record(booking, kind, actor=user, now=now)
    return url


def share_with_contact(*, booking: Booking, user: User, now: datetime | None = None) -> tuple[str, TrustedContact]:
    """The person shares the booking with their trusted contact: a new link, sent to the contact by
    WhatsApp. Returns (the link, the contact) to show once. Raises SafetyError."""
    now = now or timezone.now()
    if role_of(booking, user) is None:
        raise SafetyError(_("Only the two people of the booking can share it."))
    if not can_share(booking, now):
        raise SafetyError(_("Only a confirmed booking can be shared, until 12 hours after it ends."))
    contact = contact_of(user)
    if contact is None:
        raise SafetyError(_("Save a trusted contact first (Settings, Trusted contact)."))
    with transaction.atomic():
        url = tell_contact(booking=booking, user=user, event="contact_shared", now=now)
    return url, contact


def link_by_token(token: str, now: datetime | None = None) -> ShareLink | None:
    """The live link for `token` with its booking and parties; None for an unknown, revoked or expired one."""
    now = now or timezone.now()
    if not token or len(token) > TOKEN_MAX_LENGTH or "\x00" in token:
        return None
    return (
        ShareLink.objects.select_related("booking__companion__city", "booking__customer", "user")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
