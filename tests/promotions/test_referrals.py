"""The referral programme's rules (promotions/referrals.py): capture at sign-up, the invited friend's raised
welcome discount, the reward timeline on a fake clock (nothing before the friend's first booking completes,
i.e. before its dispute window closes), each fraud rule, the vouchers' life with bookings, the companion's
commission cut, reversal on a full refund at the gateway, and staff withholding or releasing a reward."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import BookingStatus
from payments import ledger
from payments import services as payment_services
from payments.demo import demo_pay
from payments.gateways.simulator import notification_for
from payments.models import SimulatorTransaction
from payments.services.payouts import bank_account_save
from promotions import referrals
from promotions.models import CommissionCut, Redemption, Referral, ReferralCode, StaffDecision, Voucher
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.factories import StaffFactory
from tests.payments.helpers import PAID_AT
from tests.promotions.helpers import promotion

pytestmark = pytest.mark.django_db

R = Referral.Status


@pytest.fixture(autouse=True)
def programme(referral_programme, settings):
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1500


def verified(user, phone=None):
    if phone is not None:
        user.phone = phone
    user.phone_verified_at = NOW - timedelta(days=30)
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def invite(referrer, friend=None, *, address="203.0.113.7", now=NOW):
    friend = friend or verified(new_customer())
    code = referrals.referral_code_for(referrer).code
    return referrals.referral_capture(user=friend, code=code, address=address, now=now)


def first_booking_completed(customer, *, profile=None, captured=None, start=START):
    """The customer's booking, paid, then completed by the deadline job once its dispute window closed."""
    profile = profile or make_companion()
    booking = request(customer, profile, start)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    demo_pay(booking, now=PAID_AT)
    booking.refresh_from_db()
    if captured is None:
        booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1))
    else:
        with captured(execute=True):
            booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1))
    booking.refresh_from_db()
    return booking


# --- Codes and capture ---------------------------------------------------------------------------------


def test_a_code_is_made_once_unambiguous_and_found_whatever_the_case_and_spaces():
    person = new_customer()
    code = referrals.referral_code_for(person)
    assert referrals.referral_code_for(person) == code and ReferralCode.objects.count() == 1
    assert len(code.code) == 8 and set(code.code) <= set(referrals.CODE_ALPHABET)
    assert referrals.find_referral_code(f"  {code.code[:4].lower()} {code.code[4:]} ") == code
    assert referrals.find_referral_code("NOPE1234") is None


def test_a_sign_up_through_a_link_is_recorded_and_nobody_refers_themselves():
    referrer = new_customer()
    referral = invite(referrer)
    assert (referral.status, referral.flags) == (R.PENDING, [])
    assert referral.signup_address and "203.0.113.7" not in referral.signup_address  # hashed, never the address
    own = referrals.referral_code_for(referrer).code
    assert referrals.referral_capture(user=referrer, code=own) is None
    assert referrals.referral_capture(user=new_customer(), code="UNKNOWN9") is None
    # One referral per friend: a second code changes nothing.
    assert (
        referrals.referral_capture(user=referral.referred, code=referrals.referral_code_for(new_customer()).code)
        is None
    )
    assert Referral.objects.count() == 1


def test_an_inactive_referrers_code_is_not_valid():
    referrer = new_customer()
    code = referrals.referral_code_for(referrer).code
    referrer.is_active = False
    referrer.save(update_fields=["is_active"])
    assert referrals.invitation_check(code) and referrals.referral_capture(user=new_customer(), code=code) is None
    assert referrals.invitation_check("") is None


# --- The friend's discount -----------------------------------------------------------------------------


def test_an_invited_friend_gets_the_raised_welcome_discount_and_an_ordinary_new_customer_the_usual_one():
    profile = make_companion()
    invited = invite(new_customer()).referred
    booking = request(invited, profile, START)  # 2 h x Rp 150.000: 25% = 75.000 (the cap)
    assert booking.discount == 75_000
    assert Redemption.objects.get(booking=booking).source == "welcome"
    plain = request(new_customer(), profile, START + timedelta(days=1))
    assert plain.discount == 45_000  # 15%
    # The companion earns the same either way.
    assert booking.companion_earnings == plain.companion_earnings == 240_000


