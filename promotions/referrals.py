"""The referral programme: invitation codes, the friends who signed up through them, and their rewards.

The life of a referral (promotions.models.Referral):

- **Sign-up.** `referral_capture` runs inside the sign-up's transaction (accounts.hooks `signed_up`), with
  the code from the invitation link (kept in the session) or typed on the form. The link's row is locked,
  so two sign-ups through one link are counted one after the other: more than REFERRAL_BURST_SIGNUPS from
  one address within REFERRAL_BURST_HOURS are all held for staff review (flag `ip_burst`). A friend with
  the referrer's own phone number, or a number already seen on another account, is not eligible at once.
- **The friend's discount.** A friend whose referral is in progress gets the raised welcome discount
  (REFERRAL_WELCOME_DISCOUNT_*) on their first booking (promotions/services.py `welcome_discount`).
- **Qualifying.** The friend's first booking (as customer or as companion) that completes, which here
  means its dispute window closed without a dispute, or a dispute resolved with the companion paid
  (`booking_qualifies`, called from every status change).
- **The reward** (`referral_reward_try`, with the referrer's link row locked, so the yearly cap holds under
  concurrency): after the fraud rules (same phone, bank account number or NIK as the referrer; the friend's
  WhatsApp-verified phone never seen on another account; at most REFERRAL_REWARDS_PER_YEAR rewards in 365
  days), a customer referrer gets a Voucher (REFERRAL_VOUCHER_AMOUNT for their own next booking), a
  companion referrer a CommissionCut (REFERRAL_COMMISSION_CUT_BASIS_POINTS lower commission for
  REFERRAL_COMMISSION_CUT_DAYS from the qualifying completion). A friend whose phone is not verified yet
  keeps the referral pending; `referral_rewards_sweep` (hourly) tries again.
- **Reversal.** If the qualifying booking is later refunded in full (a refund or chargeback made at the
  gateway, reported by its notification; or a refund-in-full status), the reward is taken back: an unused
  voucher is revoked, a commission cut ends at once (bookings already priced keep their price).
- **Staff.** `referral_withhold` (any time before or after the reward; recorded with a reason) and
  `referral_release` (a held referral goes back in progress) write a StaffDecision.

Rewards are never cash nor a balance that can be withdrawn: the money stays with the payment provider."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Max, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts import hooks as account_hooks
from accounts.models import PhoneVerification, Role, User
from bookings.models import Booking, BookingStatus
from companions.models import CompanionProfile, IdentityVerification, VerificationStatus
from core import crypto, locks
from core.formatting import format_rupiah
from notifications.services import notification_record
from promotions import hooks as promotion_hooks
from promotions.models import CommissionCut, Referral, ReferralCode, StaffDecision, Voucher

logger = logging.getLogger(__name__)

S = BookingStatus
R = Referral.Status
Flag = Referral.Flag
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a screenshot
CODE_LENGTH = 8
SESSION_KEY = account_hooks.INVITATION_SESSION_KEY
YEAR = timedelta(days=365)


# --- Codes ---------------------------------------------------------------------------------------------


def normalize_invitation_code(text: str) -> str:
    return "".join((text or "").split()).upper()[:16]


def referral_code_for(user: User) -> ReferralCode:
    """The person's invitation code, made on first use (random, never derived from the person)."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=code)
        except IntegrityError:
            existing = ReferralCode.objects.filter(user=user).first()
            if existing is not None:  # made by a parallel request
                return existing
    raise RuntimeError("could not make a unique invitation code")


def find_referral_code(text: str) -> ReferralCode | None:
    code = normalize_invitation_code(text)
    if not code:
        return None
    return (
        ReferralCode.objects.select_related("user")
        .filter(code=code, user__is_active=True, user__erased_at__isnull=True)
        .first()
    )


def invitation_check(text: str) -> str | None:
    """The sign-up form's check of a typed code: None when it is empty or valid, else why not."""
    if not normalize_invitation_code(text):
        return None
    if find_referral_code(text) is None:
        return _("This invitation code is not valid. Check it, or leave the field empty.")
    return None


# --- Sign-up -------------------------------------------------------------------------------------------


def _phone_seen_elsewhere(user: User) -> bool:
    """The phone is, or was being verified, on another account."""
    if not user.phone:
        return False
    if User.objects.filter(phone=user.phone).exclude(pk=user.pk).exists():
        return True
    return PhoneVerification.objects.filter(phone=user.phone).exclude(user=user).exists()


