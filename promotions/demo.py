"""Demo promotions for `make run` (composed by web's seed_demo).

- `seed_promotions`: a public code that works at once (KOMPANION15), and one with a minimum subtotal to
  show a reason. Codes already there are left as they are.
- `seed_referrals`: every demo login (the customers and the companions) has an invitation code, and Rina
  (the main demo customer) has invited friends through her link, captured by the real sign-up service
  (promotions.referrals.referral_capture): Dewa, whose first booking (made, paid and completed through the
  real booking services, with the raised welcome discount) earned Rina a voucher she can use at once;
  Fitri, signed up and not booked yet (in progress); and four sign-ups from one address within hours,
  held for review by the burst rule (the admin's "Referrals held for review" queue). Friends already
  there are left as they are, so a second run adds nothing.

Paying is payments' business, above promotions: the seed command (web) passes `pay`."""

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import Role, User
from bookings.demo import Pay, completed_in_the_past
from bookings.models import Booking
from companions.models import CompanionProfile
from promotions import referrals
from promotions.models import Promotion, Referral

PUBLIC_CODE = "KOMPANION15"
DEMO_CODES = (
    {
        "code": PUBLIC_CODE,
        "name": "Demo: public code",
        "kind": Promotion.Kind.PERCENT,
        "basis_points": 1500,
        "amount": 50_000,
        "budget": 10_000_000,
    },
    {
        "code": "HEMAT50",
        "name": "Demo: fixed Rp 50.000 from a Rp 500.000 subtotal",
        "kind": Promotion.Kind.FIXED,
        "basis_points": 0,
        "amount": 50_000,
        "minimum_subtotal": 500_000,
        "total_uses": 100,
    },
)


def seed_promotions(now=None) -> list[str]:
    """Creates the demo codes that are missing; returns every demo code."""
    now = now or timezone.now()
    for fields in DEMO_CODES:
        exists = Promotion.objects.alias(code_lower=Lower("code")).filter(code_lower=fields["code"].lower()).exists()
        if not exists:
            Promotion.objects.create(
                valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=365), **fields
            )
    return [fields["code"] for fields in DEMO_CODES]


# --- The referral programme ----------------------------------------------------------------------------

INVITER_EMAIL = accounts_demo.CUSTOMERS[0][0]  # Rina, the main demo customer
# Dewa's first booking is with this companion (any listed one would do; Indah keeps the journeys' Ayu and
# Bima, the meeting's companions and the history's levels out of it).
FRIEND_COMPANION = "indah"
BURST_ADDRESS = "203.0.113.7"  # a documentation address (RFC 5737): four sign-ups from it within hours


@dataclass(frozen=True)
class Friend:
    email: str
    full_name: str
    phone: str
    signed_up: timedelta  # how long ago
    address: str = ""
    books: bool = False  # makes a first booking that completes (earning Rina's voucher)


FRIENDS = (
    Friend("dewa.saputra@kompanion.test", "Dewa Saputra", "+6281355500001", timedelta(days=14), books=True),
    Friend("fitri.rahayu@kompanion.test", "Fitri Rahayu", "+6281355500002", timedelta(days=2), "198.51.100.20"),
    *(
        Friend(f"{first.lower()}.{last.lower()}@kompanion.test", f"{first} {last}", f"+62813555000{index + 3:02d}",
               timedelta(hours=20 - index), BURST_ADDRESS)
        for index, (first, last) in enumerate(
            [("Gani", "Prakoso"), ("Hani", "Lestari"), ("Ivan", "Kurnia"), ("Jihan", "Aulia")]
        )
    ),
)  # fmt: skip


def demo_login_emails() -> list[str]:
    """The demo logins: the customers and the companions."""
    return [email for email, _name, _city in accounts_demo.CUSTOMERS] + [
        companion.email for companion in accounts_demo.demo_companions()
    ]


def invitation_link(email: str = INVITER_EMAIL) -> str:
    """The person's invitation link, absolute (as the Invite friends page shows it); "" without the account."""
    user = User.objects.filter(email=email).first()
    if user is None:
        return ""
    code = referrals.referral_code_for(user).code
    return f"{settings.SITE_URL.rstrip('/')}{reverse('promotions:landing', args=[code])}"


def seed_referrals(*, pay: Pay) -> int:
    """Invitation codes for the demo logins, and Rina's invited friends (see the module's docstring).
    Returns how many friends signed up in this run (0 on a second run)."""
    for user in User.objects.filter(email__in=demo_login_emails()):
        referrals.referral_code_for(user)
    inviter = User.objects.filter(email=INVITER_EMAIL).first()
    if inviter is None:
        return 0
    code = referrals.referral_code_for(inviter).code
    now = timezone.now()
    password = None
    signed_up = 0
    for friend in FRIENDS:
        user = User.objects.filter(email=friend.email).first()
        if user is None:
            password = password or make_password(accounts_demo.DEMO_PASSWORD)  # the slow hash, once
            user = _sign_up(friend, code=code, password=password, now=now)
            signed_up += 1
        if friend.books:
            _first_booking(user, pay=pay)
    return signed_up


def _sign_up(friend: Friend, *, code: str, password: str, now) -> User:
    """What the sign-up form does for a friend who came through the link (one transaction): the account,
    its verified email, and the referral, captured with the sign-up's address."""
    joined = now - friend.signed_up
    with transaction.atomic():
        user = User.objects.create(
            email=friend.email,
            full_name=friend.full_name,
            password=password,
            role=Role.CUSTOMER,
            phone=friend.phone,
            phone_verified_at=joined,
            date_joined=joined,
            email_notifications=False,  # they read their notifications in the app: no demo emails
        )
        EmailAddress.objects.create(user=user, email=friend.email, verified=True, primary=True)
        referrals.referral_capture(user=user, code=code, address=friend.address, now=joined)
    return user


def _first_booking(friend: User, *, pay: Pay) -> None:
    """The friend's first booking, a day after signing up: requested, accepted, paid and completed by the
    clock through the booking services; its completion qualifies the referral, which earns the reward."""
    referral = Referral.objects.filter(referred=friend).first()
    if referral is None:
        return
    if not Booking.objects.filter(customer=friend).exists():
        profile = (
            CompanionProfile.objects.filter(slug__startswith=FRIEND_COMPANION, is_listed=True).first()
            or CompanionProfile.objects.filter(is_listed=True).order_by("pk").first()
        )
        if profile is None:
            return
        completed_in_the_past(
            friend,
            profile,
            requested=referral.signed_up_at + timedelta(days=1),
            meeting_place="Kopi Kenangan, Blok M",
            note="Demo: pertama kali pakai Kompanion, diajak Rina.",
            pay=pay,
        )
    # The completion rewards after its commit; done here too, so the demo does not depend on when that
    # ran (idempotent: a rewarded referral is left as it is).
    referrals.referral_reward_try(referral_id=referral.pk)
