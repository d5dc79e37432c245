"""The payment pages: status (polls only while waiting), receipt, manual-refund bank details, companion
earnings (forms keep what was typed; query counts do not grow with the history)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services as booking_services
from payments import services
from payments.gateways.simulator import SimulatorGateway
from payments.models import Payout, Refund
from tests.bookings.helpers import START, make_companion
from tests.payments.helpers import accepted, accepted_on_the_real_clock, paid

pytestmark = pytest.mark.django_db


def test_the_status_page_polls_while_waiting_and_stops_when_paid(client):
    booking = accepted_on_the_real_clock()
    payment = services.payment_checkout(booking_id=booking.pk, actor=booking.customer, finish_url="http://testserver/")
    gateway = SimulatorGateway()
    gateway.act(payment.order_id, "pending_va")
    client.force_login(booking.customer)
    url = reverse("payments:status", args=[booking.reference])
    waiting = client.get(url)
    assert waiting.context["waiting"] is True
    assert 'hx-trigger="every 5s' in waiting.content.decode()
    # The money arrives: the next poll answers the final state without the trigger (polling stops).
    services.payment_apply_notification(payload=gateway.act(payment.order_id, "pay_va"), raw_body="{}")
    done = client.get(url, headers={"HX-Request": "true"})
    assert done.context["confirmed"] is True and done.context["waiting"] is False
    assert "hx-trigger" not in done.content.decode()
    assert done.content.decode().lstrip().startswith("<section")  # only the fragment


def test_the_receipt_has_the_invoice_number_and_the_breakdown(client):
    booking, payment = paid()
    client.force_login(booking.customer)
    page = client.get(reverse("payments:receipt", args=[booking.reference]))
    content = page.content.decode()
    assert payment.invoice_number in content
    assert "Rp\u00a0330.000" in content and "Rp\u00a030.000" in content  # total and service fee (Indonesian)
    assert "data-print" in content


def test_no_receipt_before_payment(client):
    booking = accepted()
    client.force_login(booking.customer)
    assert client.get(reverse("payments:receipt", args=[booking.reference])).status_code == 404


def test_manual_refund_bank_details_keep_what_was_typed_and_then_queue_the_transfer(client):
    booking, _payment = paid(method="pay_va")
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    client.force_login(booking.customer)
    url = reverse("payments:refund_details", args=[booking.reference, refund.pk])
    bad = client.post(url, {"bank": "bca", "account_number": "12-34", "holder_name": "Budi Santoso"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["account_number"]
    assert 'value="Budi Santoso"' in bad.content.decode()  # what was typed stays
    refund.refresh_from_db()
    assert refund.status == Refund.Status.NEEDS_DETAILS
    good = client.post(url, {"bank": "bca", "account_number": "1234 5678 90", "holder_name": "Budi Santoso"})
    assert good.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.account_number) == (Refund.Status.MANUAL_QUEUED, "1234567890")


@pytest.fixture
def earner():
    profile = make_companion()
    booking, _payment = paid(profile=profile)
    booking_services.bookings_sweep(now=booking.complete_after)
    return profile


def test_earnings_page_saves_the_bank_account_and_requests_a_payout(client, earner):
    client.force_login(earner.user)
    url = reverse("payments:earnings")
    page = client.get(url)
    assert page.context["balances"]["available"] == 240_000
    bad = client.post(url, {"bank-bank": "bca", "bank-account_number": "abc", "bank-holder_name": "Ayu Lestari"})
    assert bad.context["bank_form"].errors and 'value="Ayu Lestari"' in bad.content.decode()
    client.post(url, {"bank-bank": "bca", "bank-account_number": "0123456789", "bank-holder_name": "Ayu Lestari"})
    too_much = client.post(url, {"payout-amount": "300.000"})
    assert too_much.context["payout_form"].errors["amount"]
    assert 'value="300.000"' in too_much.content.decode()
    assert client.post(url, {"payout-amount": "Rp 150.000"}).status_code == 302
    payout = Payout.objects.get()
    assert (payout.amount, payout.status, payout.account_number) == (150_000, "requested", "0123456789")
    page = client.get(url)
    assert page.context["open_payout"] is True and page.context["balances"]["available"] == 90_000


def test_earnings_page_queries_stay_constant_as_history_grows(client, earner, django_assert_max_num_queries, staff):
    services.bank_account_save(profile=earner, bank="bni", account_number="0123456789", holder_name="Ayu")
    client.force_login(earner.user)
    url = reverse("payments:earnings")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for extra_day in range(1, 4):  # three more completed bookings and paid payouts
        booking, _payment = paid(profile=earner, start=START + timedelta(days=extra_day))
        booking_services.bookings_sweep(now=booking.complete_after)
        payout = services.payout_request(profile=earner, amount=50_000)
        services.payout_approve(payout_id=payout.pk, actor=staff)
        services.payout_mark_paid(payout_id=payout.pk, actor=staff, reference=f"TRF-{extra_day:04d}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get(url)
    assert len(page.context["payouts"]) == 3


def test_the_csp_lets_the_pay_form_redirect_to_snap_and_nowhere_else(client):
    """Browsers apply form-action to the redirect after "Pay": Midtrans' Snap origin must be allowed."""
    booking = accepted_on_the_real_clock()
    client.force_login(booking.customer)
    policy = client.get(reverse("bookings:detail", args=[booking.reference]))["Content-Security-Policy"]
    assert "form-action 'self' https://app.sandbox.midtrans.com;" in policy + ";"


HOSTILE_QUERIES = [
    "edit=%00",
    "edit=bank%00",
    "edit=BANK",
    "edit=" + "x" * 5000,
    "edit=bank&edit=payout",
    "page=99999999999999999999",
    "page=-1",
    "hours=13",
    "date=2026-02-31",
    "action=pay_qris",
    "reference[]=x",
    "%ff%fe=%c0",
]


def test_every_payment_page_ignores_a_hostile_query_string(client, earner):
    """The payment pages read one query parameter (?edit=bank on earnings); every other one, and every
    bad value of that one, is dropped: the page is exactly as without it, never a 500."""
    booking, payment = paid(method="pay_va", profile=earner)
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    customer_pages = [
        reverse("payments:status", args=[booking.reference]),
        reverse("payments:receipt", args=[booking.reference]),
        reverse("payments:refund_details", args=[booking.reference, refund.pk]),
        reverse("payments:simulator", args=[payment.order_id]),
    ]
    client.force_login(booking.customer)
    for url in customer_pages:
        assert client.get(url).status_code == 200, url
        for query in HOSTILE_QUERIES:
            assert client.get(f"{url}?{query}").status_code == 200, (url, query)
    client.force_login(earner.user)
    earnings = reverse("payments:earnings")
    assert client.get(earnings).context["editing_bank"] is True  # no bank account yet: the form is open
    services.bank_account_save(profile=earner, bank="bni", account_number="0123456789", holder_name="Ayu")
    assert client.get(earnings).context["editing_bank"] is False
    assert client.get(f"{earnings}?edit=bank").context["editing_bank"] is True
    for query in HOSTILE_QUERIES:
        page = client.get(f"{earnings}?{query}")
        assert page.status_code == 200, query
        assert page.context["editing_bank"] is False, query