def _same_person_flags(referrer: User, referred: User) -> list[str]:
    flags = []
    if referrer.phone and referrer.phone == referred.phone:
        flags.append(Flag.SAME_PHONE)
    if promotion_hooks.bank_numbers(referrer) & promotion_hooks.bank_numbers(referred):
        flags.append(Flag.SAME_BANK)
    fingerprints = IdentityVerification.objects.filter(profile__user=referrer).values_list("nik_fingerprint")
    if IdentityVerification.objects.filter(profile__user=referred, nik_fingerprint__in=fingerprints).exists():
        flags.append(Flag.SAME_PERSON)
    return flags


def referral_capture(*, user: User, code: str, address: str = "", now: datetime | None = None) -> Referral | None:
    """Records that `user` (just created, in the sign-up's transaction) came through invitation `code`.
    Unknown codes and one's own code record nothing. Never raises for the rules: they decide a state."""
    now = now or timezone.now()
    link = find_referral_code(code)
    if link is None or link.user_id == user.pk or Referral.objects.filter(referred=user).exists():
        return None
    with transaction.atomic():
        return _capture(link, user, address, now)


def _capture(link: ReferralCode, user: User, address: str, now: datetime) -> Referral:
    locks.lock_one(ReferralCode, link.pk)  # one link's sign-ups are counted one after the other
    hashed = crypto.fingerprint(f"signup-address:{address}") if address else ""
    flags = _same_person_flags(link.user, user)
    if _phone_seen_elsewhere(user):
        flags.append(Flag.PHONE_SEEN)
    status = R.REJECTED if flags else R.PENDING
    if hashed:
        since = now - timedelta(hours=settings.REFERRAL_BURST_HOURS)
        burst = Referral.objects.filter(referrer=link.user, signup_address=hashed, signed_up_at__gte=since)
        if burst.count() + 1 > settings.REFERRAL_BURST_SIGNUPS:
            flags.append(Flag.IP_BURST)
            if status == R.PENDING:
                status = R.HELD
            for earlier in locks.lock(burst.filter(status=R.PENDING)):
                earlier.status = R.HELD
                earlier.flags = sorted({*earlier.flags, Flag.IP_BURST})
                earlier.save(update_fields=["status", "flags"])
    return Referral.objects.create(
        referrer=link.user,
        referred=user,
        status=status,
        flags=sorted(set(flags)),
        signup_address=hashed,
        signed_up_at=now,
    )


def referral_signed_up(*, user: User, invitation_code: str, request=None) -> None:
    """accounts.hooks `signed_up`: the typed code, else the one the invitation link left in the session."""
    code = invitation_code
    address = ""
    if request is not None:
        from allauth.account.adapter import get_adapter

        # The form shows the link's code; one who cleared the field chose not to use it. Only a sign-up
        # that did not send the field at all (another form) falls back to the session.
        if "invitation_code" not in getattr(request, "POST", {}):
            code = code or request.session.get(SESSION_KEY, "")
        address = get_adapter().get_client_ip(request) or ""
    if code:
        referral_capture(user=user, code=code, address=address)
        if request is not None:
            request.session.pop(SESSION_KEY, None)


# --- The friend's discount -----------------------------------------------------------------------------


def invited_welcome(customer: User) -> bool:
    """The customer came through an invitation that is in progress: their first booking gets the raised
    welcome discount (a held or ineligible referral gets the ordinary one)."""
    return Referral.objects.filter(referred=customer, status=R.PENDING).exists()


# --- Qualifying and rewarding --------------------------------------------------------------------------


def booking_qualifies(booking: Booking) -> bool:
    """The meeting happened and is settled: completed (dispute window closed), or a dispute resolved with
    the companion paid something."""
    if booking.status == S.COMPLETED:
        return True
    return booking.status == S.RESOLVED and (booking.refund_amount or 0) < booking.total


def booking_status_changed(*, booking: Booking, previous: str, to: str) -> None:
    """bookings/hooks.py `on_status_changed` (inside the transition's transaction)."""
    if to in (S.COMPLETED, S.RESOLVED) and booking_qualifies(booking):
        now = booking.closed_at or timezone.now()
        for user_id in (booking.customer_id, booking.companion.user_id):
            qualified = Referral.objects.filter(
                referred_id=user_id, qualifying_booking__isnull=True, qualified_at__isnull=True
            ).update(qualifying_booking=booking, qualified_at=now)
            if qualified:
                referral = Referral.objects.get(referred_id=user_id)
                transaction.on_commit(lambda pk=referral.pk: _reward_after_commit(pk))
    elif to in (S.CANCELLED, S.RESOLVED) and (booking.refund_amount or 0) >= booking.total > 0:
        referral_booking_refunded(booking=booking)