def test_a_held_or_rejected_referral_gets_only_the_ordinary_welcome_discount():
    profile = make_companion()
    referral = invite(new_customer())
    Referral.objects.filter(pk=referral.pk).update(status=R.HELD)
    assert request(referral.referred, profile, START).discount == 45_000


# --- The reward timeline (fake clock) ------------------------------------------------------------------


def test_the_voucher_comes_only_once_the_first_booking_completed_after_its_dispute_window(
    django_capture_on_commit_callbacks,
):
    referrer = verified(new_customer())
    referral = invite(referrer)
    friend = referral.referred
    profile = make_companion()
    booking = request(friend, profile, START)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    demo_pay(booking, now=PAID_AT)
    booking.refresh_from_db()
    # The meeting is over but the dispute window is open: nothing yet.
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.bookings_sweep(now=booking.end + timedelta(hours=1))
        booking_services.bookings_sweep(now=booking.complete_after - timedelta(minutes=1))
    assert Booking_status(booking) == BookingStatus.CONFIRMED
    assert referrals.referral_rewards_sweep(now=booking.complete_after - timedelta(minutes=1)) == 0
    assert not Voucher.objects.exists()
    # The window closed: the booking completes and the referrer gets the voucher, once.
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1))
    referral.refresh_from_db()
    assert referral.status == R.REWARDED and referral.qualifying_booking_id == booking.pk
    voucher = Voucher.objects.get(owner=referrer)
    assert (voucher.amount, voucher.status) == (50_000, "available")
    assert referrals.referral_rewards_sweep() == 0 and Voucher.objects.count() == 1
    assert referrer.notifications.filter(event="referral_voucher").count() == 1


def Booking_status(booking):  # noqa: N802 - reads like the status it returns
    booking.refresh_from_db()
    return booking.status


def test_a_friend_without_a_verified_phone_waits_and_the_sweep_rewards_once_verified():
    referrer = verified(new_customer())
    referral = invite(referrer, friend=new_customer())  # phone given at sign-up, never verified
    first_booking_completed(referral.referred)
    referral.refresh_from_db()
    assert referral.qualified_at is not None and referral.status == R.PENDING
    assert referrals.referral_rewards_sweep() == 0
    why = referrals.invitations(referrer)[0].why
    assert "verify" in why
    verified(referral.referred)
    assert referrals.referral_rewards_sweep() == 1
    assert Referral.objects.get(pk=referral.pk).status == R.REWARDED


def test_a_dispute_resolved_with_a_full_refund_does_not_qualify_and_a_partial_one_does():
    staff = StaffFactory()
    referral = invite(verified(new_customer()))
    profile = make_companion()
    booking = request(referral.referred, profile, START)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    booking.refresh_from_db()
    demo_pay(booking, now=PAID_AT)
    booking_services.booking_dispute(
        booking_id=booking.pk, actor=referral.referred, reason="Pendamping tidak datang sama sekali.", now=START
    )
    booking_services.booking_resolve(booking_id=booking.pk, actor=staff, decision="full_refund", now=START)
    referral.refresh_from_db()
    assert referral.qualified_at is None and referral.status == R.PENDING
    second = request(referral.referred, profile, START + timedelta(days=2))
    booking_services.booking_accept(booking_id=second.pk, actor=profile.user, now=NOW)
    second.refresh_from_db()
    demo_pay(second, now=PAID_AT)
    start = second.start
    booking_services.booking_dispute(
        booking_id=second.pk, actor=referral.referred, reason="Terlambat satu jam dari janji.", now=start
    )
    booking_services.booking_resolve(
        booking_id=second.pk, actor=staff, decision="partial_refund", refund=50_000, now=start
    )
    referral.refresh_from_db()
    assert referral.qualifying_booking_id == second.pk
    assert referrals.referral_reward_try(referral_id=referral.pk) == R.REWARDED


# --- Fraud rules ---------------------------------------------------------------------------------------


