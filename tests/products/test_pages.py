"""The paid products' pages: Sorotan on the companion's dashboard (what is missing, buying online through the
simulator or from earnings), Kompanion Plus for customers, and a purchase's page (its buyer's only)."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.formatting import format_rupiah
from payments import ledger
from payments import services as payment_services
from payments.gateways.simulator import ACTIONS, notification_for
from payments.models import Payment, SimulatorTransaction
from products.models import Package, Purchase
from products.selectors import is_plus_member, promoted_profile_ids
from tests.bookings.helpers import make_companion, new_customer
from tests.payments.helpers import accepted_on_the_real_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def packages():
    return {
        "sorotan": Package.objects.create(product="sorotan", name="Sorotan 7 hari", days=7, price=70_000),
        "plus": Package.objects.create(product="plus", name="Kompanion Plus 30 hari", days=30, price=49_000),
    }


def pay_in_simulator(client, response):
    """Follows the checkout to the simulator's page (shown for a purchase too), then the simulator's signed
    QRIS settlement is applied by the real webhook service (the test server has no address to post to)."""
    assert response.status_code == 302
    url = response["Location"]
    assert "/payments/simulator/" in url
    assert client.get(url).status_code == 200
    order_id = url.rstrip("/").rsplit("/", 1)[1]
    record = SimulatorTransaction.objects.get(order_id=order_id)
    record.transaction_status, record.payment_type = ACTIONS["pay_qris"]
    record.save(update_fields=["transaction_status", "payment_type"])
    body = notification_for(record)
    payment_services.payment_apply_notification(payload=body, raw_body=json.dumps(body))
    return record


def test_a_companion_buys_sorotan_online_and_is_promoted(client, packages):
    profile = make_companion()
    client.force_login(profile.user)
    page = client.get(reverse("payments:sorotan"))
    assert page.status_code == 200 and f"Sorotan 7 hari · {format_rupiah(70_000)}" in page.content.decode()
    answer = client.post(reverse("payments:sorotan"), {"package": packages["sorotan"].pk, "method": "gateway"})
    pay_in_simulator(client, answer)
    purchase = Purchase.objects.get(buyer=profile.user)
    assert purchase.status == "paid"
    assert profile.pk in promoted_profile_ids(timezone.now() + timedelta(hours=1))
    receipt = client.get(reverse("payments:purchase", args=[purchase.reference]))
    assert receipt.status_code == 200 and b'data-status="paid"' in receipt.content
    # The Sorotan page now shows the running promotion and its statistics.
    page = client.get(reverse("payments:sorotan"))
    assert b'data-testid="periods"' in page.content and b'data-testid="sorotan-stats"' in page.content


def test_a_companion_pays_from_earnings_only_what_is_available(client, packages):
    booking = accepted_on_the_real_clock()
    profile = booking.companion
    client.force_login(profile.user)
    answer = client.post(reverse("payments:sorotan"), {"package": packages["sorotan"].pk, "method": "earnings"})
    assert answer.status_code == 200  # nothing earned yet: the form says so and keeps the choice
    assert "Your available earnings are not enough" in answer.content.decode() or b"tidak cukup" in answer.content
    assert Purchase.objects.get(buyer=profile.user).status == "open"
    assert ledger.balance(ledger.companion_payable_account(profile.pk)) == 0
    assert not Payment.objects.filter(purchase__buyer=profile.user).exists()


def test_what_is_missing_is_shown_and_nothing_is_sold(client, packages):
    profile = make_companion()
    type(profile).objects.filter(pk=profile.pk).update(is_listed=False)
    client.force_login(profile.user)
    page = client.get(reverse("payments:sorotan"))
    assert b'data-testid="missing"' in page.content
    answer = client.post(reverse("payments:sorotan"), {"package": packages["sorotan"].pk, "method": "gateway"})
    assert answer.status_code == 200 and not Purchase.objects.exists()


def test_a_customer_joins_plus_and_the_page_says_until_when(client, packages):
    customer = new_customer()
    client.force_login(customer)
    answer = client.post(reverse("payments:plus"), {"package": packages["plus"].pk, "method": "gateway"})
    pay_in_simulator(client, answer)
    assert is_plus_member(customer)
    page = client.get(reverse("payments:plus"))
    assert b'data-testid="member"' in page.content


def test_bad_input_changes_nothing(client, packages):
    customer = new_customer()
    client.force_login(customer)
    for data in ({}, {"package": "x"}, {"package": packages["sorotan"].pk, "method": "gateway"}, {"method": "cash"}):
        assert client.post(reverse("payments:plus"), data).status_code == 200
    assert not Purchase.objects.exists()


def test_someone_elses_purchase_is_not_found(client, packages):
    customer = new_customer()
    client.force_login(customer)
    client.post(reverse("payments:plus"), {"package": packages["plus"].pk, "method": "gateway"})
    purchase = Purchase.objects.get(buyer=customer)
    client.force_login(new_customer())
    assert client.get(reverse("payments:purchase", args=[purchase.reference])).status_code == 404
    assert client.post(reverse("payments:purchase", args=[purchase.reference])).status_code == 404