def _reward_after_commit(referral_id: int) -> None:
    """The reward runs in its own transaction after the completion committed (the hourly sweep retries
    whatever this could not do)."""
    try:
        referral_reward_try(referral_id=referral_id)
    except Exception:  # noqa: BLE001 - swept hourly; never fails the completion that triggered it
        logger.exception("referral %s: reward deferred to the sweep", referral_id)


def rewards_this_year(referrer: User, now: datetime) -> int:
    return Referral.objects.filter(referrer=referrer, rewarded_at__gt=now - YEAR).count()


def referral_reward_try(*, referral_id: int, now: datetime | None = None) -> str:
    """Issues the referral's reward if it is due and every rule allows it. Returns the referral's status
    afterwards. Idempotent: a rewarded (or otherwise decided) referral is left as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        referral = Referral.objects.select_related("referrer", "referred").filter(pk=referral_id).first()
        if referral is None:
            return ""
        link = ReferralCode.objects.filter(user=referral.referrer).first()
        if link is not None:
            locks.lock_one(ReferralCode, link.pk)  # the referrer's rewards are counted one at a time
        referral = locks.lock_one(Referral, referral_id)
        if referral.status != R.PENDING or referral.qualified_at is None or referral.rewarded_at:
            return referral.status
        referrer, referred = referral.referrer, referral.referred
        flags = _same_person_flags(referrer, referred)
        if referred.phone_verified_at is None:
            if flags:
                return _decide(referral, R.REJECTED, flags)
            return referral.status  # waits for the friend's WhatsApp number (the sweep tries again)
        if _phone_seen_elsewhere(referred):
            flags.append(Flag.PHONE_SEEN)
        if flags:
            return _decide(referral, R.REJECTED, flags)
        if not referrer.is_active or referrer.erased_at is not None:
            referral.note = "referrer inactive"
            return _decide(referral, R.REJECTED, [])
        if rewards_this_year(referrer, now) >= settings.REFERRAL_REWARDS_PER_YEAR:
            return _decide(referral, R.CAPPED, [])
        if not _issue(referral, now):
            return referral.status
    return R.REWARDED


def _decide(referral: Referral, status: str, flags: list[str]) -> str:
    referral.status = status
    referral.flags = sorted({*referral.flags, *flags})
    referral.save(update_fields=["status", "flags", "note"])
    return status


def _issue(referral: Referral, now: datetime) -> bool:
    """Issues the reward; False when a companion referrer has no profile yet (the sweep tries again)."""
    referrer = referral.referrer
    profile = CompanionProfile.objects.filter(user=referrer).first() if referrer.role == Role.COMPANION else None
    if referrer.role == Role.COMPANION and profile is None:
        return False
    if profile is not None:
        starts = referral.qualified_at or now
        cut = CommissionCut.objects.create(
            profile=profile,
            referral=referral,
            basis_points=settings.REFERRAL_COMMISSION_CUT_BASIS_POINTS,
            starts_at=starts,
            ends_at=starts + timedelta(days=settings.REFERRAL_COMMISSION_CUT_DAYS),
        )
        event, context = "referral_commission_cut", {"date": timezone.localdate(cut.ends_at).isoformat()}
    else:
        voucher = Voucher.objects.create(
            owner=referrer,
            referral=referral,
            amount=settings.REFERRAL_VOUCHER_AMOUNT,
            issued_at=now,
            expires_at=now + timedelta(days=settings.REFERRAL_VOUCHER_DAYS),
        )
        event, context = "referral_voucher", {"amount": voucher.amount}
    referral.status = R.REWARDED
    referral.rewarded_at = now
    referral.save(update_fields=["status", "rewarded_at"])
    notification_record(recipient=referrer, event=event, context=context, dedupe_key=f"referral-reward:{referral.pk}")
    return True


def referral_rewards_sweep(*, now: datetime | None = None) -> int:
    """Hourly: referrals that qualified but are not decided yet (the friend verified their phone later,
    or the after-commit reward did not run). Returns how many were rewarded."""
    now = now or timezone.now()
    due = Referral.objects.filter(status=R.PENDING, qualified_at__isnull=False, rewarded_at__isnull=True)
    rewarded = 0
    for referral_id in due.order_by("qualified_at").values_list("pk", flat=True)[:500]:
        try:
            rewarded += referral_reward_try(referral_id=referral_id, now=now) == R.REWARDED
        except locks.LockBusy:
            continue  # the next run takes it
    return rewarded


# --- Taking a reward back ------------------------------------------------------------------------------


def _take_back(referral: Referral, now: datetime) -> str:
    """Revokes the referral's reward (locked referral). Returns a note for the record."""
    note = ""
    voucher = Voucher.objects.filter(referral=referral).first()
    if voucher is not None:
        revoked = Voucher.objects.filter(
            pk=voucher.pk, status__in=(Voucher.Status.AVAILABLE, Voucher.Status.RESERVED)
        ).update(status=Voucher.Status.REVOKED)
        if not revoked and voucher.status == Voucher.Status.USED:
            note = "the voucher was already used"
    CommissionCut.objects.filter(referral=referral, ends_at__gt=now).update(
        ends_at=Greatest("starts_at", Value(now, output_field=DateTimeField()))
    )
    return note


