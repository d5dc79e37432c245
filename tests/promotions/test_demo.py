"""The demo of `make run` (promotions/demo.py): the public code works on the real clock for a new
customer; every demo login has an invitation code; Rina's invitation link opens the invitation page;
friends who signed up through it are in each state (one rewarded, with a voucher Rina can use at once,
earned by a first booking made and completed through the real services; one in progress; four held by
the burst rule); seeding twice adds nothing."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import User
from bookings.models import Booking
from companions.models import Activity
from core.money import percent_of
from notifications.models import Notification
from payments.demo import demo_pay
from promotions import demo, referrals, services
from promotions.models import Promotion, Redemption, Referral, ReferralCode, StaffDecision, Voucher
from tests.bookings.helpers import START, make_companion, new_customer

pytestmark = pytest.mark.django_db


def test_the_public_demo_code_works_and_seeding_is_idempotent():
    assert demo.seed_promotions() == ["KOMPANION15", "HEMAT50"]
    demo.seed_promotions()
    assert Promotion.objects.count() == 2
    now = timezone.now()
    found = services.quote(
        customer=new_customer(),
        profile=make_companion(),
        activity=Activity.objects.get(slug="hangout"),
        start=max(START, now),
        hours=2,
        code="kompanion15",
        now=now,
    )
    assert (found.reason, found.discount, found.source) == (None, 45_000, "code")


def counts() -> dict[str, int]:
    models = (User, Referral, ReferralCode, Voucher, Booking, Redemption, StaffDecision, Notification)
    return {model.__name__: model.objects.count() for model in models}


def test_the_demo_referrals_invitation_link_and_states(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the demo accounts' avatars
    accounts_demo.seed_accounts()
    make_companion()  # a listed companion for the friend's first booking (the demo's own are not seeded here)

    assert demo.seed_referrals(pay=demo_pay) == 6
    before = counts()
    assert demo.seed_referrals(pay=demo_pay) == 0
    assert counts() == before

    # Every demo login (customers and companions) has an invitation code.
    logins = demo.demo_login_emails()
    assert len(logins) == len(accounts_demo.CUSTOMERS) + len(accounts_demo.COMPANION_NAMES)
    assert set(ReferralCode.objects.values_list("user__email", flat=True)) == set(logins)

    # Rina's link, as seed_demo prints it, opens the invitation page and keeps her code for the sign-up.
    rina = User.objects.get(email="pelanggan@kompanion.test")
    code = ReferralCode.objects.get(user=rina).code
    link = demo.invitation_link()
    assert link == "http://testserver" + reverse("promotions:landing", args=[code])
    page = client.get(link.removeprefix("http://testserver"))
    assert page.status_code == 200 and client.session[referrals.SESSION_KEY] == code

    states = {
        referral.referred.email: (referral.status, referral.flags)
        for referral in Referral.objects.filter(referrer=rina).select_related("referred")
    }
    assert states == {
        "dewa.saputra@kompanion.test": ("rewarded", []),
        "fitri.rahayu@kompanion.test": ("pending", []),
        "gani.prakoso@kompanion.test": ("held", ["ip_burst"]),
        "hani.lestari@kompanion.test": ("held", ["ip_burst"]),
        "ivan.kurnia@kompanion.test": ("held", ["ip_burst"]),
        "jihan.aulia@kompanion.test": ("held", ["ip_burst"]),
    }
    assert Referral.objects.count() == 6

    # Dewa's first booking was real: paid with the raised welcome discount, completed by the clock; it
    # qualified the referral, which earned Rina a voucher she can use on her next booking now.
    rewarded = Referral.objects.get(referred__email="dewa.saputra@kompanion.test")
    booking = Booking.objects.get(customer=rewarded.referred)
    assert booking.status == "completed" and booking.paid_at is not None
    assert rewarded.qualifying_booking == booking and rewarded.qualified_at is not None
    assert rewarded.signed_up_at < booking.created_at
    welcome = Redemption.objects.get(booking=booking)
    assert (welcome.source, welcome.status, welcome.discount) == ("welcome", "consumed", booking.discount)
    # The invited friend's welcome discount (a bigger one than a plain new customer's).
    raised = percent_of(booking.subtotal, settings.REFERRAL_WELCOME_DISCOUNT_BASIS_POINTS)
    assert booking.discount == min(raised, settings.REFERRAL_WELCOME_DISCOUNT_CAP) > 0
    voucher = referrals.usable_voucher(rina, timezone.now())
    assert voucher is not None and voucher.referral == rewarded and voucher.amount == settings.REFERRAL_VOUCHER_AMOUNT
    assert Notification.objects.filter(recipient=rina, event="referral_voucher").count() == 1
    # Fitri has not booked: her referral waits for her first booking.
    assert not Booking.objects.filter(customer__email="fitri.rahayu@kompanion.test").exists()
