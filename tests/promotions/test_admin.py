"""Promotions in the admin (issue 16): a code created with its rules through the admin form; the list and
the page show its cost (consumed discounts, in Rupiah), the first bookings it brought, uses and budget
left, and its redemptions; pausing and resuming ask for a reason, recorded as a StaffDecision shown on the
code's page and in the admin's history.

The referral programme: referrals listed with their states, readable fraud flags and rewards, filtered by
flag; read-only (no add, change or delete); withholding a reward and releasing held referrals ask for a
reason and record it (StaffDecision, shown on the referral's page); held referrals wait in a work queue;
vouchers and commission cuts listed read-only; staff without the promotions permissions are refused."""

from datetime import datetime, time, timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from bookings import services as booking_services
from payments.demo import demo_pay
from promotions import referrals, services
from promotions.models import CommissionCut, Promotion, Redemption, Referral, StaffDecision, Voucher
from tests.bookings.helpers import NOW, START, WIB, make_companion, new_customer, request
from tests.conftest import STAFF_TOTP_SECRET
from tests.factories import CustomerFactory, StaffFactory
from tests.promotions.helpers import promotion

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:promotions_promotion_changelist"


@pytest.fixture
def staff_client(client, staff):
    client.cookies["kompanion_language"] = "en"
    client.force_login(staff)
    return client


def paid_with(code: str, customer=None, start=START):
    """A 2 h booking (subtotal Rp 300.000) requested with `code`, accepted and paid: its discount consumed."""
    profile = make_companion()
    booking = request(customer or new_customer(), profile, start, 2, promo_code=code)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW)
    demo_pay(booking, now=NOW, method="pay_qris")
    booking.refresh_from_db()
    return booking