def referral_booking_refunded(*, booking: Booking, now: datetime | None = None) -> int:
    """The booking was refunded in full (called inside the change that says so). A reward it earned is
    reversed; a referral it qualified but not yet rewarded waits for another booking. Returns how many
    referrals changed."""
    now = now or timezone.now()
    changed = 0
    for referral in locks.lock(Referral.objects.filter(qualifying_booking=booking)):
        if referral.status == R.REWARDED:
            referral.note = _take_back(referral, now)
            referral.status = R.REVERSED
            referral.reversed_at = now
            referral.save(update_fields=["status", "reversed_at", "note"])
            changed += 1
        elif referral.status in (R.PENDING, R.HELD) and referral.rewarded_at is None:
            referral.qualifying_booking = None
            referral.qualified_at = None
            referral.save(update_fields=["qualifying_booking", "qualified_at"])
            changed += 1
    return changed


def staff_reason(reason: str) -> str:
    """A staff decision's reason as recorded (StaffDecision.reason): trimmed, at most 300 characters, required."""
    reason = (reason or "").strip()[:300]
    if not reason:
        raise ValueError("a reason is required")
    return reason


def referral_withhold(*, referral: Referral, staff: User, reason: str, now: datetime | None = None) -> Referral:
    """Staff withhold the reward (before or after it was issued), with a reason that is recorded."""
    now = now or timezone.now()
    reason = staff_reason(reason)
    with transaction.atomic():
        referral = locks.lock_one(Referral, referral.pk)
        if referral.status != R.WITHHELD:
            if referral.status == R.REWARDED:
                referral.note = _take_back(referral, now)
            referral.status = R.WITHHELD
            referral.save(update_fields=["status", "note"])
        StaffDecision.objects.create(
            action=StaffDecision.Action.WITHHOLD, referral=referral, staff=staff, reason=reason, at=now
        )
    return referral


def referral_release(*, referral: Referral, staff: User, reason: str, now: datetime | None = None) -> Referral:
    """Staff clear a held referral: it goes back in progress (its flags stay as history) and is rewarded
    at once if its friend's first booking already completed."""
    now = now or timezone.now()
    reason = staff_reason(reason)
    with transaction.atomic():
        referral = locks.lock_one(Referral, referral.pk)
        if referral.status != R.HELD:
            return referral
        referral.status = R.PENDING
        referral.save(update_fields=["status"])
        StaffDecision.objects.create(
            action=StaffDecision.Action.RELEASE, referral=referral, staff=staff, reason=reason, at=now
        )
    referral_reward_try(referral_id=referral.pk, now=now)
    referral.refresh_from_db()
    return referral


# --- The companion's commission cut --------------------------------------------------------------------


def commission_cut(profile, now: datetime | None) -> int:
    """bookings/hooks.py `commission_cut`: basis points off this companion's commission at `now`. Cuts do
    not add up: the largest active one applies (several invitations extend the time, not the size)."""
    now = now or timezone.now()
    if getattr(profile, "pk", None) is None:
        return 0
    best = CommissionCut.objects.filter(profile=profile, starts_at__lte=now, ends_at__gt=now).aggregate(
        best=Max("basis_points")
    )["best"]
    return best or 0


# --- Vouchers ------------------------------------------------------------------------------------------


def usable_voucher(customer: User, now: datetime) -> Voucher | None:
    """The customer's voucher that the next booking takes: the largest, then the soonest to expire."""
    if getattr(customer, "pk", None) is None:
        return None
    return (
        Voucher.objects.filter(owner=customer, status=Voucher.Status.AVAILABLE, expires_at__gt=now)
        .order_by("-amount", "expires_at", "pk")
        .first()
    )


def voucher_reserve(voucher: Voucher, now: datetime) -> bool:
    """available -> reserved, one atomic conditional UPDATE (two requests cannot both take it)."""
    return bool(
        Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.AVAILABLE, expires_at__gt=now).update(
            status=Voucher.Status.RESERVED
        )
    )