def test_same_phone_as_the_referrer_is_self_referral():
    referrer = verified(new_customer(), phone="+6281299990001")
    friend = new_customer()
    friend.phone = "+6281299990001"
    friend.save(update_fields=["phone"])
    referral = invite(referrer, friend=friend)
    assert referral.status == R.REJECTED and "same_phone" in referral.flags
    first_booking_completed(friend)
    verified(friend)
    assert referrals.referral_rewards_sweep() == 0 and not Voucher.objects.exists()


def test_same_bank_account_number_as_the_referrer_is_self_referral():
    referrer_profile = make_companion(name="Ayu")
    friend_profile = make_companion(name="Bunga")
    verified(referrer_profile.user)
    verified(friend_profile.user)
    referral = invite(referrer_profile.user, friend=friend_profile.user)
    bank_account_save(profile=referrer_profile, bank="bca", account_number="1234567890", holder_name="Ayu")
    bank_account_save(profile=friend_profile, bank="bni", account_number="1234-567-890", holder_name="Bunga")
    first_booking_completed(new_customer(), profile=friend_profile)
    assert referrals.referral_rewards_sweep() == 0
    referral.refresh_from_db()
    assert referral.status == R.REJECTED and referral.flags == ["same_bank"]
    assert not CommissionCut.objects.exists()


def test_a_phone_seen_on_another_account_is_not_eligible():
    other = new_customer()
    other.phone_verifications.create(
        phone="+6281299990002", code_hash="x", expires_at=NOW, verified_at=NOW - timedelta(days=300)
    )
    friend = new_customer()
    friend.phone = "+6281299990002"
    friend.save(update_fields=["phone"])
    referral = invite(verified(new_customer()), friend=friend)
    assert referral.status == R.REJECTED and referral.flags == ["phone_seen"]
    # Also when the friend moves to such a number after signing up.
    later = invite(verified(new_customer()))
    first_booking_completed(later.referred)
    verified(later.referred, phone="+6281299990002")
    assert referrals.referral_rewards_sweep() == 0
    later.refresh_from_db()
    assert later.status == R.REJECTED and "phone_seen" in later.flags


def test_a_burst_of_sign_ups_from_one_address_through_one_link_is_held_for_review():
    referrer = new_customer()
    first_three = [invite(referrer, address="198.51.100.9", now=NOW + timedelta(minutes=i)) for i in range(3)]
    assert {referral.status for referral in first_three} == {R.PENDING}
    other_place = invite(referrer, address="192.0.2.44", now=NOW + timedelta(minutes=4))
    other_link = invite(new_customer(), address="198.51.100.9", now=NOW + timedelta(minutes=5))
    fourth = invite(referrer, address="198.51.100.9", now=NOW + timedelta(minutes=6))
    assert fourth.status == R.HELD and fourth.flags == ["ip_burst"]
    held = Referral.objects.filter(referrer=referrer, status=R.HELD)
    assert set(held.values_list("pk", flat=True)) == {r.pk for r in first_three} | {fourth.pk}
    assert Referral.objects.get(pk=other_place.pk).status == R.PENDING
    assert Referral.objects.get(pk=other_link.pk).status == R.PENDING
    # A day later the same address counts afresh.
    next_day = invite(referrer, address="198.51.100.9", now=NOW + timedelta(days=1, minutes=10))
    assert next_day.status == R.PENDING
    # A held referral is not rewarded even when its friend's booking completes, until staff release it.
    first_booking_completed(fourth.referred)
    assert referrals.referral_rewards_sweep() == 0
    staff = StaffFactory()
    referrals.referral_release(referral=fourth, staff=staff, reason="Satu kantor, sudah dicek")
    fourth.refresh_from_db()
    assert fourth.status == R.REWARDED and "ip_burst" in fourth.flags
    assert StaffDecision.objects.get(referral=fourth).action == "release"


