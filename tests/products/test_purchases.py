"""Paying for paid products through the real services: the simulator's checkout and its signed notifications
(duplicates and out-of-order ones apply once), paying Sorotan from earnings, the period chain (never two at
once), the daily recognition of deferred revenue (idempotent, exact to the Rupiah over a period), a refund of
the unused part that balances, one purchase at most for double clicks, and eligibility."""

import json
from datetime import timedelta

import pytest
from django.utils import translation

from bookings import services as booking_services
from payments import ledger
from payments import services as payment_services
from payments.gateways.simulator import ACTIONS, notification_for
from payments.models import Journal, Payment, Refund, SimulatorTransaction
from products import services
from products.errors import ProductError
from products.models import Package, Purchase
from products.selectors import is_plus_member, promoted_profile_ids
from tests.bookings.helpers import NOW, make_companion, new_customer
from tests.payments.helpers import paid

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def sorotan7():
    return Package.objects.create(product="sorotan", name="Sorotan 7 hari", days=7, price=70_000)


@pytest.fixture
def plus30():
    return Package.objects.create(product="plus", name="Kompanion Plus 30 hari", days=30, price=49_000)


def checkout(purchase, buyer, now=NOW):
    return payment_services.purchase_checkout(
        purchase_id=purchase.pk, actor=buyer, finish_url="http://testserver/", now=now
    )


def notify(payment, action="pay_qris", now=NOW):
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    record.transaction_status, record.payment_type = ACTIONS[action]
    record.save(update_fields=["transaction_status", "payment_type"])
    body = notification_for(record)
    return payment_services.payment_apply_notification(payload=body, raw_body=json.dumps(body), now=now)


def buy(package, buyer, now=NOW, method="gateway"):
    purchase = services.purchase_open(buyer=buyer, package=package, method=method, now=now)
    if method == "gateway":
        notify(checkout(purchase, buyer, now), now=now)
    else:
        payment_services.purchase_pay_from_earnings(purchase_id=purchase.pk, actor=buyer, now=now)
    purchase.refresh_from_db()
    return purchase


def test_plus_bought_through_the_simulator_runs_for_its_period_and_a_duplicate_applies_once(plus30):
    customer = new_customer()
    purchase = services.purchase_open(buyer=customer, package=plus30, method="gateway", now=NOW)
    payment = checkout(purchase, customer)
    assert payment.order_id == f"{purchase.reference}-1" and payment.amount == 49_000 and payment.booking_id is None
    assert not is_plus_member(customer, NOW)
    notify(payment)
    purchase.refresh_from_db()
    assert purchase.status == "paid" and (purchase.starts_at, purchase.ends_at) == (NOW, NOW + 30 * DAY)
    assert is_plus_member(customer, NOW + 29 * DAY) and not is_plus_member(customer, NOW + 30 * DAY)
    assert ledger.balance(ledger.deferred_account(purchase.pk)) == 49_000  # owed as service, not earned yet
    journals = Journal.objects.count()
    notify(payment, now=NOW + timedelta(minutes=5))  # the same notification again
    assert Journal.objects.count() == journals
    purchase.refresh_from_db()
    assert purchase.ends_at == NOW + 30 * DAY
    # An out-of-order "pending" after the settlement changes nothing either.
    notify(payment, action="pending_va", now=NOW + timedelta(minutes=6))
    assert Payment.objects.get(pk=payment.pk).status == "paid" and Journal.objects.count() == journals
    assert ledger.check().total == 0


def test_a_double_click_opens_one_purchase_and_a_second_attempt_paid_too_goes_back_whole(plus30):
    customer = new_customer()
    first = services.purchase_open(buyer=customer, package=plus30, method="gateway", now=NOW)
    assert services.purchase_open(buyer=customer, package=plus30, method="gateway", now=NOW) == first
    assert checkout(first, customer) == checkout(first, customer)  # the open page is reused
    one = checkout(first, customer)
    Payment.objects.filter(pk=one.pk).update(status="failed")  # e.g. an expired checkout
    two = checkout(first, customer)
    assert two.order_id.endswith("-2")
    notify(two)
    # The first checkout was paid after all (a virtual account paid late): it goes back whole.
    Payment.objects.filter(pk=one.pk).update(status="pending")
    notify(one)
    assert Purchase.objects.filter(buyer=customer).count() == 1
    assert Payment.objects.get(pk=one.pk).needs_refund
    refund = Refund.objects.get(payment=one)
    assert refund.amount == 49_000 and refund.booking_id is None
    assert ledger.check().total == 0


def test_overlapping_purchases_extend_the_period_never_two_at_once(plus30):
    customer = new_customer()
    first = buy(plus30, customer)
    second = buy(plus30, customer, now=NOW + 10 * DAY)
    assert second.starts_at == first.ends_at and second.ends_at == first.ends_at + 30 * DAY