def test_staff_create_a_code_with_its_rules_through_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:promotions_promotion_add"),
        {
            "code": "  gajian20 ",
            "name": "Payday",
            "kind": "percent",
            "basis_points": "2000",
            "amount": "40000",
            "minimum_subtotal": "200000",
            "uses_per_customer": "1",
            "total_uses": "100",
            "budget": "2000000",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Promotion.objects.get()
    assert (created.code, created.basis_points, created.amount, created.minimum_subtotal) == (
        "gajian20",
        2000,
        40_000,
        200_000,
    )
    assert created.paused is False


def test_a_percentage_code_without_a_percentage_is_refused_in_the_form(staff_client):
    response = staff_client.post(
        reverse("admin:promotions_promotion_add"),
        {
            "code": "ZERO",
            "kind": "percent",
            "basis_points": "0",
            "amount": "0",
            "minimum_subtotal": "0",
            "uses_per_customer": "1",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "needs its percentage" in response.content.decode()
    assert not Promotion.objects.exists()


def test_the_list_and_page_show_cost_first_bookings_uses_and_budget_left(staff_client):
    code = promotion(total_uses=10, budget=1_000_000, uses_per_customer=2)
    first = paid_with("HEMAT15")  # a new customer's first booking: Rp 45.000 off, consumed
    regular = new_customer()
    paid_with("HEMAT15", customer=regular)
    paid_with(
        "HEMAT15", customer=regular, start=START + timedelta(hours=4)
    )  # their second paid booking: not a first booking
    request(new_customer(), make_companion(), START, 2, promo_code="HEMAT15")  # reserved only: no cost yet
    assert Redemption.objects.filter(status=Redemption.Status.CONSUMED).count() == 3
    assert first.discount == 45_000

    listing = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "Rp\xa0135,000" in listing  # cost: three paid discounts
    assert "4 / 10" in listing  # uses taken (reserved or consumed) of the total
    assert "Rp\xa0820,000" in listing  # budget left: 1.000.000 − 4 × 45.000
    assert "15% up to Rp\xa050,000" in listing
    page = staff_client.get(reverse("admin:promotions_promotion_change", args=[code.pk])).content.decode()
    assert "Rp\xa0135,000" in page and first.reference in page
    from promotions.admin import first_bookings

    assert first_bookings(code) == 2  # the first customer's, and the regular's first (not their second)
    redemptions = staff_client.get(reverse("admin:promotions_redemption_changelist")).content.decode()
    assert first.reference in redemptions and "Rp\xa045,000" in redemptions


def test_pausing_asks_a_reason_and_records_it(staff_client, staff):
    code = promotion()
    url = reverse(CHANGELIST)
    asked = staff_client.post(url, {"action": "pause", "_selected_action": [code.pk]})
    assert asked.status_code == 200 and "Reason" in asked.content.decode()
    code.refresh_from_db()
    assert code.paused is False

    too_short = staff_client.post(url, {"action": "pause", "_selected_action": [code.pk], "apply": "1", "reason": "x"})
    assert too_short.status_code == 200
    code.refresh_from_db()
    assert code.paused is False

    reason = "Shared on a coupon forum, pausing until Monday"
    done = staff_client.post(url, {"action": "pause", "_selected_action": [code.pk], "apply": "1", "reason": reason})
    assert done.status_code == 302
    code.refresh_from_db()
    assert code.paused is True
    entry = LogEntry.objects.get(object_id=str(code.pk))
    assert entry.user == staff and entry.change_message == f"Paused: {reason}"
    paused = StaffDecision.objects.get(promotion=code)
    assert (paused.action, paused.staff, paused.reason, paused.referral) == ("pause", staff, reason, None)
    found = services.quote(
        customer=new_customer(), profile=make_companion(), activity=None, start=START, hours=2, code="HEMAT15", now=NOW
    )
    assert found.reason == "This code is paused right now." and found.discount == 0

    staff_client.post(
        url, {"action": "resume", "_selected_action": [code.pk], "apply": "1", "reason": "Forum post removed"}
    )
    code.refresh_from_db()
    assert code.paused is False
    assert LogEntry.objects.filter(object_id=str(code.pk)).count() == 2
    decisions = list(StaffDecision.objects.filter(promotion=code).order_by("pk").values_list("action", "reason"))
    assert decisions == [("pause", reason), ("resume", "Forum post removed")]
    # The code's page shows its decisions with the reasons, read-only.
    page = staff_client.get(reverse("admin:promotions_promotion_change", args=[code.pk])).content.decode()
    assert reason in page and "Forum post removed" in page
    assert 'name="decisions-0-reason"' not in page


def test_a_pause_without_a_reason_changes_nothing(staff_client):
    code = promotion()
    url = reverse(CHANGELIST)
    for reason in ("", "    ", "abc"):
        answer = staff_client.post(
            url, {"action": "pause", "_selected_action": [code.pk], "apply": "1", "reason": reason}
        )
        assert answer.status_code == 200 and 'data-testid="reason-form"' in answer.content.decode()
    code.refresh_from_db()
    assert code.paused is False
    assert not StaffDecision.objects.exists() and not LogEntry.objects.exists()


def test_the_paused_flag_is_not_editable_in_the_form(staff_client):
    code = promotion()
    page = staff_client.get(reverse("admin:promotions_promotion_change", args=[code.pk])).content.decode()
    assert 'name="paused"' not in page


def test_the_add_page_opens_with_empty_figures(staff_client):
    page = staff_client.get(reverse("admin:promotions_promotion_add"))
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()


# --- The referral programme ----------------------------------------------------------------------------

REFERRALS = "admin:promotions_referral_changelist"
SIGNED_UP = NOW - timedelta(days=1)
BURST_ADDRESS = "203.0.113.7"


def invited(referrer, *, address: str = "", now=NOW, **fields) -> Referral:
    """A friend (WhatsApp number verified) who signs up through `referrer`'s link a day before `now`, as
    the sign-up does."""
    signed_up = now - timedelta(days=1)
    friend = CustomerFactory(phone_verified_at=signed_up, **fields)
    code = referrals.referral_code_for(referrer).code
    return referrals.referral_capture(user=friend, code=code, address=address, now=signed_up)


def first_booking_completed(referral: Referral, now=NOW):
    """The friend's first booking, two days after `now` at 10.00 WIB: requested and paid at `now`, then
    completed by the clock (the sweep)."""
    profile = make_companion()
    day = (now + timedelta(days=2)).astimezone(WIB).date()
    start = START if now == NOW else datetime.combine(day, time(10), tzinfo=WIB)
    booking = request(referral.referred, profile, start, 2, now=now)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=now)
    demo_pay(booking, now=now, method="pay_qris")
    booking.refresh_from_db()
    booking_services.bookings_sweep(now=booking.complete_after)
    booking.refresh_from_db()
    assert booking.status == "completed"
    return booking


def rewarded(referrer, now=NOW) -> Referral:
    """A referral rewarded when its friend's first booking completed (on the fixed test clock, or, with
    `now`, days after the real one: a commission cut that has not started yet)."""
    referral = invited(referrer, now=now)
    booking = first_booking_completed(referral, now=now)
    assert referrals.referral_reward_try(referral_id=referral.pk, now=booking.complete_after) == "rewarded"
    referral.refresh_from_db()
    return referral


def burst(referrer, count: int = 4) -> list[Referral]:
    """More sign-ups from one address through one link than the rule allows: all of them held."""
    made = [invited(referrer, address=BURST_ADDRESS) for _ in range(count)]
    for referral in made:
        referral.refresh_from_db()
    assert {referral.status for referral in made} == {"held"}
    return made


def act(client, action: str, referrals_: list[Referral], reason: str | None):
    data = {"action": action, "_selected_action": [referral.pk for referral in referrals_]}
    if reason is not None:
        data |= {"apply": "1", "reason": reason}
    return client.post(reverse(REFERRALS), data)


def listed(response) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


def test_the_referral_list_and_page_show_states_flags_and_rewards(staff_client, django_assert_max_num_queries):
    customer = new_customer()
    by_voucher = rewarded(customer)
    companion = make_companion().user
    by_cut = rewarded(companion)
    held = burst(customer)
    same_phone = invited(customer, phone=customer.phone)
    assert same_phone.status == "rejected" and same_phone.flags == ["phone_seen", "same_phone"]

    with django_assert_max_num_queries(14):  # constant: the people and rewards are joined, not one query a row
        listing = staff_client.get(reverse(REFERRALS))
    content = listing.content.decode()
    assert listed(listing) == {by_voucher.pk, by_cut.pk, same_phone.pk, *(r.pk for r in held)}
    assert customer.email in content and by_voucher.referred.email in content
    assert "Held for review" in content and "Rewarded" in content and "Not eligible" in content
    assert "Burst of sign-ups from one address through this link" in content
    # Readable labels, never the stored values.
    assert "Phone number seen on another account; Same phone number as the referrer" in content
    assert "ip_burst" not in content.split('id="changelist-filter"')[0].split('id="result_list"')[1]
    assert "Voucher Rp\xa050,000 (Ready to use)" in content
    assert "Commission 2% lower until" in content
    # Staff act only through the two actions (no delete).
    assert 'value="withhold"' in content and 'value="release"' in content and "delete_selected" not in content

    page = staff_client.get(reverse("admin:promotions_referral_change", args=[by_voucher.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Voucher Rp\xa050,000 (Ready to use)" in text
    assert 'name="_save"' not in text and 'name="status"' not in text  # nothing to edit


def test_referrals_are_never_added_edited_or_deleted_in_the_admin(staff_client):
    referral = rewarded(new_customer())
    before = list(Referral.objects.values())
    assert staff_client.get(reverse("admin:promotions_referral_add")).status_code == 403
    assert staff_client.get(reverse("admin:promotions_referral_delete", args=[referral.pk])).status_code == 403
    edit = staff_client.post(reverse("admin:promotions_referral_change", args=[referral.pk]), {"status": "pending"})
    assert edit.status_code == 403
    deleted = staff_client.post(
        reverse(REFERRALS), {"action": "delete_selected", "_selected_action": [referral.pk], "post": "yes"}
    )
    assert deleted.status_code in (200, 302)
    assert list(Referral.objects.values()) == before
    for name in ("voucher", "commissioncut"):
        assert staff_client.get(reverse(f"admin:promotions_{name}_add")).status_code == 403


def test_withholding_asks_a_reason_then_revokes_the_unused_voucher_and_records_it(staff_client, staff):
    customer = new_customer()
    referral = rewarded(customer)
    voucher = Voucher.objects.get(referral=referral)
    assert referrals.usable_voucher(customer, voucher.issued_at) == voucher

    asked = act(staff_client, "withhold", [referral], reason=None)
    assert asked.status_code == 200 and 'data-testid="reason-form"' in asked.content.decode()
    assert referral.referred.email in asked.content.decode()
    referral.refresh_from_db()
    assert referral.status == "rewarded" and not StaffDecision.objects.exists()

    reason = "The friend is the referrer's cousin, sharing one phone: a self-referral."
    done = act(staff_client, "withhold", [referral], reason=reason)
    assert done.status_code == 302

    referral.refresh_from_db()
    voucher.refresh_from_db()
    assert (referral.status, voucher.status) == ("withheld", "revoked")
    assert referrals.usable_voucher(customer, voucher.issued_at) is None
    decision = StaffDecision.objects.get()
    assert (decision.action, decision.referral, decision.staff, decision.reason, decision.promotion) == (
        "withhold",
        referral,
        staff,
        reason,
        None,
    )
    page = staff_client.get(reverse("admin:promotions_referral_change", args=[referral.pk])).content.decode()
    assert escape(reason) in page and "Withheld the reward" in page and "Voucher Rp\xa050,000 (Revoked)" in page
    assert f"{customer.email} → {referral.referred.email}" in page


def test_withholding_a_companions_reward_ends_the_commission_cut(staff_client, staff):
    companion = make_companion()
    # On the real clock (the action's): the cut starts when the friend's booking completes, days ahead.
    referral = rewarded(companion.user, now=timezone.now())
    cut = CommissionCut.objects.get(referral=referral)
    during = cut.starts_at + timedelta(days=1)
    assert cut.starts_at > timezone.now() and referrals.commission_cut(companion, during) == 200

    assert act(staff_client, "withhold", [referral], reason="Same household, checked by phone.").status_code == 302

    cut.refresh_from_db()
    assert cut.ends_at == cut.starts_at  # ended before it began
    assert referrals.commission_cut(companion, during) == 0
    assert Referral.objects.get(pk=referral.pk).status == "withheld"
    assert StaffDecision.objects.get().reason == "Same household, checked by phone."


def test_without_a_reason_withholding_and_releasing_change_nothing(staff_client):
    customer = new_customer()
    reward = rewarded(customer)
    held = burst(customer)
    before = (list(Referral.objects.order_by("pk").values()), list(Voucher.objects.order_by("pk").values()))
    for action, chosen in (("withhold", [reward]), ("release", held)):
        for reason in ("", "     ", "no"):
            answer = act(staff_client, action, chosen, reason=reason)
            assert answer.status_code == 200 and 'data-testid="reason-form"' in answer.content.decode()
    assert (list(Referral.objects.order_by("pk").values()), list(Voucher.objects.order_by("pk").values())) == before
    assert not StaffDecision.objects.exists()


def test_releasing_held_referrals_records_it_and_rewards_a_friend_who_already_booked(staff_client, staff):
    customer = new_customer()
    held = burst(customer)
    booked = held[0]
    first_booking_completed(booked)
    booked.refresh_from_db()
    assert booked.qualified_at is not None and booked.status == "held"  # held: no reward yet
    assert referrals.referral_reward_try(referral_id=booked.pk) == "held"
    rejected = invited(customer, phone=customer.phone)

    reason = "Checked: four colleagues at one office signed up together."
    done = act(staff_client, "release", [booked, held[1], rejected], reason=reason)
    assert done.status_code == 302

    statuses = dict(Referral.objects.values_list("pk", "status"))
    assert statuses[booked.pk] == "rewarded"  # released, and its friend's first booking already completed
    assert statuses[held[1].pk] == "pending"  # released, waiting for its friend's first booking
    assert statuses[held[2].pk] == statuses[held[3].pk] == "held"  # not chosen
    assert statuses[rejected.pk] == "rejected"  # not held: left as it was
    assert Voucher.objects.get(referral=booked).status == "available"
    decisions = StaffDecision.objects.filter(action="release")
    assert {decision.referral_id for decision in decisions} == {booked.pk, held[1].pk}
    assert {(decision.staff, decision.reason) for decision in decisions} == {(staff, reason)}
    assert Referral.objects.get(pk=held[1].pk).flags == ["ip_burst"]  # the flag stays as history


def test_the_flag_and_status_filters(staff_client):
    customer = new_customer()
    clean = invited(customer)
    held = burst(customer)
    same_phone = invited(customer, phone=customer.phone)
    url = reverse(REFERRALS)

    assert listed(staff_client.get(url, {"flag": "ip_burst"})) == {r.pk for r in held}
    assert listed(staff_client.get(url, {"flag": "same_phone"})) == {same_phone.pk}
    assert listed(staff_client.get(url, {"flag": "phone_seen"})) == {same_phone.pk}
    assert listed(staff_client.get(url, {"flag": "none"})) == {clean.pk}
    assert listed(staff_client.get(url, {"flag": "same_bank"})) == set()
    assert listed(staff_client.get(url, {"status__exact": "held", "flag": "ip_burst"})) == {r.pk for r in held}
    assert listed(staff_client.get(url, {"status__exact": "pending"})) == {clean.pk}
    assert listed(staff_client.get(url, {"q": same_phone.referred.email})) == {same_phone.pk}


def test_held_referrals_wait_in_the_work_queue(staff_client):
    burst(new_customer())
    response = staff_client.get(reverse("admin:index"))
    queues = {str(queue.label): queue for queue in response.context["work_queues"]}
    held = queues["Referrals held for review"]
    assert held.count == 4 and held.url == reverse(REFERRALS) + "?status__exact=held"


def test_vouchers_and_commission_cuts_are_listed_read_only_with_a_status_filter(staff_client):
    customer_reward = rewarded(new_customer())
    companion_reward = rewarded(make_companion().user, now=timezone.now())  # its cut starts days ahead
    voucher = Voucher.objects.get(referral=customer_reward)
    cut = CommissionCut.objects.get(referral=companion_reward)

    vouchers = staff_client.get(reverse("admin:promotions_voucher_changelist"), {"status__exact": "available"})
    assert listed(vouchers) == {voucher.pk} and "Rp\xa050,000" in vouchers.content.decode()
    assert listed(staff_client.get(reverse("admin:promotions_voucher_changelist"), {"status__exact": "used"})) == set()
    page = staff_client.get(reverse("admin:promotions_voucher_change", args=[voucher.pk])).content.decode()
    assert 'name="_save"' not in page and 'name="amount"' not in page

    cuts = reverse("admin:promotions_commissioncut_changelist")
    assert listed(staff_client.get(cuts)) == {cut.pk}
    assert listed(staff_client.get(cuts, {"state": "upcoming"})) == {cut.pk}
    assert listed(staff_client.get(cuts, {"state": "active"})) == set()
    assert listed(staff_client.get(cuts, {"state": "ended"})) == set()
    page = staff_client.get(reverse("admin:promotions_commissioncut_change", args=[cut.pk])).content.decode()
    assert 'name="_save"' not in page and "2%" in page


def limited_staff(*codenames: str):
    member = StaffFactory(is_superuser=False)
    TOTP.activate(member, STAFF_TOTP_SECRET)
    for codename in codenames:
        member.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="promotions"))
    return member


def test_staff_without_the_promotions_permissions_are_refused(client):
    customer = new_customer()
    reward = rewarded(customer)
    held = burst(customer)
    code = promotion()
    before = list(Referral.objects.order_by("pk").values())
    client.force_login(limited_staff())

    assert client.get(reverse(REFERRALS)).status_code == 403
    assert client.get(reverse("admin:promotions_referral_change", args=[reward.pk])).status_code == 403
    assert client.get(reverse("admin:promotions_voucher_changelist")).status_code == 403
    assert client.get(reverse("admin:promotions_commissioncut_changelist")).status_code == 403
    assert act(client, "withhold", [reward], reason="Not allowed to do this").status_code == 403
    assert act(client, "release", held, reason="Not allowed to do this").status_code == 403
    paused = client.post(
        reverse(CHANGELIST), {"action": "pause", "_selected_action": [code.pk], "apply": "1", "reason": "No rights"}
    )
    assert paused.status_code == 403

    assert list(Referral.objects.order_by("pk").values()) == before
    assert Voucher.objects.get(referral=reward).status == "available"
    assert not StaffDecision.objects.exists()
    assert Promotion.objects.get(pk=code.pk).paused is False
    assert "Referrals held for review" not in {
        str(queue.label) for queue in client.get(reverse("admin:index")).context["work_queues"]
    }


def test_staff_who_may_only_view_referrals_cannot_withhold_or_release(client):
    customer = new_customer()
    reward = rewarded(customer)
    held = burst(customer)
    client.cookies["kompanion_language"] = "en"
    client.force_login(limited_staff("view_referral"))

    listing = client.get(reverse(REFERRALS))
    assert listing.status_code == 200
    assert 'value="withhold"' not in listing.content.decode() and 'value="release"' not in listing.content.decode()
    assert client.get(reverse("admin:promotions_referral_change", args=[reward.pk])).status_code == 200
    act(client, "withhold", [reward], reason="Trying without the right")
    act(client, "release", held, reason="Trying without the right")

    assert Referral.objects.get(pk=reward.pk).status == "rewarded"
    assert set(Referral.objects.filter(pk__in=[r.pk for r in held]).values_list("status", flat=True)) == {"held"}
    assert not StaffDecision.objects.exists()