def test_at_most_ten_rewards_a_year_per_referrer():
    referrer = verified(new_customer())
    old = invite(referrer, address="")
    Referral.objects.filter(pk=old.pk).update(
        status=R.REWARDED, rewarded_at=NOW - timedelta(days=400), qualified_at=NOW - timedelta(days=400)
    )
    friends = [invite(referrer, address="") for _ in range(11)]
    for index, referral in enumerate(friends):
        Referral.objects.filter(pk=referral.pk).update(qualified_at=NOW)
        assert referrals.referral_reward_try(referral_id=referral.pk, now=NOW + timedelta(minutes=index))
    statuses = [Referral.objects.get(pk=referral.pk).status for referral in friends]
    assert statuses == [R.REWARDED] * 10 + [R.CAPPED]  # the one from 400 days ago does not count
    assert Voucher.objects.filter(owner=referrer).count() == 10


def test_a_full_refund_at_the_gateway_reverses_the_reward():
    referrer = verified(new_customer())
    referral = invite(referrer)
    booking = first_booking_completed(referral.referred)
    assert referrals.referral_rewards_sweep() == 1
    voucher = Voucher.objects.get(owner=referrer)
    payment = booking.payments.get()
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    record.transaction_status = "refund"
    record.save(update_fields=["transaction_status"])
    notification = notification_for(record)
    payment_services.payment_apply_notification(payload=notification, raw_body=json.dumps(notification))
    referral.refresh_from_db()
    voucher.refresh_from_db()
    assert referral.status == R.REVERSED and referral.reversed_at is not None
    assert voucher.status == "revoked"
    # The revoked voucher is no discount any more.
    assert request(referrer, make_companion(), START).discount == 45_000  # the referrer's own welcome discount
    assert "refunded in full" in referrals.invitations(referrer)[0].why


def test_a_reversal_after_the_voucher_was_used_is_recorded():
    referrer = verified(new_customer())
    referral = invite(referrer)
    booking = first_booking_completed(referral.referred)
    referrals.referral_rewards_sweep()
    first_booking_completed(referrer, start=START + timedelta(days=3))  # uses the voucher
    assert Voucher.objects.get(owner=referrer).status == "used"
    referrals.referral_booking_refunded(booking=booking)
    referral.refresh_from_db()
    assert referral.status == R.REVERSED and referral.note == "the voucher was already used"


# --- Vouchers with bookings ----------------------------------------------------------------------------


def rewarded_referrer():
    referrer = verified(new_customer())
    referral = invite(referrer)
    first_booking_completed(referral.referred)
    referrals.referral_rewards_sweep()
    return referrer, Voucher.objects.get(owner=referrer)


def test_a_voucher_is_reserved_by_a_request_released_when_it_ends_and_used_when_paid():
    referrer, voucher = rewarded_referrer()
    profile = make_companion()
    booking = request(referrer, profile, START + timedelta(days=5))
    redemption = Redemption.objects.get(booking=booking)
    assert (booking.discount, redemption.source, redemption.voucher_id) == (50_000, "voucher", voucher.pk)
    assert Voucher.objects.get(pk=voucher.pk).status == "reserved"
    # A second request at the same time does not get it twice (nor the welcome discount: a request is open).
    other = request(referrer, make_companion(), START + timedelta(days=6))
    assert other.discount == 0 and not Redemption.objects.filter(booking=other).exists()
    booking_services.booking_withdraw(booking_id=booking.pk, actor=referrer, now=NOW)
    assert Voucher.objects.get(pk=voucher.pk).status == "available"
    again = request(referrer, profile, START + timedelta(days=7))
    booking_services.booking_accept(booking_id=again.pk, actor=profile.user, now=NOW)
    again.refresh_from_db()
    demo_pay(again, now=PAID_AT)
    assert Voucher.objects.get(pk=voucher.pk).status == "used"
    assert Redemption.objects.get(booking=again).status == "consumed"


def test_a_code_replaces_the_voucher_and_leaves_it_for_later():
    referrer, voucher = rewarded_referrer()
    promotion(code="HEMAT15")
    booking = request(referrer, make_companion(), START + timedelta(days=5), promo_code="hemat15")
    assert Redemption.objects.get(booking=booking).source == "code"
    assert Voucher.objects.get(pk=voucher.pk).status == "available"


def test_an_expired_voucher_is_not_used():
    referrer, voucher = rewarded_referrer()
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=NOW - timedelta(minutes=1))
    booking = request(referrer, make_companion(), START + timedelta(days=5))
    assert Redemption.objects.get(booking=booking).source == "welcome"