def test_sorotan_from_earnings_spends_only_what_is_available(sorotan7):
    booking, _payment = paid()
    profile = booking.companion
    booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1))
    assert ledger.balance(ledger.companion_payable_account(profile.pk)) == 240_000  # earned, available
    expensive = Package.objects.create(product="sorotan", name="Sorotan mahal", days=30, price=300_000)
    purchase = services.purchase_open(buyer=profile.user, package=expensive, method="earnings", now=NOW)
    with pytest.raises(payment_services.PaymentError):
        payment_services.purchase_pay_from_earnings(purchase_id=purchase.pk, actor=profile.user, now=NOW)
    services.purchase_cancel(purchase_id=purchase.pk)
    bought = buy(sorotan7, profile.user, method="earnings")
    assert bought.status == "paid" and profile.pk in promoted_profile_ids(NOW + DAY)
    assert ledger.balance(ledger.companion_payable_account(profile.pk)) == 240_000 - 70_000
    assert Payment.objects.filter(purchase=bought).count() == 0  # no payment provider involved
    assert ledger.check().total == 0


def test_the_daily_recognition_is_idempotent_and_exact_over_a_period(sorotan7):
    profile = make_companion()
    purchase = buy(sorotan7, profile.user)
    revenue_before = ledger.balance(ledger.PLATFORM_REVENUE)
    recognised = []
    for day in range(1, 10):
        recognised.append(payment_services.purchases_recognise(now=NOW + day * DAY))
        journals = Journal.objects.count()
        assert payment_services.purchases_recognise(now=NOW + day * DAY) == 0
        assert Journal.objects.count() == journals  # the same run again posts nothing
    assert sum(recognised) == 70_000 and recognised[:7] == [10_000] * 7 and recognised[7:] == [0, 0]
    assert ledger.balance(ledger.PLATFORM_REVENUE) - revenue_before == 70_000
    assert ledger.balance(ledger.deferred_account(purchase.pk)) == 0


def test_an_odd_price_is_recognised_to_the_last_rupiah():
    package = Package.objects.create(product="plus", name="Plus 30", days=30, price=49_999)
    purchase = buy(package, new_customer())
    total = sum(payment_services.purchases_recognise(now=NOW + day * DAY) for day in range(1, 32))
    assert total == 49_999
    assert ledger.balance(ledger.deferred_account(purchase.pk)) == 0


def test_a_refund_of_the_unused_part_balances(plus30, staff):
    customer = new_customer()
    purchase = buy(plus30, customer)
    payment_services.purchases_recognise(now=NOW + 3 * DAY)
    unused = payment_services.purchase_refund_unused(purchase_id=purchase.pk, actor=staff, now=NOW + 3 * DAY)
    assert unused == 49_000 - 49_000 * 3 // 30
    purchase.refresh_from_db()
    assert purchase.status == "refunded" and purchase.ends_at == NOW + 3 * DAY and purchase.refunded == unused
    assert not is_plus_member(customer, NOW + 4 * DAY)
    assert ledger.balance(ledger.deferred_account(purchase.pk)) == 0
    refund = Refund.objects.get(payment__purchase=purchase)
    payment_services.refund_process(refund_id=refund.pk, now=NOW + 3 * DAY)
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert payment_services.purchases_recognise(now=NOW + 40 * DAY) == 0  # nothing left to earn
    with pytest.raises(payment_services.PaymentError):
        payment_services.purchase_refund_unused(purchase_id=purchase.pk, actor=staff, now=NOW + 4 * DAY)
    assert ledger.check().total == 0 and ledger.unbalanced_journals() == []


def test_only_staff_refund_and_only_the_buyer_pays(plus30):
    customer, other = new_customer(), new_customer()
    purchase = services.purchase_open(buyer=customer, package=plus30, method="gateway", now=NOW)
    with pytest.raises(payment_services.PaymentError):
        checkout(purchase, other)
    with pytest.raises(payment_services.PaymentError):
        payment_services.purchase_refund_unused(purchase_id=purchase.pk, actor=other, now=NOW)