def voucher_consume(voucher_id: int) -> None:
    Voucher.objects.filter(pk=voucher_id, status=Voucher.Status.RESERVED).update(status=Voucher.Status.USED)


def voucher_release(voucher_id: int) -> None:
    Voucher.objects.filter(pk=voucher_id, status=Voucher.Status.RESERVED).update(status=Voucher.Status.AVAILABLE)


# --- The invitations page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    at: datetime | None = None


@dataclass(frozen=True)
class Invitation:
    friend: str
    signed_up_at: datetime
    status: str
    status_label: str
    steps: tuple[Step, ...]
    why: str  # why the reward is pending, or what happened to it; "" when rewarded
    reward: str


def short_name(user: User) -> str:
    """How invitations name a person (the inviter on the link's page, a friend on the invitations page):
    first name and initial, never the full name."""
    if user.erased_at is not None:
        return _("Former user")
    parts = (user.full_name or "").split()
    if not parts:
        return _("A friend")
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def _verified(user: User, profile_status: str | None) -> bool:
    if user.role == Role.COMPANION:
        return profile_status == VerificationStatus.APPROVED and user.phone_verified_at is not None
    return user.phone_verified_at is not None


def _why(referral: Referral, verified: bool) -> str:
    if referral.status == R.REWARDED:
        return ""
    if referral.status == R.HELD:
        return _("Several sign-ups came from one place through your link: our team is checking them.")
    if referral.status == R.REJECTED:
        if Flag.PHONE_SEEN in referral.flags:
            return _("Your friend's phone number is already used by another account.")
        return _("This sign-up looks like your own account, so it does not earn a reward.")
    if referral.status == R.WITHHELD:
        return _("Our team withheld this reward. Contact us if you think this is a mistake.")
    if referral.status == R.REVERSED:
        return _("Your friend's first booking was refunded in full, so the reward was taken back.")
    if referral.status == R.CAPPED:
        return _("You reached the limit of %(count)d rewards a year.") % {"count": settings.REFERRAL_REWARDS_PER_YEAR}
    if referral.referred.phone_verified_at is None:
        return _("Waiting for your friend to verify their WhatsApp number.")
    if not verified:
        return _("Waiting for your friend's identity check (KTP).")
    if referral.qualified_at is None:
        return _("Waiting for your friend's first booking to be completed (24 hours after it ends, with no dispute).")
    return _("Your reward is on its way.")


def invitations(user: User) -> list[Invitation]:
    """Everyone who signed up through `user`'s invitation, newest first, with their steps (one query)."""
    rows = (
        Referral.objects.filter(referrer=user)
        .select_related("referred", "voucher", "commission_cut")
        .annotate(profile_status=F("referred__companion_profile__verification_status"))
        .order_by("-signed_up_at", "-pk")[:200]
    )
    result = []
    for referral in rows:
        friend = referral.referred
        verified = _verified(friend, referral.profile_status)
        reward = ""
        if referral.status in (R.REWARDED, R.REVERSED, R.WITHHELD):
            voucher = getattr(referral, "voucher", None)
            cut = getattr(referral, "commission_cut", None)
            if voucher is not None:
                amount = format_rupiah(voucher.amount, language=get_language() or "id")
                reward = _("Voucher %(amount)s") % {"amount": amount}
            elif cut is not None:
                reward = _("Commission %(points)s points lower") % {"points": cut.basis_points // 100}
        steps = (
            Step(_("Signed up"), True, referral.signed_up_at),
            Step(_("Verified"), verified),
            Step(_("First booking completed"), referral.qualified_at is not None, referral.qualified_at),
            Step(_("Rewarded"), referral.status == R.REWARDED, referral.rewarded_at),
        )
        result.append(
            Invitation(
                friend=short_name(friend),
                signed_up_at=referral.signed_up_at,
                status=referral.status,
                status_label=str(referral.get_status_display()),
                steps=steps,
                why=_why(referral, verified),
                reward=reward,
            )
        )
    return result


def my_rewards(user: User, now: datetime | None = None) -> dict:
    """The person's rewards for the page: vouchers (available first) and commission cuts."""
    now = now or timezone.now()
    vouchers = list(Voucher.objects.filter(owner=user).order_by("status", "expires_at", "pk")[:50])
    cuts = list(CommissionCut.objects.filter(profile__user=user).order_by("-starts_at")[:50])
    return {
        "vouchers": vouchers,
        "available_vouchers": [v for v in vouchers if v.status == Voucher.Status.AVAILABLE and v.expires_at > now],
        "cuts": cuts,
        "active_cut": next((c for c in cuts if c.starts_at <= now < c.ends_at), None),
        "rewards_this_year": rewards_this_year(user, now),
    }