# --- The companion's commission cut --------------------------------------------------------------------


def test_a_companion_who_invites_a_companion_pays_a_lower_commission_for_thirty_days():
    referrer = make_companion(name="Ayu")
    verified(referrer.user)
    friend = make_companion(name="Bunga")
    verified(friend.user)
    referral = invite(referrer.user, friend=friend.user)
    normal = request(new_customer(), referrer, START)
    assert normal.commission_basis_points == 2000
    booking = first_booking_completed(new_customer(), profile=friend)
    assert referrals.referral_rewards_sweep() == 1
    cut = CommissionCut.objects.get(referral=referral)
    assert cut.starts_at == booking.closed_at and cut.ends_at == booking.closed_at + timedelta(days=30)
    during = cut.starts_at + timedelta(days=1)
    lower = request(new_customer(), referrer, START + timedelta(days=4), now=during)
    assert lower.commission_basis_points == 1800
    # The companion earns more; the customer pays the same; the platform keeps less.
    assert lower.total == normal.total and lower.companion_earnings == normal.companion_earnings + 6_000
    after = cut.ends_at + timedelta(minutes=1)
    assert request(new_customer(), referrer, START + timedelta(days=35), now=after).commission_basis_points == 2000
    # Taken back by a full refund: it ends at once.
    referrals.referral_booking_refunded(booking=booking, now=during)
    cut.refresh_from_db()
    assert cut.ends_at == during


def test_cuts_do_not_add_up():
    referrer = make_companion(name="Ayu")
    verified(referrer.user)
    for name in ("Bunga", "Citra"):
        friend = make_companion(name=name)
        verified(friend.user)
        invite(referrer.user, friend=friend.user, address="")
        first_booking_completed(new_customer(), profile=friend)
    assert referrals.referral_rewards_sweep() == 2
    moment = CommissionCut.objects.order_by("starts_at").last().starts_at + timedelta(hours=1)
    assert referrals.commission_cut(referrer, moment) == 200


# --- Staff ---------------------------------------------------------------------------------------------


def test_withholding_a_reward_revokes_it_and_is_recorded_with_its_reason():
    staff = StaffFactory()
    referrer, voucher = rewarded_referrer()
    referral = Referral.objects.get(referrer=referrer)
    with pytest.raises(ValueError):
        referrals.referral_withhold(referral=referral, staff=staff, reason="  ")
    referrals.referral_withhold(referral=referral, staff=staff, reason="Akun ganda terbukti")
    referral.refresh_from_db()
    assert referral.status == R.WITHHELD
    assert Voucher.objects.get(pk=voucher.pk).status == "revoked"
    decision = StaffDecision.objects.get(referral=referral)
    assert (decision.action, decision.reason, decision.staff_id) == ("withhold", "Akun ganda terbukti", staff.pk)
    # Withheld before it was due: never issued later.
    pending = invite(verified(new_customer()))
    referrals.referral_withhold(referral=pending, staff=staff, reason="Pola mencurigakan")
    first_booking_completed(pending.referred, start=START + timedelta(days=9))
    assert referrals.referral_rewards_sweep() == 0


def test_the_ledger_balances_and_vouchers_come_out_of_the_platforms_part():
    referrer, _voucher = rewarded_referrer()
    booking = first_booking_completed(referrer, start=START + timedelta(days=3))
    assert booking.discount == 50_000 and booking.companion_earnings == 240_000
    assert ledger.unbalanced_journals() == []
    assert ledger.check().total == 0


def test_the_invitations_list_takes_the_same_queries_for_one_or_many():
    referrer = verified(new_customer())
    invite(referrer, address="")
    with CaptureQueriesContext(connection) as one:
        assert len(referrals.invitations(referrer)) == 1
    for _ in range(5):
        invite(referrer, address="")
    with CaptureQueriesContext(connection) as six:
        rows = referrals.invitations(referrer)
    assert len(rows) == 6 and timezone.is_aware(rows[0].signed_up_at)
    assert len(six.captured_queries) == len(one.captured_queries)