def test_who_may_buy_what(sorotan7, plus30):
    customer = new_customer()
    with pytest.raises(ProductError):
        services.purchase_open(buyer=customer, package=sorotan7, method="gateway", now=NOW)
    profile = make_companion()
    with pytest.raises(ProductError):
        services.purchase_open(buyer=profile.user, package=plus30, method="gateway", now=NOW)
    with pytest.raises(ProductError):  # earnings pay only Sorotan
        services.purchase_open(buyer=customer, package=plus30, method="earnings", now=NOW)
    type(profile).objects.filter(pk=profile.pk).update(rating_count=2, rating_total=8)  # 4.0 stars
    with translation.override("en"):
        assert services.eligibility(profile.user, "sorotan", NOW) == ["Your rating must be at least 4.5."]
        type(profile).objects.filter(pk=profile.pk).update(rating_total=9, is_listed=False)
        assert services.eligibility(profile.user, "sorotan", NOW) == ["Your profile must be listed in search."]
    Package.objects.filter(pk=plus30.pk).update(active=False)
    plus30.refresh_from_db()
    with pytest.raises(ProductError):
        services.purchase_open(buyer=customer, package=plus30, method="gateway", now=NOW)


def test_an_open_safety_report_blocks_sorotan(sorotan7):
    from safety.models import PersonReport

    profile = make_companion()
    PersonReport.objects.create(
        reporter=new_customer(), reported=profile.user, category="other", description="Perlu diperiksa tim."
    )
    with translation.override("en"):
        assert services.eligibility(profile.user, "sorotan", NOW) == ["A safety report about you is still open."]


def test_pausing_the_profile_pauses_the_promotions_clock(sorotan7):
    from companions.services import profile_set_paused

    profile = make_companion()
    purchase = buy(sorotan7, profile.user)
    later = buy(sorotan7, profile.user, now=NOW + DAY)  # the next week, bought ahead
    assert later.starts_at == NOW + 7 * DAY
    profile_set_paused(profile=profile, paused=True, now=NOW + DAY)
    profile_set_paused(profile=profile, paused=True, now=NOW + 2 * DAY)  # already paused: nothing moves
    profile_set_paused(profile=profile, paused=False, now=NOW + 3 * DAY)
    purchase.refresh_from_db()
    later.refresh_from_db()
    assert purchase.ends_at == NOW + 9 * DAY and purchase.paused_at is None
    assert (later.starts_at, later.ends_at) == (NOW + 9 * DAY, NOW + 16 * DAY)
    profile_set_paused(profile=profile, paused=False, now=NOW + 4 * DAY)  # resuming again changes nothing
    purchase.refresh_from_db()
    assert purchase.ends_at == NOW + 9 * DAY


def test_a_member_is_reminded_once_three_days_before_the_end_unless_renewed(plus30):
    from notifications.models import Notification

    customer, renewer = new_customer(), new_customer()
    buy(plus30, customer)
    buy(plus30, renewer)
    assert services.plus_end_reminders(now=NOW + 26 * DAY) == 0  # four days before: not yet
    buy(plus30, renewer, now=NOW + 20 * DAY)  # the renewer already bought the next pass
    assert services.plus_end_reminders(now=NOW + 27 * DAY + timedelta(hours=1)) == 1
    assert services.plus_end_reminders(now=NOW + 28 * DAY) == 0  # once
    reminder = Notification.objects.get(event="plus_ending")
    assert reminder.recipient == customer
    assert not Notification.objects.filter(recipient=renewer, event="plus_ending").exists()


def test_the_daily_task_runs_every_part(plus30):
    buy(plus30, new_customer())
    from payments.tasks import purchases_daily_task

    outcome = purchases_daily_task.run()
    assert set(outcome) == {"recognised", "closed", "reminded"}


def test_money_for_a_purchase_no_longer_eligible_goes_back_whole(sorotan7):
    from safety.models import PersonReport

    profile = make_companion()
    purchase = services.purchase_open(buyer=profile.user, package=sorotan7, method="gateway", now=NOW)
    payment = checkout(purchase, profile.user)
    PersonReport.objects.create(
        reporter=new_customer(), reported=profile.user, category="other", description="Perlu diperiksa tim."
    )
    notify(payment)
    purchase.refresh_from_db()
    assert purchase.status == "cancelled" and profile.pk not in promoted_profile_ids(NOW + DAY)
    assert Payment.objects.get(pk=payment.pk).needs_refund
    assert Refund.objects.get(payment=payment).amount == 70_000
    assert ledger.balance(ledger.deferred_account(purchase.pk)) == 0 and ledger.check().total == 0


def test_a_lost_notification_is_found_by_reconciliation(plus30):
    customer = new_customer()
    purchase = services.purchase_open(buyer=customer, package=plus30, method="gateway", now=NOW)
    payment = checkout(purchase, customer)
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    record.transaction_status, record.payment_type = ACTIONS["pay_silently"]  # paid; the webhook never came
    record.save(update_fields=["transaction_status", "payment_type"])
    assert not is_plus_member(customer, NOW)
    payment_services.payments_reconcile(now=NOW + payment_services.RECONCILE_AFTER + timedelta(minutes=1))
    purchase.refresh_from_db()
    assert purchase.status == "paid" and is_plus_member(customer, purchase.starts_at + DAY)
