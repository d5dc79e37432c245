"""Writes for accounts: one function per thing a user does."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import hooks
from accounts.errors import IdentityLocked
from accounts.models import ConsentDocument, ConsentRecord, Role, User


@dataclass(frozen=True)
class RequestMeta:
    """Where a consent came from; kept with the record as evidence."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestMeta":
        # REMOTE_ADDR is the client behind a trusted proxy only when the proxy rewrites it;
        # allauth's ALLAUTH_TRUSTED_PROXY_COUNT governs rate limits, we keep the direct peer here.
        return cls(
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:255],
        )


def _record_consent(*, user: User, document: str, granted: bool, meta: RequestMeta, version: str = "") -> None:
    ConsentRecord.objects.create(
        user=user,
        document=document,
        version=version,
        granted=granted,
        ip_address=meta.ip_address,
        user_agent=meta.user_agent,
    )


@transaction.atomic
def user_complete_signup(
    *,
    user: User,
    full_name: str,
    phone: str,
    date_of_birth: date,
    role: str,
    time_zone: str,
    language: str,
    whatsapp_opt_in: bool,
    meta: RequestMeta,
) -> User:
    """Fills in the profile of a user allauth has just created, and records the consents given.

    Precondition: the caller validated the values (forms.SignupForm); phone is E.164.
    """
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    user.full_name = full_name
    user.phone = phone
    user.date_of_birth = date_of_birth
    user.role = role
    user.time_zone = time_zone
    user.preferred_language = language
    user.whatsapp_opt_in = whatsapp_opt_in
    user.save(
        update_fields=[
            "full_name",
            "phone",
            "date_of_birth",
            "role",
            "time_zone",
            "preferred_language",
            "whatsapp_opt_in",
        ]
    )
    _record_consent(user=user, document=ConsentDocument.TERMS, version=settings.TERMS_VERSION, granted=True, meta=meta)
    _record_consent(
        user=user, document=ConsentDocument.PRIVACY, version=settings.PRIVACY_VERSION, granted=True, meta=meta
    )
    if whatsapp_opt_in:
        _record_consent(user=user, document=ConsentDocument.WHATSAPP, granted=True, meta=meta)
    return user


@transaction.atomic
def user_update_settings(
    *,
    user: User,
    full_name: str,
    date_of_birth: date,
    preferred_language: str,
    time_zone: str,
    whatsapp_opt_in: bool,
    meta: RequestMeta,
    email_notifications: bool | None = None,
    message_emails: bool | None = None,
) -> User:
    """Saves the account settings; a change of WhatsApp consent is recorded either way.
    `email_notifications` left out (None) keeps the current choice.

    Raises IdentityLocked (nothing saved) for a new name or date of birth while they are checked
    against a KTP (accounts.hooks.identity_locked: a companion's verification pending or approved)."""
    if (full_name != user.full_name or date_of_birth != user.date_of_birth) and hooks.identity_locked(user):
        field = "full_name" if full_name != user.full_name else "date_of_birth"
        raise IdentityLocked(_("Checked against your KTP. Contact us if it needs to change."), field=field)
    consent_changed = whatsapp_opt_in != user.whatsapp_opt_in
    user.full_name = full_name
    user.date_of_birth = date_of_birth
    user.preferred_language = preferred_language
    user.time_zone = time_zone
    user.whatsapp_opt_in = whatsapp_opt_in
    if email_notifications is not None:
        user.email_notifications = email_notifications
    if message_emails is not None:
        user.message_emails = message_emails
    user.save(
        update_fields=[
            "full_name",
            "date_of_birth",
            "preferred_language",
            "time_zone",
            "whatsapp_opt_in",
            "email_notifications",
            "message_emails",
        ]
    )
    if consent_changed:
        _record_consent(user=user, document=ConsentDocument.WHATSAPP, granted=whatsapp_opt_in, meta=meta)
    return user


def user_change_phone(*, user: User, phone: str) -> User:
    """Precondition: the caller re-authenticated the user and normalised the phone to E.164."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # serialised with a code check
        if phone != user.phone:
            user.phone = phone
            user.phone_verified_at = None  # a new number is proven again before WhatsApp goes there
            user.save(update_fields=["phone", "phone_verified_at"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


def purge_unverified_accounts(*, now=None) -> int:
    """Erases sign-ups that never confirmed an email address within the retention window.

    Staff and superusers are never touched. Safe to run any number of times.
    """
    from allauth.account.models import EmailAddress

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS)
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    unverified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=False)
    # Only sign-ups (they have an unconfirmed address); accounts made by staff have none and stay.
    stale = (
        User.objects.filter(date_joined__lt=cutoff, is_staff=False, is_superuser=False)
        .filter(Exists(unverified))
        .exclude(Exists(verified))
    )
    deleted = 0
    for user_id in stale.values_list("pk", flat=True).iterator():
        try:
            with transaction.atomic():
                # Re-checked under the transaction: the user may have confirmed since the scan.
                count, _ = User.objects.filter(pk=user_id).exclude(Exists(verified)).delete()
        except ProtectedError:
            continue  # has records that must be kept (e.g. bookings): never erased silently
        deleted += 1 if count else 0
    return deleted


def sessions_clear_expired() -> int:
    count, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return count


def user_sessions(user_id: int):
    """The person's live sessions. The database session backend keeps no user column, so this decodes every
    live session in batches: O(live sessions), fine for a deletion or a suspension (rare, in a task or a
    staff action), never for a page. A session that does not decode is no one's."""
    key = str(user_id)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000):
        try:
            data = session.get_decoded()
        except Exception:  # noqa: BLE001, S112 - a corrupt session is no one's
            continue
        if str(data.get(SESSION_KEY, "")) == key:
            yield session


def user_sessions_end(user_id: int) -> int:
    """Deletes every session of the person (Django already refuses an inactive user on each request; this
    removes the rows too, so a reactivated account does not revive an old session)."""
    keys = [session.session_key for session in user_sessions(user_id)]
    if keys:
        Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


def user_set_whatsapp_opt_in(*, user: User, granted: bool, source: str = "reply on WhatsApp") -> None:
    """A reply STOP/BERHENTI (or START/MULAI) on WhatsApp, or Twilio saying the person blocked us or
    opted out: the consent follows, recorded with where it came from."""
    if user.whatsapp_opt_in == granted:
        return
    with transaction.atomic():
        user.whatsapp_opt_in = granted
        user.save(update_fields=["whatsapp_opt_in"])
        ConsentRecord.objects.create(
            user=user, document=ConsentDocument.WHATSAPP, granted=granted, user_agent=source[:255]
        )


def user_deactivate_by_staff(*, user: User, staff: User, kind: str, reason: str) -> None:
    """Staff switch a person off from the user admin or a chat report. With moderation registered (safety),
    it is the same decision as from the safety queue: recorded with who and why, future bookings stopped
    with full refunds, sessions ended. Alone, accounts only deactivates. Raises the handler's user-facing
    error (e.g. staff without the safety permission) with nothing changed."""
    if hooks.staff_deactivation(user=user, staff=staff, kind=kind, reason=reason):
        return
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    user_active_changed(user=user)


def user_active_changed(*, user: User) -> None:
    """Staff activated or deactivated the user (admin): the apps above react (a banned companion leaves
    search at once). Call after saving is_active."""
    hooks.active_changed(user)
