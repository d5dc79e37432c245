"""Paid products in the admin: packages and prices, purchases with the sales and revenue per product, and the
refund of the unused part (the same service as everywhere); purchases are never edited by hand."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from payments import ledger
from payments import services as payment_services
from payments.gateways.simulator import ACTIONS, notification_for
from payments.models import Refund, SimulatorTransaction
from products import services
from products.models import Package, Purchase
from tests.bookings.helpers import NOW, new_customer

pytestmark = pytest.mark.django_db

PURCHASES = "admin:products_purchase_changelist"


@pytest.fixture
def staff_client(client, staff):
    client.cookies["kompanion_language"] = "en"
    client.force_login(staff)
    return client


def bought_plus():
    package = Package.objects.create(product="plus", name="Kompanion Plus 30 hari", days=30, price=49_000)
    customer = new_customer()
    purchase = services.purchase_open(buyer=customer, package=package, method="gateway", now=NOW)
    payment = payment_services.purchase_checkout(
        purchase_id=purchase.pk, actor=customer, finish_url="http://testserver/", now=NOW
    )
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    record.transaction_status, record.payment_type = ACTIONS["pay_qris"]
    record.save(update_fields=["transaction_status", "payment_type"])
    body = notification_for(record)
    payment_services.payment_apply_notification(payload=body, raw_body=json.dumps(body), now=NOW)
    purchase.refresh_from_db()
    return purchase


def test_staff_set_a_package_and_its_price(staff_client):
    response = staff_client.post(
        reverse("admin:products_package_add"),
        {"product": "sorotan", "name": "Sorotan 30 hari", "days": 30, "price": 250_000, "active": "on"},
    )
    assert response.status_code == 302
    assert Package.objects.get().price == 250_000


def test_the_purchase_list_shows_sales_and_revenue_per_product_and_refunds_the_unused_part(staff_client):
    purchase = bought_plus()
    listing = staff_client.get(reverse(PURCHASES)).content.decode()
    assert 'data-testid="product-figures"' in listing and purchase.reference in listing
    assert "Rp\xa049,000" in listing or "Rp 49,000" in listing
    running = staff_client.get(reverse(PURCHASES), {"period": "running"}).content.decode()
    over = staff_client.get(reverse(PURCHASES), {"period": "over"}).content.decode()
    assert purchase.reference not in over and (purchase.reference in running) == (purchase.ends_at > timezone.now())
    # Purchases are read-only; the refund goes through the action.
    assert staff_client.get(reverse("admin:products_purchase_add")).status_code == 403
    staff_client.post(reverse(PURCHASES), {"action": "refund_unused", "_selected_action": [purchase.pk]})
    purchase.refresh_from_db()
    assert purchase.status == "refunded" and purchase.refunded > 0
    assert Refund.objects.get(payment__purchase=purchase).amount == purchase.refunded
    assert ledger.balance(ledger.deferred_account(purchase.pk)) == 0


def test_staff_without_the_products_permissions_get_403(client):
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import STAFF_TOTP_SECRET
    from tests.factories import StaffFactory

    plain = StaffFactory(is_superuser=False)
    TOTP.activate(plain, STAFF_TOTP_SECRET)  # staff without two-factor are sent to set it up first
    client.force_login(plain)
    assert client.get(reverse(PURCHASES)).status_code == 403
    assert client.get(reverse("admin:products_package_changelist")).status_code == 403
    assert Purchase.objects.count() == 0
